package io.warren.core;

import com.rabbitmq.client.ConnectionFactory;
import io.warren.api.ChannelReusePolicy;
import io.warren.api.CredentialKeyer;
import io.warren.api.Providers;
import io.warren.api.transport.Transport;
import io.warren.api.transport.TransportSettings;
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
        return start(broker, tweak.apply(ProxyConfig.defaults(upstream)
                .withListen(new InetSocketAddress("127.0.0.1", 0))), policyName);
    }

    private static WarrenHarness start(RabbitBroker broker, ProxyConfig config, String policyName)
            throws IOException {
        ClassLoader cl = WarrenHarness.class.getClassLoader();
        WarrenProxy proxy = WarrenProxy.start(config, Providers.load(Transport.class, "nio", cl),
                TransportSettings.defaults(), Providers.load(CredentialKeyer.class, "credentials", cl),
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
