package io.warren.core.internal.client;

import io.warren.api.ChannelReusePolicy;
import io.warren.api.CredentialKeyer;
import io.warren.api.transport.Connection;
import io.warren.core.config.ProxyConfig;
import io.warren.core.internal.limits.ClientAdmission;
import io.warren.core.internal.limits.MessageBudget;
import io.warren.core.internal.limits.SlowClientBudget;
import io.warren.core.internal.limits.VhostPauses;
import io.warren.core.internal.pool.LoginProofs;
import io.warren.core.internal.pool.UpstreamPools;
import io.warren.core.internal.stats.EngineStats;
import io.warren.core.internal.upstream.Cluster;
import io.warren.core.internal.upstream.ExchangeTypeProbe;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What every client session shares: the configuration, the SPIs, the pools and login proofs, the budgets and
 * admission, the counters; and the registry of the sessions connected now. Thread-safe.
 */
public final class Clients {
    private final EngineStats stats;
    private final CredentialKeyer keyer;
    private final ChannelReusePolicy policy;
    private final Cluster cluster;
    private final UpstreamPools pools;
    private final LoginProofs logins;
    private final ExchangeTypeProbe exchangeTypes;
    private final ClientAdmission admission;
    private final MessageBudget messageBudget;
    private final SlowClientBudget slowClientBudget;
    private final VhostPauses pauses;
    private final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
    private final StartFrame start = new StartFrame();

    public Clients(ProxyConfig config, EngineStats stats, CredentialKeyer keyer, ChannelReusePolicy policy,
            Cluster cluster, UpstreamPools pools, LoginProofs logins, ClientAdmission admission) {
        this.stats = stats;
        this.keyer = keyer;
        this.policy = policy;
        this.cluster = cluster;
        this.pools = pools;
        this.logins = logins;
        this.exchangeTypes = new ExchangeTypeProbe(cluster);
        this.admission = admission;
        this.messageBudget = new MessageBudget(config.messageBuffer(), stats);
        this.slowClientBudget = new SlowClientBudget(config.slowClientBufferTotal(), stats);
        this.pauses = new VhostPauses(cluster.held());
    }

    /** A reload: the budgets and admission take the new limits (the cluster holds the configuration itself). */
    public void reconfigure(ProxyConfig next) {
        messageBudget.resize(next.messageBuffer());
        slowClientBudget.resize(next.slowClientBufferTotal());
        admission.setMaxConnections(next.maxConnections());
    }

    /** A session for a client the transport accepted, registered until it closes; on the connection's loop. */
    public ClientSession accept(Connection connection) {
        ClientSession session = new ClientSession(this, connection, admission.admit());
        sessions.add(session);
        return session;
    }

    void closed(ClientSession session) {
        sessions.remove(session);
    }

    /** The sessions connected now (a live view). */
    public Set<ClientSession> sessions() {
        return Collections.unmodifiableSet(sessions);
    }

    /** The configuration as last reloaded: read it at each use, never keep it. */
    ProxyConfig config() {
        return cluster.config();
    }

    /** The virtual hosts the operator paused. */
    public VhostPauses pauses() {
        return pauses;
    }

    EngineStats stats() {
        return stats;
    }

    CredentialKeyer keyer() {
        return keyer;
    }

    ChannelReusePolicy policy() {
        return policy;
    }

    UpstreamPools pools() {
        return pools;
    }

    LoginProofs logins() {
        return logins;
    }

    Cluster cluster() {
        return cluster;
    }

    ExchangeTypeProbe exchangeTypes() {
        return exchangeTypes;
    }

    public ClientAdmission admission() {
        return admission;
    }

    MessageBudget messageBudget() {
        return messageBudget;
    }

    SlowClientBudget slowClientBudget() {
        return slowClientBudget;
    }

    /**
     * connection.start as a frame of its own for one client (read-only): Warren's properties, with the capabilities
     * the broker really has (learned upstream).
     */
    ByteBuffer connectionStartFrame() {
        return start.frameFor(cluster.capabilities());
    }
}
