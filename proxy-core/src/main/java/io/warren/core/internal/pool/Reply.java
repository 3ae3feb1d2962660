package io.warren.core.internal.pool;

import io.warren.core.internal.upstream.ChannelOwner;
import io.warren.core.internal.upstream.UpstreamError;

/**
 * The answer to a request to the pools: {@link #ok} with what was asked for, or {@link #failed} with why not. Always
 * run on the requester's loop ({@link #ok(ChannelOwner, Reply, Object)} hands it there), never under a pool's lock.
 *
 * @param <T> what was asked for
 */
public interface Reply<T> {
    void ok(T value);

    void failed(UpstreamError error);

    /** Hands {@code reply.ok(value)} to {@code requester}'s loop. */
    static <T> void ok(ChannelOwner requester, Reply<T> reply, T value) {
        requester.loop().execute(() -> reply.ok(value));
    }

    /** Hands {@code reply.failed(error)} to {@code requester}'s loop. */
    static <T> void failed(ChannelOwner requester, Reply<T> reply, UpstreamError error) {
        requester.loop().execute(() -> reply.failed(error));
    }
}
