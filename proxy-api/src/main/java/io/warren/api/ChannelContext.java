package io.warren.api;

import java.util.Objects;

/**
 * Describes the client channel a {@link ChannelReusePolicy} is asked to track.
 *
 * @param key the pool the upstream channel belongs to
 * @param virtualHost the client's virtual host
 * @param username the client's user name
 * @param confirmMode whether the upstream channel was already in confirm mode when it was lent to this client
 */
public record ChannelContext(PoolKey key, String virtualHost, String username, boolean confirmMode) {
    public ChannelContext {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(virtualHost, "virtualHost");
        Objects.requireNonNull(username, "username");
    }
}
