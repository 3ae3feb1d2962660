package io.warren.core;

import io.warren.api.ChannelReusePolicy;
import io.warren.api.CredentialKeyer;
import io.warren.api.transport.EventLoop;
import io.warren.api.transport.Listener;
import io.warren.api.transport.NetworkRuntime;
import io.warren.api.transport.ProxyProtocol;
import io.warren.api.transport.TlsConfigException;
import io.warren.api.transport.TlsStats;
import io.warren.api.transport.Transport;
import io.warren.api.transport.TransportSettings;
import io.warren.core.admin.ClientView;
import io.warren.core.admin.PoolView;
import io.warren.core.admin.Reconfiguration;
import io.warren.core.admin.UpstreamView;
import io.warren.core.config.ProxyConfig;
import io.warren.core.internal.client.ClientSession;
import io.warren.core.internal.client.Clients;
import io.warren.core.internal.limits.ClientAdmission;
import io.warren.core.internal.pool.LoginProofs;
import io.warren.core.internal.pool.PoolSnapshot;
import io.warren.core.internal.pool.UpstreamPools;
import io.warren.core.internal.stats.EngineStats;
import io.warren.core.internal.upstream.Cluster;
import io.warren.core.internal.upstream.Node;
import io.warren.core.internal.upstream.UpstreamConnection;
import io.warren.core.internal.wire.PeerProperties;
import io.warren.core.stats.NodeStatus;
import io.warren.core.stats.ProxyStats;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Warren proxy: a listener for AMQP clients (plain, TLS or both) and the pools of upstream connections
 * behind it.
 *
 * <pre>{@code
 * WarrenProxy proxy = WarrenProxy.start(config, transport, TransportSettings.defaults(), keyer, policy);
 * ...
 * proxy.close();
 * }</pre>
 */
