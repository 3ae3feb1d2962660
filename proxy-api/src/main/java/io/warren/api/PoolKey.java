package io.warren.api;

import java.util.Objects;

/**
 * Identifies a pool of upstream connections. Clients whose credentials map to equal keys share upstream connections
 * and may be lent each other's scrubbed channels, so a key must distinguish everything that changes what the broker
 * lets a connection do (user, secret, virtual host...).
 *
 * @param id an opaque identifier; it appears in logs and metrics, so it must never contain a secret in clear
 *     (use a salted hash)
 */
public record PoolKey(String id) {
    public PoolKey {
        Objects.requireNonNull(id, "id");
    }

    @Override
    public String toString() {
        return id;
    }
}
