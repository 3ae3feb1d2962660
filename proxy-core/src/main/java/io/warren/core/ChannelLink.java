package io.warren.core;

import io.warren.api.ChannelTracker;
import io.warren.api.transport.EventLoop;
import java.util.ArrayDeque;

/**
 * One client channel mapped onto one upstream channel. All fields are owned by the client session's event loop:
 * the upstream loop only reads the final fields while routing, and hands every frame to that loop.
 */
final class ChannelLink {
    /** Where the channel is in its life; transitions are driven by the client session only. */
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
        /** The client is gone or done; we sent channel.close upstream and wait for close-ok to free the slot. */
        RELEASING,
        /**
         * The client is done and the policy allows reuse: waiting for its outstanding confirms and for the barrier
         * (basic.qos, which also resets prefetch) before the channel may be lent again.
         */
        SCRUBBING,
        /** Scrubbed and waiting in its pool key's idle pool; the next borrower gets a new link for the same slot. */
        IDLE,
        /** The upstream slot is free; the link is dead. */
        CLOSED
    }

    final ClientSession session;
    final int clientChannel;
    final UpstreamConnection upstream;
    final int upstreamChannel;
    final ChannelTracker tracker;

    State state = State.OPENING;
    /** Whether we sent channel.close upstream: then the broker's close-ok, not ours, frees the slot. */
    boolean closeSentUpstream;
    /** Whether we answered the broker's channel.close: it must be answered exactly once. */
    boolean closeOkSentUpstream;
    /** For each queue.declare awaiting its declare-ok, whether it declared an exclusive queue. */
    final ArrayDeque<Boolean> pendingQueueDeclares = new ArrayDeque<>(0);
    /** Consumer tags the client chose on this channel: RabbitMQ kills the connection when one is reused. */
    final java.util.Set<String> consumerTags = new java.util.HashSet<>(0);
    /** tx.commit sent, commit-ok not yet seen: RabbitMQ kills the connection for any other method meanwhile. */
    boolean txCommitPending;
    /** Whether the upstream channel is in confirm mode (confirm.select sent on it, by this client or an earlier). */
    boolean confirmMode;
    /** Publishes sent on the upstream channel since confirm.select, over every client it was lent to. */
    long publishSeq;
    /** Upstream delivery tags this client's confirms start after: the new client sees its own tags from 1. */
    long confirmTagOffset;
    /** Upstream tags of publishes not yet acked or nacked; null until the first confirm-mode publish. */
    java.util.TreeSet<Long> unconfirmed;
    /** Synchronous requests the client sent whose -ok has not come back (they precede the scrub barrier). */
    int pendingSync;
    /** -oks the scrub still waits for: the client's pending ones, then its own barrier. */
    int scrubOksNeeded;
    EventLoop.Cancellable scrubTimer;
    /** Taken from the idle pool rather than opened for this client. */
    boolean lent;
    /** The client declared a queue on this lend: RabbitMQ's "last declared queue" shortcut is its own. */
    boolean declaredQueue;
    /** Nothing was sent on the channel yet by this client (it may still be swapped for a confirm-mode one). */
    boolean untouched = true;
    long idleSinceNanos;
    /** The message being assembled when it could not stay inline in the session's output. */
    final MessageAssembly message = new MessageAssembly();

    ChannelLink(ClientSession session, int clientChannel, UpstreamConnection upstream, int upstreamChannel,
            ChannelTracker tracker) {
        this.session = session;
        this.clientChannel = clientChannel;
        this.upstream = upstream;
        this.upstreamChannel = upstreamChannel;
        this.tracker = tracker;
    }

    /** Records a confirm-mode publish; returns its upstream delivery tag. */
    long recordPublish() {
        if (unconfirmed == null) {
            unconfirmed = new java.util.TreeSet<>();
        }
        publishSeq++;
        unconfirmed.add(publishSeq);
        return publishSeq;
    }

    /** basic.ack or basic.nack from the broker for upstream tag {@code tag}. */
    void confirmed(long tag, boolean multiple) {
        if (unconfirmed == null) {
            return;
        }
        if (multiple) {
            unconfirmed.headSet(tag, true).clear();
        } else {
            unconfirmed.remove(tag);
        }
    }

    boolean hasUnconfirmed() {
        return unconfirmed != null && !unconfirmed.isEmpty();
    }

    boolean isUsable() {
        return state == State.OPENING || state == State.OPEN;
    }

    @Override
    public String toString() {
        return "channel " + clientChannel + " -> upstream " + upstream.id() + "/" + upstreamChannel + " " + state;
    }
}