public final class WarrenProxy implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WarrenProxy.class);

    private final EngineStats stats;
    private final Cluster cluster;
    private final UpstreamPools pools;
    private final Clients clients;
    private final NetworkRuntime runtime;
    private final Listener listener;
    private final Listener tlsListener;
    private volatile boolean accepting = true;
    private volatile boolean closed;

    private WarrenProxy(EngineStats stats, Cluster cluster, UpstreamPools pools, Clients clients,
            NetworkRuntime runtime, Listener listener, Listener tlsListener) {
        this.stats = stats;
        this.cluster = cluster;
        this.pools = pools;
        this.clients = clients;
        this.runtime = runtime;
        this.listener = listener;
        this.tlsListener = tlsListener;
    }

    /**
     * Starts the transport and listens.
     *
     * @throws IOException when the transport cannot start or the listen address cannot be bound
     */
    public static WarrenProxy start(ProxyConfig config, Transport transport, TransportSettings settings,
            CredentialKeyer keyer, ChannelReusePolicy policy) throws IOException {
        NetworkRuntime runtime = transport.start(settings);
        try {
            // Built bottom up: each layer gets the ones below it, and none a higher one.
            EngineStats stats = new EngineStats();
            Cluster cluster = new Cluster(config, runtime, stats);
            cluster.start();
            LoginProofs logins = new LoginProofs(cluster);
            UpstreamPools pools = new UpstreamPools(cluster, logins);
            ClientAdmission admission = ClientAdmission.forThisProcess(config.maxConnections(),
                    stats::upstreamConnections);
            Clients clients = new Clients(config, stats, keyer, policy, cluster, pools, logins, admission);
            NetworkRuntime.HandlerFactory sessions = clients::accept;
            Listener listener = config.plainListener()
                    ? runtime.listen(config.listen(), sessions, config.proxyProtocol()) : null;
            Listener tlsListener = null;
            if (config.tlsListen().isPresent()) {
                try {
                    tlsListener = runtime.listen(config.tlsListen().get(), sessions, config.tlsListenSettings().get(),
                            config.tlsProxyProtocol());
                } catch (IOException | RuntimeException e) {
                    if (listener != null) {
                        listener.close();
                    }
                    throw e;
                }
            }
            List<String> where = new ArrayList<>();
            if (listener != null) {
                where.add(hostPort(listener.address()) + " (amqp" + proxyNote(config.proxyProtocol()) + ")");
            }
            if (tlsListener != null) {
                where.add(hostPort(tlsListener.address()) + " (amqps"
                        + (config.tlsListenSettings().get().clientCertificateRequired()
                                ? ", client certificates required" : "") + proxyNote(config.tlsProxyProtocol()) + ")");
            }
            log.info("Warren {} listening on {} for upstream {} {} {} (transport {}, keyer {}, reuse policy {})",
                    PeerProperties.VERSION, String.join(" and ", where),
                    config.upstreamTls().isPresent() ? "amqps" : "amqp",
                    config.upstreams().size() == 1 ? "node" : config.upstreams().size() + " nodes", cluster.describe(),
                    transport.name(), keyer.name(), policy.name());
            log.info(admission.describe());
            log.info("Slow clients: up to {} bytes buffered for one (slow-client-buffer), {} for all together"
                    + " (slow-client-buffer-total; max heap {} bytes)", config.slowClientBuffer(),
                    config.slowClientBufferTotal(), Runtime.getRuntime().maxMemory());
            log.info("message-buffer {} bytes for messages held until their last frame (max heap {} bytes);"
                    + " messages up to {} bytes accepted", config.messageBuffer(), Runtime.getRuntime().maxMemory(),
                    config.effectiveMaxMessageSize());
            config.messageSizeWarning().ifPresent(log::warn);
            if (config.upstreamTls().isPresent()) {
                var tls = config.upstreamTls().get();
                log.info("Upstream TLS: server name {}, {}, protocols {}{}", tls.serverName(),
                        tls.insecureSkipVerifyDangerous() ? "verification OFF"
                                : "trusting " + (tls.caFile() == null ? "the JDK trust store" : tls.caFile()),
                        String.join(", ", tls.protocols()),
                        tls.certificateFile() == null ? "" : ", client certificate " + tls.certificateFile());
            }
            return new WarrenProxy(stats, cluster, pools, clients, runtime, listener, tlsListener);
        } catch (IOException | RuntimeException e) {
            runtime.close();
            throw e;
        }
    }

    private static String proxyNote(ProxyProtocol mode) {
        return mode == ProxyProtocol.OFF ? "" : ", PROXY protocol " + mode.name().toLowerCase(Locale.ROOT);
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /**
     * The bound plain listen address (with the real port when port 0 was configured).
     *
     * @throws IllegalStateException when the plain listener is turned off
     */
    public InetSocketAddress listenAddress() {
        if (listener == null) {
            throw new IllegalStateException("the plain listener is turned off");
        }
        return listener.address();
    }

    /** The bound plain listen address, or empty when the plain listener is turned off. */
    public Optional<InetSocketAddress> plainListenAddress() {
        return listener == null ? Optional.empty() : Optional.of(listener.address());
    }

    /** The bound TLS (amqps) listen address, or empty without a TLS listener. */
    public Optional<InetSocketAddress> tlsListenAddress() {
        return tlsListener == null ? Optional.empty() : Optional.of(tlsListener.address());
    }

    /** When the TLS listener's certificate expires, or empty without a TLS listener. */
    public Optional<Instant> tlsCertificateNotAfter() {
        return tlsListener == null ? Optional.empty() : tlsListener.certificateNotAfter();
    }

    /** TLS handshake counts of the transport, by side and outcome. */
    public TlsStats tlsStats() {
        return runtime.tlsStats();
    }

    public ProxyStats stats() {
        return stats;
    }

    /**
     * Waits, at most {@code timeout}, until Warren knows whether each upstream node is up: it checks every node once
     * at start (until then a node counts as up).
     */
    public void awaitNodesChecked(Duration timeout) throws InterruptedException {
        cluster.awaitChecked(timeout);
    }

    /** The upstream nodes and their health, in configuration order. */
    public List<NodeStatus> nodes() {
        return cluster.status();
    }

    /** Clients connected now. */
    public int clientCount() {
        return clients.sessions().size();
    }

    /** Upstream connections in the pools now (connecting or open). */
    public int upstreamConnectionCount() {
        return pools.connections().size();
    }

    /** Stops accepting new clients; connected ones carry on. */
    public void stopAccepting() {
        accepting = false;
        closeListeners();
    }

    private void closeListeners() {
        if (listener != null) {
            listener.close();
        }
        if (tlsListener != null) {
            tlsListener.close();
        }
    }

    // ---------------------------------------------------------------- the operator's view and actions

    /** Every client connected now, by id; each one's snapshot is taken on its own event loop. */
    public CompletableFuture<List<ClientView>> clients() {
        return clientViews(clients.sessions());
    }

    /** The client with connection id {@code id}, if it is connected. */
    public CompletableFuture<Optional<ClientView>> client(long id) {
        return clientViews(session(id).map(List::of).orElse(List.of()))
                .thenApply(views -> views.stream().findFirst());
    }

    private CompletableFuture<List<ClientView>> clientViews(Collection<ClientSession> sessions) {
        boolean draining = !accepting;
        return OnOwnLoops.map(sessions, ClientSession::loop,
                s -> s.gone() ? null : s.view(draining, loopIndex(s.loop())), Comparator.comparingLong(ClientView::id));
    }

    private Optional<ClientSession> session(long id) {
        for (ClientSession s : clients.sessions()) {
            if (s.id() == id) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /**
     * Closes the client with connection id {@code id} with 320 CONNECTION_FORCED and {@code text}.
     *
     * @return false when no such client is connected
     */
    public boolean closeClient(long id, String text) {
        Optional<ClientSession> s = session(id);
        s.ifPresent(session -> session.loop().execute(() -> session.closeForOperator(text)));
        return s.isPresent();
    }

    /** Every upstream connection now, by id; each one's snapshot is taken on its own event loop. */
    public CompletableFuture<List<UpstreamView>> upstreams() {
        record Item(UpstreamConnection connection, int idle) {}
        List<Item> items = new ArrayList<>();
        for (PoolSnapshot pool : pools.snapshots()) {
            for (int i = 0; i < pool.connections().size(); i++) {
                items.add(new Item(pool.connections().get(i), pool.idleChannels().get(i)));
            }
        }
        return OnOwnLoops.map(items, item -> item.connection().loop(),
                item -> item.connection().view(item.idle(), loopIndex(item.connection().loop())),
                Comparator.comparingLong(UpstreamView::id));
    }

    private int loopIndex(EventLoop loop) {
        return runtime.eventLoops().indexOf(loop);
    }

    /** The number of event loops: a pool key has at most one upstream connection per loop while it has room. */
    public int eventLoops() {
        return runtime.eventLoops().size();
    }

    /** Every pool key now, with its upstream connections in sum, by key. */
    public CompletableFuture<List<PoolView>> pools() {
        List<PoolSnapshot> snapshots = pools.snapshots();
        return upstreams().thenApply(views -> {
            List<PoolView> out = new ArrayList<>(snapshots.size());
            for (PoolSnapshot p : snapshots) {
                Set<Long> ids = new HashSet<>();
                for (UpstreamConnection c : p.connections()) {
                    ids.add(c.id());
                }
                int inUse = 0;
                int idle = 0;
                int blocked = 0;
                int connections = 0;
                Set<String> nodes = new LinkedHashSet<>();
                for (UpstreamView v : views) {
                    // The connections the pool's lock saw (one may have left the pool since the views were taken).
                    if (ids.contains(v.id())) {
                        connections++;
                        inUse += v.channelsInUse();
                        idle += v.channelsIdle();
                        blocked += v.blocked() ? 1 : 0;
                        nodes.add(v.node());
                    }
                }
                out.add(new PoolView(p.keyed().key().id(), p.keyed().upstream().username(),
                        p.keyed().upstream().virtualHost(), connections, inUse, idle, p.scrubbing(),
                        p.channelTarget(), p.scrubRoundTripNanos() / 1e6, p.clients(), List.copyOf(nodes), blocked));
            }
            out.sort(Comparator.comparing(PoolView::poolKey));
            return out;
        });
    }

    /**
     * Pauses {@code vhost}: its new clients wait at connection.open until it is resumed (or {@code upstream-hold}
     * runs out: then 320); clients already connected carry on.
     *
     * @return false when it was paused already
     */
    public boolean pauseVhost(String vhost) {
        boolean changed = clients.pauses().pause(vhost);
        if (changed) {
            log.info("virtual host '{}' paused by the operator: its new clients wait at connection.open", vhost);
        }
        return changed;
    }

    /**
     * Resumes {@code vhost}: the clients waiting for it go on at once.
     *
     * @return how many clients were waiting; -1 when it was not paused
     */
    public int resumeVhost(String vhost) {
        int released = clients.pauses().resume(vhost);
        if (released >= 0) {
            log.info("virtual host '{}' resumed by the operator; {} waiting client(s) go on", vhost, released);
        }
        return released;
    }

    /** The paused virtual hosts, sorted. */
    public Set<String> pausedVhosts() {
        return clients.pauses().paused();
    }

    /** Clients waiting now for the paused {@code vhost}. */
    public int clientsWaitingFor(String vhost) {
        return clients.pauses().held(vhost);
    }

    /**
     * The full names of the nodes {@code name} names: a node's full name, its host:port as configured, or its
     * address:port. Several when a host:port stands for several addresses; empty when it names none.
     */
    public List<String> nodesNamed(String name) {
        return cluster.find(name).stream().map(Node::name).toList();
    }

    /**
     * Drains the node named exactly {@code fullName} ({@link NodeStatus#name()}): no new connections go to it; its idle
     * channels and idle connections close within a second; busy connections finish. {@code on = false} ends the
     * drain.
     *
     * @return the node's status afterwards, and whether anything changed; empty when no node has that name
     */
    public Optional<NodeChange> drainNode(String fullName, boolean on) {
        for (Node n : cluster.find(fullName)) {
            if (n.name().equals(fullName)) {
                boolean changed = cluster.drain(n, on);
                return Optional.of(new NodeChange(n.status(), changed));
            }
        }
        return Optional.empty();
    }

    /** A node after an operator's change, and whether the change changed anything. */
    public record NodeChange(NodeStatus node, boolean changed) {}

    /**
     * A reload: the {@link ProxyConfig#RELOADABLE} components of {@code next} apply from now on, to what reads them
     * next (new clients and connections, the next timer, the next admission); the others keep their values. The TLS
     * listener's files are read again even when their names did not change (a renewed certificate).
     *
     * @throws TlsConfigException when the TLS listener's files cannot be used: then nothing changes
     */
    public synchronized Reconfiguration reconfigure(ProxyConfig next) throws TlsConfigException {
        ProxyConfig current = cluster.config();
        ProxyConfig applied = current.reloadedWith(next);
        List<String> changed = new ArrayList<>(current.differences(applied));
        List<String> needsRestart = applied.differences(next);
        if (tlsListener != null && applied.tlsListenSettings().isPresent()) {
            tlsListener.reloadTls(applied.tlsListenSettings().get()); // first: if it throws, nothing changed
            if (!changed.contains("tlsListenSettings")) {
                changed.add("tlsListenSettings");
            }
        }
        List<String> notes = cluster.reconfigure(applied);
        clients.reconfigure(applied);
        return new Reconfiguration(changed, needsRestart, notes);
    }

    /** The configuration in effect now (the one started with, as changed by reloads since). */
    public ProxyConfig config() {
        return cluster.config();
    }

    /**
     * Waits up to {@code timeout} for clients to leave on their own.
     *
     * @return whether every client left
     */
    public boolean awaitClients(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!clients.sessions().isEmpty()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.MILLISECONDS.sleep(Math.min(50, TimeUnit.NANOSECONDS.toMillis(left) + 1));
        }
        return true;
    }

    /**
     * Closes remaining clients with 320 CONNECTION_FORCED, closes upstream connections cleanly and stops the
     * transport. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeListeners();
        for (ClientSession session : clients.sessions()) {
            session.loop().execute(() -> session.forceClose("proxy shutting down"));
        }
        try {
            awaitClients(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pools.closeAll();
        try {
            TimeUnit.MILLISECONDS.sleep(100); // let connection.close reach the broker before the sockets go
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        runtime.close();
        log.info("Warren stopped");
    }
}
