package io.warren.core.internal.pool;

import io.warren.core.internal.upstream.UpstreamChannel;

/** What a client that asked its key's pool for a plain channel gets ({@link UpstreamPools#requestPlain}). */
public sealed interface ChannelGrant {
    /** Opening a new upstream channel is the client's to do. */
    ChannelGrant OPEN_NEW = new OpenNew();

    /** A scrubbed channel, now the client's. */
    record Lent(UpstreamChannel channel) implements ChannelGrant { }

    /** The client waits for the next scrub to finish, and gives up with {@link UpstreamPools#cancelScrubWait}. */
    record AwaitScrub(ScrubWait scrubWait) implements ChannelGrant { }

    /** No channel is ready and the key may have one more: the client opens it. */
    record OpenNew() implements ChannelGrant { }
}
