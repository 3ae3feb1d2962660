package io.warren.core.internal.upstream;

import io.warren.api.PoolKey;

/**
 * The record of which logins the broker accepted, as upstream connections report it (the pool layer keeps it and
 * vouches for clients with it). Any thread.
 */
public interface Logins {
    /** The broker accepted this login (it tuned the connection): the password is good. */
    void proven(PoolKey loginKey);

    /** The broker closed a connection of this login (a deleted user's, for one): it must be proven afresh. */
    void forget(PoolKey loginKey);
}
