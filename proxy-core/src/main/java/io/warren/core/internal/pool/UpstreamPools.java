package io.warren.core.internal.pool;

import io.warren.api.KeyedCredentials;
import io.warren.api.PoolKey;
import io.warren.core.internal.upstream.Cluster;
import io.warren.core.internal.upstream.ChannelOwner;
import io.warren.core.internal.upstream.UpstreamChannel;
import io.warren.core.internal.upstream.UpstreamConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every pool of upstream connections, by pool key: what client sessions ask for connections and channels. Requests
 * that cannot be answered at once are answered through a {@link Reply} on the requester's loop.
 *
 * <p>Thread-safe: each pool has its own lock.
 */
public final class UpstreamPools {
    private final Cluster cluster;
    private final LoginProofs logins;
    private final ConcurrentHashMap<PoolKey, KeyPool> pools = new ConcurrentHashMap<>();

    public UpstreamPools(Cluster cluster, LoginProofs logins) {
        this.cluster = cluster;
        this.logins = logins;
    }

    LoginProofs logins() {
        return logins;
    }

    private KeyPool pool(KeyedCredentials keyed) {
        return pools.computeIfAbsent(keyed.key(), k -> new KeyPool(cluster, this, keyed));
    }

    /**
     * An upstream connection of {@code keyed}'s pool for a client whose login is proven: answered with the connection
     * it authenticated through (its first choice for channels). {@code parked} is the connection that proved the
     * login, if this client dialed one; {@code loginKey} is what a connection dialed for it must prove.
     */
    public void authenticate(KeyedCredentials keyed, String connectionName, PoolKey loginKey, ChannelOwner requester,
            UpstreamConnection parked, Reply<UpstreamConnection> reply) {
        Waiter<UpstreamConnection> waiter = new Waiter<>(requester, reply, loginKey);
        // A pool that was just forgotten may still be handed out once; retry with the fresh one.
        while (true) {
            KeyPool pool = pool(keyed);
            synchronized (pool) {
                if (pools.get(keyed.key()) == pool) {
                    pool.authenticate(waiter, connectionName, parked);
                    return;
                }
            }
        }
    }

    /**
     * A channel for a client: a scrubbed one from the pool ({@link UpstreamChannel}s lent are open upstream already)
     * or a new one, on {@code preferred} if it has room; null when every connection of the key is full.
     */
    public UpstreamChannel openChannel(KeyedCredentials keyed, UpstreamConnection preferred, ChannelOwner owner) {
        return pool(keyed).allocate(preferred, owner, false);
    }

    /** A new channel for Warren's own housekeeping (deleting a gone client's exclusive queues); null when full. */
    public UpstreamChannel openInternalChannel(KeyedCredentials keyed, UpstreamConnection preferred,
            ChannelOwner owner) {
        return pool(keyed).allocate(preferred, owner, true);
    }

    /**
     * A plain channel for a client: lent if one is idle; or a wait for the next scrub when the key has all the
     * channels it needs on their way back, or its scrubs take less than {@code maxWaitNanos}; or the client opens
     * one ({@link KeyPool#requestPlain}). A waiting client is answered through {@code reply} and gives up with
     * {@link #cancelScrubWait}.
     */
    public ChannelGrant requestPlain(KeyedCredentials keyed, ChannelOwner owner, Reply<UpstreamChannel> reply,
            long maxWaitNanos) {
        return pool(keyed).requestPlain(owner, reply, maxWaitNanos);
    }

    /** Gives up a scrub wait; true if it had not been served (the caller then opens a channel itself). */
    public boolean cancelScrubWait(KeyedCredentials keyed, ScrubWait wait) {
        return pool(keyed).cancelScrubWait(wait);
    }

    /** A scrubbed confirm-mode channel for a client that asked for confirm.select; null if none. */
    public UpstreamChannel lendConfirmChannel(KeyedCredentials keyed, ChannelOwner owner) {
        return pool(keyed).lendConfirmChannel(owner);
    }

    /** Waits for a channel on a new connection of the key (all current ones are full). */
    public void awaitChannel(KeyedCredentials keyed, PoolKey loginKey, ChannelOwner owner,
            Reply<UpstreamChannel> reply) {
        pool(keyed).awaitChannel(new Waiter<>(owner, reply, loginKey));
    }

    /** Scrubbed channels waiting to be lent, over every key. */
    public int idleChannels() {
        int n = 0;
        for (KeyPool pool : pools.values()) {
            n += pool.idleChannels();
        }
        return n;
    }

    /** The client no longer waits for anything from the key's pool. */
    public void cancelWaits(KeyedCredentials keyed, ChannelOwner owner) {
        KeyPool pool = pools.get(keyed.key());
        if (pool != null) {
            pool.cancelWaits(owner);
        }
    }

    /** A client of the key's pool is gone. */
    public void clientGone(KeyedCredentials keyed, ChannelOwner owner) {
        KeyPool pool = pools.get(keyed.key());
        if (pool != null) {
            pool.clientGone(owner);
        }
    }

    /** A client moved from this key to another (connection.update-secret); its channels here stay open. */
    public void clientLeft(KeyedCredentials keyed) {
        KeyPool pool = pools.get(keyed.key());
        if (pool != null) {
            pool.clientLeft();
        }
    }

    /** A client that moved away from this key is gone. */
    public void forgetMember(KeyedCredentials keyed, ChannelOwner owner) {
        KeyPool pool = pools.get(keyed.key());
        if (pool != null) {
            pool.forgetMember(owner);
        }
    }

    void forget(PoolKey key, KeyPool pool) {
        pools.remove(key, pool);
    }

    /** Every upstream connection (connecting or open), over every key. */
    public List<UpstreamConnection> connections() {
        List<UpstreamConnection> all = new ArrayList<>();
        for (KeyPool pool : pools.values()) {
            all.addAll(pool.connections());
        }
        return all;
    }

    /** Every pool key now, for the admin API. */
    public List<PoolSnapshot> snapshots() {
        List<PoolSnapshot> all = new ArrayList<>();
        for (KeyPool pool : pools.values()) {
            all.add(pool.snapshot());
        }
        return all;
    }

    /** Closes every connection (shutdown); clients still waiting are answered with 320. */
    public void closeAll() {
        for (KeyPool pool : pools.values()) {
            pool.closeAll();
        }
        pools.clear();
    }
}
