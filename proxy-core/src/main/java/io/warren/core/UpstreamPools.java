package io.warren.core;

import io.warren.api.KeyedCredentials;
import io.warren.api.PoolKey;
import io.warren.api.transport.EventLoop;
import io.warren.codec.ReplyCode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Every {@link KeyPool}, by key. Thread-safe; each pool has its own lock. */
final class UpstreamPools {
    private final ProxyEngine engine;
    private final ConcurrentHashMap<PoolKey, KeyPool> pools = new ConcurrentHashMap<>();

    UpstreamPools(ProxyEngine engine) {
        this.engine = engine;
    }

    private KeyPool pool(KeyedCredentials keyed) {
        return pools.computeIfAbsent(keyed.key(), k -> new KeyPool(engine, keyed));
    }

    void authenticate(KeyedCredentials keyed, String connectionName, ClientSession session,
            UpstreamConnection parked) {
        // A pool that was just forgotten may still be handed out once; retry with the fresh one.
        while (true) {
            KeyPool pool = pool(keyed);
            synchronized (pool) {
                if (pools.get(keyed.key()) == pool) {
                    pool.authenticate(session, connectionName, parked);
                    return;
                }
            }
        }
    }

    // ---------------------------------------------------------------- logins (before the virtual host is known)

    /** Clients waiting for one upstream login to be proven; the first one gets the parked connection. */
    static final class LoginAttempt {
        final PoolKey loginKey;
        final List<ClientSession> waiters = new ArrayList<>(1);

        LoginAttempt(PoolKey loginKey) {
            this.loginKey = loginKey;
        }
    }

    /** Guarded by itself: logins under way, by login key. */
    private final Map<PoolKey, LoginAttempt> attempts = new HashMap<>();
    /** When each login was last accepted by the broker. */
    private final ConcurrentHashMap<PoolKey, Long> proven = new ConcurrentHashMap<>();
    /** Guarded by attempts: the last failure per login key and until when new clients are refused at once. */
    private final Map<PoolKey, UpstreamError> loginErrors = new HashMap<>();
    private final Map<PoolKey, Long> loginRetryAt = new HashMap<>();
    private final Map<PoolKey, Integer> loginFailures = new HashMap<>();

    void loginProven(PoolKey loginKey) {
        proven.put(loginKey, System.nanoTime());
    }

    /**
     * The broker closed a connection of this login (a deleted user's connections are closed with 320, for one):
     * the next client with these credentials logs in upstream again instead of being vouched for.
     */
    void forgetProof(PoolKey loginKey) {
        proven.remove(loginKey);
    }

    /**
     * Whether the broker accepted this login within the re-authentication interval. Past half the interval, the
     * login is proven again in the background, so that no client of a key in use waits for an upstream login when
     * the proof runs out; a proof still never vouches for longer than the interval, and a refused one is dropped.
     */
    boolean vouchFor(KeyedCredentials loginKeyed, String connectionName, EventLoop loop) {
        PoolKey key = loginKeyed.key();
        Long at = proven.get(key);
        if (at == null) {
            return false;
        }
        long age = System.nanoTime() - at;
        long interval = engine.config().reauthInterval().toNanos();
        if (age >= interval) {
            return false;
        }
        if (age >= interval / 2) {
            synchronized (attempts) {
                if (!attempts.containsKey(key)) {
                    LoginAttempt refresh = new LoginAttempt(key);
                    attempts.put(key, refresh);
                    engine.stats().upstreamLoginStarted("refresh");
                    new UpstreamConnection(engine, key, loginKeyed.upstream(), refresh, loop, connectionName).start();
                }
            }
        }
        return true;
    }

    /**
     * Proves a client's login against the broker before Warren tunes the client, so that a wrong password fails
     * where it fails against the broker itself. Answered on the client's loop by loginSucceeded or upstreamFailed.
     */
    void login(KeyedCredentials loginKeyed, String connectionName, ClientSession session) {
        PoolKey key = loginKeyed.key();
        UpstreamError refuse = null;
        synchronized (attempts) {
            if (vouchFor(loginKeyed, connectionName, session.loop())) {
                session.loop().execute(() -> session.loginSucceeded(null));
                return;
            }
            LoginAttempt running = attempts.get(key);
            if (running != null) {
                running.waiters.add(session);
                return;
            }
            Long retryAt = loginRetryAt.get(key);
            long now = System.nanoTime();
            if (retryAt != null && now < retryAt) {
                refuse = loginErrors.get(key).backingOff(retryAt - now); // failed moments ago: do not storm it
            } else {
                LoginAttempt attempt = new LoginAttempt(key);
                attempt.waiters.add(session);
                attempts.put(key, attempt);
                engine.stats().upstreamLoginStarted("client");
                new UpstreamConnection(engine, key, loginKeyed.upstream(), attempt, session.loop(), connectionName)
                        .start();
                return;
            }
        }
        UpstreamError error = refuse;
        session.loop().execute(() -> session.upstreamFailed(error));
    }

