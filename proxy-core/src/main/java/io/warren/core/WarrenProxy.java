package io.warren.core;

import io.warren.api.ChannelReusePolicy;
import io.warren.api.CredentialKeyer;
import io.warren.api.transport.Listener;
import io.warren.api.transport.NetworkRuntime;
import io.warren.api.transport.TlsStats;
import io.warren.api.transport.Transport;
import io.warren.api.transport.TransportSettings;
import io.warren.core.config.ProxyConfig;
import io.warren.core.internal.client.ClientSession;
import io.warren.core.internal.client.Clients;
import io.warren.core.internal.limits.ClientAdmission;
import io.warren.core.internal.pool.LoginProofs;
import io.warren.core.internal.pool.UpstreamPools;
import io.warren.core.internal.stats.EngineStats;
import io.warren.core.internal.upstream.Cluster;
import io.warren.core.internal.wire.PeerProperties;
import io.warren.core.stats.NodeStatus;
import io.warren.core.stats.ProxyStats;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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
            Listener listener = config.plainListener() ? runtime.listen(config.listen(), sessions) : null;
            Listener tlsListener = null;
            if (config.tlsListen().isPresent()) {
                try {
                    tlsListener = runtime.listen(config.tlsListen().get(), sessions, config.tlsListenSettings().get());
                } catch (IOException | RuntimeException e) {
                    if (listener != null) {
                        listener.close();
                    }
                    throw e;
                }
            }
            List<String> where = new ArrayList<>();
            if (listener != null) {
                where.add(hostPort(listener.address()) + " (amqp)");
            }
            if (tlsListener != null) {
                where.add(hostPort(tlsListener.address()) + " (amqps"
                        + (config.tlsListenSettings().get().clientCertificateRequired()
                                ? ", client certificates required" : "") + ")");
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
