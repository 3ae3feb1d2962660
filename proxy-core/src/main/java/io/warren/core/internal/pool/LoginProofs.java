package io.warren.core.internal.pool;

import io.warren.api.KeyedCredentials;
import io.warren.api.PoolKey;
import io.warren.api.transport.EventLoop;
import io.warren.codec.ReplyCode;
import io.warren.core.internal.limits.Backoff;
import io.warren.core.internal.upstream.Cluster;
import io.warren.core.internal.upstream.Node;
import io.warren.core.internal.upstream.ChannelOwner;
import io.warren.core.internal.upstream.LoginAttempt;
import io.warren.core.internal.upstream.Logins;
import io.warren.core.internal.upstream.UpstreamConnection;
import io.warren.core.internal.upstream.UpstreamError;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which logins the broker accepted and when, the logins under way, and the backoff of logins the broker could not
 * judge. A client's login (its credentials without the virtual host: what the broker checks at start-ok) is proven
 * before Warren tunes it, so a wrong password fails where it fails against the broker itself (DESIGN.md invariant 2);
 * a proof vouches for later clients for {@code reauth-interval}.
 *
 * <p>Thread-safe: {@link #attempts}' lock guards the attempts and backoffs; the proofs are a concurrent map. Replies
 * are handed to their clients' loops.
 */
public final class LoginProofs implements Logins {
    private final Cluster cluster;
    /** Guarded by itself: logins under way, by login key. */
    private final Map<PoolKey, Attempt> attempts = new HashMap<>();
    /** When each login was last accepted by the broker. */
    private final ConcurrentHashMap<PoolKey, Long> proven = new ConcurrentHashMap<>();
    /** Guarded by attempts: logins the broker could not be asked about, and until when new clients are refused. */
    private final Map<PoolKey, Backoff<UpstreamError>> backoffs = new HashMap<>();

    public LoginProofs(Cluster cluster) {
        this.cluster = cluster;
    }

    /** Clients waiting for one upstream login to be proven; the first one gets the parked connection. */
    private final class Attempt implements LoginAttempt {
        final PoolKey loginKey;
        final KeyedCredentials login;
        final List<Waiter<UpstreamConnection>> waiters = new ArrayList<>(1);
        String connectionName;

        Attempt(PoolKey loginKey, KeyedCredentials login) {
            this.loginKey = loginKey;
            this.login = login;
        }

        @Override
        public void finished(UpstreamConnection parked, UpstreamError error, boolean nodeFault) {
            loginFinished(this, parked, error, nodeFault);
        }
    }

    @Override
    public void proven(PoolKey loginKey) {
        proven.put(loginKey, System.nanoTime());
    }

    @Override
    public void forget(PoolKey loginKey) {
        proven.remove(loginKey);
    }

    /**
     * Whether the broker accepted this login within the re-authentication interval. Past half the interval, the
     * login is proven again in the background, so that no client of a key in use waits for an upstream login when
     * the proof runs out; a proof still never vouches for longer than the interval, and a refused one is dropped.
     */
    public boolean vouchFor(KeyedCredentials loginKeyed, String connectionName, EventLoop loop) {
        PoolKey key = loginKeyed.key();
        Long at = proven.get(key);
        if (at == null) {
            return false;
        }
        long age = System.nanoTime() - at;
        long interval = cluster.config().reauthInterval().toNanos();
        if (age >= interval) {
            return false;
        }
        if (age >= interval / 2) {
            synchronized (attempts) {
                Node node = attempts.containsKey(key) ? null : cluster.choose(List.of());
                if (node != null) {
                    Attempt refresh = new Attempt(key, loginKeyed);
                    attempts.put(key, refresh);
                    cluster.stats().upstreamLoginStarted("refresh");
                    new UpstreamConnection(cluster, node, key, loginKeyed.upstream(), this, refresh, loop,
                            connectionName).start();
                }
            }
        }
        return true;
    }

    /**
     * Proves a client's login against the broker before Warren tunes the client. Answered on the client's loop: ok
     * with the connection that proved it (parked before its virtual host, for this client to use) or null when a
     * proof vouched for it or another client got that connection; failed when refused or the broker is unreachable.
     */
    public void login(KeyedCredentials loginKeyed, String connectionName, ChannelOwner requester,
            Reply<UpstreamConnection> reply) {
        PoolKey key = loginKeyed.key();
        UpstreamError refuse = null;
        synchronized (attempts) {
            if (vouchFor(loginKeyed, connectionName, requester.loop())) {
                Reply.ok(requester, reply, null);
                return;
            }
            Attempt running = attempts.get(key);
            if (running != null) {
                running.waiters.add(new Waiter<>(requester, reply, key));
                return;
            }
            Backoff<UpstreamError> backoff = backoffs.get(key);
            long now = System.nanoTime();
            if (backoff != null && backoff.waiting(now)) {
                // Failed moments ago: do not storm it.
                refuse = backoff.lastFailure().backingOff(backoff.nanosLeft(now));
            } else {
                Attempt attempt = new Attempt(key, loginKeyed);
                attempt.waiters.add(new Waiter<>(requester, reply, key));
                if (dial(attempt, requester.loop(), connectionName)) {
                    attempts.put(key, attempt);
                    cluster.stats().upstreamLoginStarted("client");
                    return;
                }
                refuse = cluster.noNodeUp(); // no node to ask: held or answered by the client's handshake
            }
        }
        Reply.failed(requester, reply, refuse);
    }

    /** Dials a connection for {@code attempt} to the node of choice; false when no node is up. */
    private boolean dial(Attempt attempt, EventLoop loop, String connectionName) {
        Node node = cluster.choose(List.of());
        if (node == null) {
            return false;
        }
        attempt.connectionName = connectionName;
        new UpstreamConnection(cluster, node, attempt.loginKey, attempt.login.upstream(), this, attempt, loop,
                connectionName).start();
        return true;
    }

    /** The login of {@code attempt} ended: with a parked connection, or with an error. */
    private void loginFinished(Attempt attempt, UpstreamConnection parked, UpstreamError error,
            boolean nodeFault) {
        List<Waiter<UpstreamConnection>> waiters;
        synchronized (attempts) {
            if (error != null && nodeFault && !attempt.waiters.isEmpty()
                    && dial(attempt, attempt.waiters.get(0).requester().loop(), attempt.connectionName)) {
                return; // its node went down: the next node is asked, the clients wait on
            }
            attempts.remove(attempt.loginKey, attempt);
            waiters = List.copyOf(attempt.waiters);
            attempt.waiters.clear();
            if (error == null) {
                backoffs.remove(attempt.loginKey);
            } else if (error.code() == ReplyCode.ACCESS_REFUSED.code()) {
                proven.remove(attempt.loginKey); // the password changed or the user is gone: vouch no more
            } else if (!nodeFault) {
                // A broker that fails logins for another reason is backed off; a wrong password is answered each
                // time, and a node that is down is the cluster's to probe.
                backoffs.computeIfAbsent(attempt.loginKey, k -> new Backoff<>()).failed(error, System.nanoTime());
            }
        }
        boolean first = true;
        for (Waiter<UpstreamConnection> w : waiters) {
            if (error != null) {
                w.failed(error);
            } else {
                w.ok(first ? parked : null);
            }
            first = false;
        }
        if (error == null && waiters.isEmpty()) {
            parked.abandon();
        }
    }
}