    /** The login of {@code attempt} ended: with a parked connection, or with an error. */
    void loginFinished(LoginAttempt attempt, UpstreamConnection parked, UpstreamError error) {
        List<ClientSession> waiters;
        synchronized (attempts) {
            attempts.remove(attempt.loginKey, attempt);
            waiters = List.copyOf(attempt.waiters);
            attempt.waiters.clear();
            if (error == null) {
                loginFailures.remove(attempt.loginKey);
                loginErrors.remove(attempt.loginKey);
                loginRetryAt.remove(attempt.loginKey);
            } else if (error.code() == ReplyCode.ACCESS_REFUSED.code()) {
                proven.remove(attempt.loginKey); // the password changed or the user is gone: vouch no more
            } else {
                // Only an unreachable or failing broker is backed off; a wrong password is answered each time.
                int failures = loginFailures.merge(attempt.loginKey, 1, Integer::sum);
                long backoff = Math.min(5_000_000_000L, 100_000_000L << Math.min(failures - 1, 6));
                loginRetryAt.put(attempt.loginKey, System.nanoTime() + backoff);
                loginErrors.put(attempt.loginKey, error);
            }
        }
        boolean first = true;
        for (ClientSession session : waiters) {
            if (error != null) {
                session.loop().execute(() -> session.upstreamFailed(error));
            } else {
                UpstreamConnection mine = first ? parked : null;
                session.loop().execute(() -> session.loginSucceeded(mine));
            }
            first = false;
        }
        if (error == null && waiters.isEmpty()) {
            parked.abandon();
        }
    }

    ChannelLink openChannel(KeyedCredentials keyed, UpstreamConnection preferred, ClientSession session,
            int clientChannel) {
        return pool(keyed).allocate(preferred, session, clientChannel, false);
    }

    /** A channel for Warren's own housekeeping (deleting a gone client's exclusive queues). */
    ChannelLink openInternalChannel(KeyedCredentials keyed, UpstreamConnection preferred, ClientSession session) {
        return pool(keyed).allocate(preferred, session, 0, true);
    }

    ChannelLink lendIdle(KeyedCredentials keyed, ClientSession session, int clientChannel) {
        return pool(keyed).lendIdle(session, clientChannel);
    }

    KeyPool.ScrubWaiter awaitScrub(KeyedCredentials keyed, ClientSession session, int clientChannel) {
        return pool(keyed).awaitScrub(session, clientChannel);
    }

    boolean cancelScrubWait(KeyedCredentials keyed, KeyPool.ScrubWaiter w) {
        return pool(keyed).cancelScrubWait(w);
    }

    void scrubStarted(KeyedCredentials keyed, ChannelLink link) {
        pool(keyed).scrubStarted(link);
    }

    void scrubEnded(KeyedCredentials keyed, ChannelLink link) {
        KeyPool pool = pools.get(keyed.key());
        if (pool != null) {
            pool.scrubEnded(link);
        }
    }

    ChannelLink lendConfirmChannel(KeyedCredentials keyed, ClientSession session, int clientChannel) {
        return pool(keyed).lendConfirmChannel(session, clientChannel);
    }

    boolean offerIdle(KeyedCredentials keyed, ChannelLink link) {
        KeyPool pool = pools.get(keyed.key());
        return pool != null && pool.offerIdle(link);
    }

    /** Scrubbed channels waiting to be lent, over every key. */
    int idleChannels() {
        int n = 0;
        for (KeyPool pool : pools.values()) {
            n += pool.idleChannels();
        }
        return n;
    }

    void awaitChannel(KeyedCredentials keyed, ClientSession session, int clientChannel) {
        pool(keyed).awaitChannel(session, clientChannel);
    }

    void cancelWaits(KeyedCredentials keyed, ClientSession session) {
        KeyPool pool = pools.get(keyed.key());
        if (pool != null) {
            pool.cancelWaits(session);
        }
    }

    void clientGone(KeyedCredentials keyed, ClientSession session) {
        KeyPool pool = pools.get(keyed.key());
        if (pool != null) {
            pool.clientGone(session);
        }
    }

    /** A client moved from this key to another (connection.update-secret); its channels here stay open. */
    void clientLeft(KeyedCredentials keyed) {
        KeyPool pool = pools.get(keyed.key());
        if (pool != null) {
            pool.clientLeft();
        }
    }

    /** A client that moved away from this key is gone. */
    void forgetMember(KeyedCredentials keyed, ClientSession session) {
        KeyPool pool = pools.get(keyed.key());
        if (pool != null) {
            pool.forgetMember(session);
        }
    }

    void forget(PoolKey key, KeyPool pool) {
        pools.remove(key, pool);
    }

    List<UpstreamConnection> connections() {
        List<UpstreamConnection> all = new ArrayList<>();
        for (KeyPool pool : pools.values()) {
            all.addAll(pool.connections());
        }
        return all;
    }

    void closeAll() {
        for (KeyPool pool : pools.values()) {
            pool.closeAll();
        }
        pools.clear();
    }
}
