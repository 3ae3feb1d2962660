package io.warren.core.internal.upstream;

import io.warren.api.transport.EventLoop;
import java.nio.ByteBuffer;

/**
 * Whoever holds upstream channels at the moment: a client session while it uses them, a {@link Scrubber} once one
 * is returned. The upstream side reaches the holder of a channel only through this interface, and every call is
 * handed to {@link #loop()} first.
 */
public interface ChannelOwner {
    /** The event loop every call below runs on. */
    EventLoop loop();

    /** Frames the broker sent on this owner's channels, channel numbers already rewritten to the owner's. */
    void deliver(UpstreamBatch batch);

    /** {@code upstream} died or the broker closed it; this owner holds channels on it or authenticated through it. */
    default void upstreamClosed(UpstreamConnection upstream, UpstreamError error) {}

    /** connection.blocked or unblocked from an upstream connection this owner uses: the encoded frame. */
    default void upstreamBlocked(ByteBuffer frame) {}

    /** An upstream connection whose full write queue this owner waited on has drained. */
    default void upstreamWritable() {}

    /** Whether this owner is a client (not a scrubber): the admin API counts the clients of a connection. */
    default boolean isClient() {
        return false;
    }
}
