package io.warren.core;

import io.warren.api.ChannelTracker;
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
    /** For each queue.declare awaiting its declare-ok, whether it declared an exclusive queue. */
    final ArrayDeque<Boolean> pendingQueueDeclares = new ArrayDeque<>(0);
    /** Consumer tags the client chose on this channel: RabbitMQ kills the connection when one is reused. */
    final java.util.Set<String> consumerTags = new java.util.HashSet<>(0);
    /** tx.commit sent, commit-ok not yet seen: RabbitMQ kills the connection for any other method meanwhile. */
    boolean txCommitPending;
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

    boolean isUsable() {
        return state == State.OPENING || state == State.OPEN;
    }

    @Override
    public String toString() {
        return "channel " + clientChannel + " -> upstream " + upstream.id() + "/" + upstreamChannel + " " + state;
    }
}
