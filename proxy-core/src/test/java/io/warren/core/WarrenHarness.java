package io.warren.core;

import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.ConnectionFactory;
import io.warren.api.ChannelReusePolicy;
import io.warren.api.CredentialKeyer;
import io.warren.api.Providers;
import io.warren.api.transport.Transport;
import io.warren.api.transport.TransportSettings;
import io.warren.core.admin.PoolView;
import io.warren.core.config.ProxyConfig;
import io.warren.core.config.UpstreamNode;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.RabbitCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/** A real Warren (NIO transport, default keyer) in front of the fixture's broker, for end-to-end tests. */
final class WarrenHarness implements AutoCloseable {
    final RabbitBroker broker;
    final WarrenProxy proxy;

    private WarrenHarness(RabbitBroker broker, WarrenProxy proxy) {
        this.broker = broker;
        this.proxy = proxy;
    }

    static WarrenHarness start(RabbitBroker broker) throws IOException {
        return start(broker, c -> c, "never");
    }

    static WarrenHarness start(RabbitBroker broker, UnaryOperator<ProxyConfig> tweak) throws IOException {
        return start(broker, tweak, "never");
    }

    static WarrenHarness start(RabbitBroker broker, UnaryOperator<ProxyConfig> tweak, String policyName)
            throws IOException {
        return start(broker, new InetSocketAddress(broker.host(), broker.amqpPort()), tweak, policyName);
    }

    /**
     * Warren whose upstream is {@code upstream} (e.g. a {@link io.warren.testsupport.FaultRelay} in front of the
     * broker) instead of the broker itself; {@link #directFactory()} still reaches the broker.
     */
    static WarrenHarness start(RabbitBroker broker, InetSocketAddress upstream, UnaryOperator<ProxyConfig> tweak,
            String policyName) throws IOException {
        return start(broker, upstream, tweak, policyName, TransportSettings.defaults().eventLoops());
    }

    /** As {@link #start(RabbitBroker, InetSocketAddress, UnaryOperator, String)}, with {@code eventLoops} loops. */
    static WarrenHarness start(RabbitBroker broker, InetSocketAddress upstream, UnaryOperator<ProxyConfig> tweak,
            String policyName, int eventLoops) throws IOException {
        return start(broker, tweak.apply(ProxyConfig.defaults(upstream)
                .withListen(new InetSocketAddress("127.0.0.1", 0))), policyName, eventLoops);
    }

    private static WarrenHarness start(RabbitBroker broker, ProxyConfig config, String policyName)
            throws IOException {
        return start(broker, config, policyName, TransportSettings.defaults().eventLoops());
    }

    private static WarrenHarness start(RabbitBroker broker, ProxyConfig config, String policyName, int eventLoops)
            throws IOException {
        ClassLoader cl = WarrenHarness.class.getClassLoader();
        TransportSettings d = TransportSettings.defaults();
        TransportSettings settings = new TransportSettings(eventLoops, d.writeHighWaterMark(), d.writeLowWaterMark(),
                d.acceptBacklog(), d.connectTimeout());
        WarrenProxy proxy = WarrenProxy.start(config, Providers.load(Transport.class, "nio", cl),
                settings, Providers.load(CredentialKeyer.class, "credentials", cl),
                Providers.load(ChannelReusePolicy.class, policyName, cl));
        try {
            proxy.awaitNodesChecked(Duration.ofSeconds(10)); // its check of the upstream at start is done
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new WarrenHarness(broker, proxy);
    }

    /**
     * Warren whose upstream is every node of {@code cluster}; {@link #directFactory()} reaches its node 0. Waits until
     * Warren checked each node at start.
     */
    static WarrenHarness start(RabbitCluster cluster, UnaryOperator<ProxyConfig.Builder> tweak, String policyName)
            throws IOException {
        List<UpstreamNode> nodes = new ArrayList<>();
        for (RabbitBroker node : cluster.nodes()) {
            nodes.add(UpstreamNode.of(new InetSocketAddress(node.host(), node.amqpPort())));
        }
        ProxyConfig config = tweak.apply(ProxyConfig.builder(nodes).listen(new InetSocketAddress("127.0.0.1", 0)))
                .build();
        return start(cluster.node(0), config, policyName);
    }

    /** Warren's event loops: a pool key gets an upstream connection on each loop its clients are on. */
    int eventLoops() {
        return proxy.eventLoops();
    }

    /**
     * A guest client on every event loop, each opening a channel, so that guest's key has an upstream connection on
     * each loop; returns once guest's key has one per loop and every upstream connection of Warren is ready (open on
     * the broker). The clients are held until the last one is open: an accepted connection goes to the loop with the
     * fewest accepted connections open, so each one lands on a loop the others are not on.
     */
    void connectOnEveryLoop() throws Exception {
        List<com.rabbitmq.client.Connection> held = new ArrayList<>();
        try {
            for (int i = 0; i < eventLoops(); i++) {
                com.rabbitmq.client.Connection c = factory().newConnection();
                held.add(c);
                c.createChannel().close();
            }
        } finally {
            for (com.rabbitmq.client.Connection c : held) {
                c.close();
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() ->
                proxy.upstreams().get().stream().allMatch(u -> u.state().equals("ready"))
                        && proxy.pools().get().stream().filter(p -> p.user().equals("guest"))
                                .mapToInt(PoolView::connections).sum() == eventLoops());
    }

    /**
     * {@code n} raw sockets connected to Warren and held, silent (Warren closes them after its handshake timeout):
     * an accepted connection goes to the loop with the fewest accepted connections open, so they steer where the next
     * client lands. With one client held on loop 0 and {@code eventLoops() - 1} of these, the next client lands on loop
     * 0 too. The caller closes them.
     */
    List<java.net.Socket> holdSockets(int n) throws IOException {
        int before = proxy.clientCount();
        List<java.net.Socket> sockets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            sockets.add(new java.net.Socket("127.0.0.1", port()));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.clientCount() >= before + n); // accepted, counted
        return sockets;
    }

    int port() {
        return proxy.listenAddress().getPort();
    }

    /** amqp-client pointed at Warren, guest/guest, automatic recovery off (tests observe failures). */
    ConnectionFactory factory() {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost("127.0.0.1");
        f.setPort(port());
        f.setUsername("guest");
        f.setPassword("guest");
        f.setAutomaticRecoveryEnabled(false);
        f.setConnectionTimeout(10_000);
        return f;
    }

    /** amqp-client pointed straight at the broker. */
    ConnectionFactory directFactory() {
        ConnectionFactory f = factory();
        f.setHost(broker.host());
        f.setPort(broker.amqpPort());
        return f;
    }

    /**
     * The broker's ids (Erlang pids) of the connections whose client is a Warren: a shared upstream connection the
     * broker closed is missing from a later call.
     */
    static Set<String> brokerConnectionPidsFromWarren(RabbitBroker broker) {
        return broker.listConnections("pid", "client_properties").stream()
                .filter(row -> row.getOrDefault("client_properties", "").contains("Warren"))
                .map(row -> row.get("pid"))
                .collect(Collectors.toSet());
    }

    /** Connections the broker itself lists whose client is Warren. */
    long brokerConnectionsFromWarren() {
        return brokerConnectionPidsFromWarren(broker).size();
    }

    @Override
    public void close() {
        proxy.close();
    }
}
