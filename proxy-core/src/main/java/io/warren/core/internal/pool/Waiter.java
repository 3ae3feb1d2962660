package io.warren.core.internal.pool;

import io.warren.api.PoolKey;
import io.warren.core.internal.upstream.ChannelOwner;
import io.warren.core.internal.upstream.UpstreamError;

/**
 * A request the pools could not answer at once: who asked, where the answer goes, and the login key a connection
 * dialed for it must prove. Guarded by the lock of the pool that keeps it.
 */
record Waiter<T>(ChannelOwner requester, Reply<T> reply, PoolKey loginKey) {
    void ok(T value) {
        Reply.ok(requester, reply, value);
    }

    void failed(UpstreamError error) {
        Reply.failed(requester, reply, error);
    }
}
