package io.warren.core.internal.client;

import io.warren.api.ChannelTracker;
import io.warren.core.internal.screen.ChannelRules;
import io.warren.core.internal.screen.ContentSequence;
import io.warren.core.internal.upstream.ChannelHolder;
import io.warren.core.internal.upstream.ChannelOwner;
import io.warren.core.internal.upstream.Scrubber;
import io.warren.core.internal.upstream.UpstreamChannel;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * One client channel held on one upstream channel: the client's side of it (its number, what it did, the message it
 * is sending). Owned by the client session's loop; frames from the broker are routed to it as a {@link ChannelHolder}
 * and handed to that loop.
 */
final class ChannelLink implements ChannelHolder {
    /** Where the client's channel is in its life; driven by the client session only. */
    enum State {
        /** channel.open sent upstream, open-ok not yet seen. */
        OPENING,
        OPEN,
        /** The client sent channel.close; we forwarded it and wait for the broker's close-ok. */
        CLIENT_CLOSING,
        /** The broker sent channel.close; forwarded to the client, waiting for its close-ok. */
        SERVER_CLOSING,
        /** Warren closed the client's channel itself (e.g. message too large); waiting for the client's close-ok. */
        LOCAL_CLOSING,
        /** The client is done with it: the upstream channel belongs to {@link #returnedTo} now. */
        RETURNED,
        /** The upstream slot is free; the link is dead. */
        CLOSED
    }

    final ClientSession session;
    final int clientChannel;
    final UpstreamChannel upstream;
    final ChannelTracker tracker;

    State state = State.OPENING;
    /** The scrubber that took the upstream channel over when the client let go of it. */
    Scrubber returnedTo;
    /** The content sequence the client is sending on this channel. */
    final ContentSequence content = new ContentSequence();
    /**
     * The method frame (upstream channel number) of a message that left the session's output before its header
     * arrived; a few hundred bytes at most. Null otherwise.
     */
    ByteBuffer pendingMethod;
    /** The message, once it is held in its exact-size layout until its last frame (with its reservation). */
    HeldMessage held;
    /** When the held message began or last got body bytes (System.nanoTime). */
    long heldProgressNanos;
    /** For each queue.declare awaiting its declare-ok, whether it declared an exclusive queue. */
    final ArrayDeque<Boolean> pendingQueueDeclares = new ArrayDeque<>(0);
    /** Consumer tags and tx.commit in flight: RabbitMQ closes the connection when they are misused. */
    final ChannelRules rules = new ChannelRules();
    /** Upstream delivery tags this client's confirms start after: a borrower sees its own tags from 1. */
    long confirmTagOffset;
    /** Synchronous requests the client sent whose -ok has not come back (they precede the scrub barrier). */
    int pendingSync;
    /** Taken from the idle pool rather than opened for this client. */
    boolean lent;
    /** The client declared a queue on this lend: RabbitMQ's "last declared queue" shortcut is its own. */
    boolean declaredQueue;
    /** Nothing was sent on the channel yet by this client (it may still be swapped for a confirm-mode one). */
    boolean untouched = true;

    ChannelLink(ClientSession session, int clientChannel, UpstreamChannel upstream, ChannelTracker tracker) {
        this.session = session;
        this.clientChannel = clientChannel;
        this.upstream = upstream;
        this.tracker = tracker;
    }

    @Override
    public ChannelOwner owner() {
        return session;
    }

    @Override
    public int ownerChannel() {
        return clientChannel;
    }

    /** Whether the client may use the channel: frames it sends go upstream, frames from the broker reach it. */
    boolean isUsable() {
        return state == State.OPENING || state == State.OPEN;
    }

    /** Whether a message is under way on the channel (its method arrived, its last body frame not yet). */
    boolean messageInProgress() {
        return content.inProgress();
    }

    /** Drops the message under way, if any, and returns its reservation: nothing of it went upstream. */
    void resetMessage() {
        content.reset();
        pendingMethod = null;
        if (held != null) {
            held.release(); // every path that drops or completes a held message returns its bytes
            held = null;
        }
    }

    /** The upstream channel is handed to {@code scrubber}: frames still routed here go on to it. */
    void returned(Scrubber scrubber) {
        state = State.RETURNED;
        returnedTo = scrubber;
    }

    @Override
    public String toString() {
        return "channel " + clientChannel + " -> " + upstream + " " + state;
    }
}
