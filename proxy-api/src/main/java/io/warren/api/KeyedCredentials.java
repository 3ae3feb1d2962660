package io.warren.api;

import java.util.Objects;

/**
 * The result of {@link CredentialKeyer#key}: which pool a client belongs to and how that pool authenticates upstream.
 * Two results with equal {@link #key()} must carry equal {@link #upstream()} credentials.
 */
public record KeyedCredentials(PoolKey key, UpstreamCredentials upstream) {
    public KeyedCredentials {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(upstream, "upstream");
    }
}
