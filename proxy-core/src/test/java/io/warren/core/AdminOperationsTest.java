package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.core.admin.ChannelView;
import io.warren.core.admin.ClientView;
import io.warren.core.admin.PoolView;
import io.warren.core.admin.Reconfiguration;
import io.warren.core.admin.UpstreamView;
import io.warren.core.config.ProxyConfig;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator's view and actions of issue 14 ({@link WarrenProxy#clients()}, closeClient, pause and resume of a
 * vhost, upstreams and pools, a reload of the limits), with real clients against a real broker.
 */
@WithRabbitBroker
class AdminOperationsTest {
    private static final String SECRET = "admin-secret-" + UUID.randomUUID();
    static RabbitBroker broker;
    static WarrenHarness warren;
    static String user;
    /** The pools test's own user, so that no other test's channel (being scrubbed, say) is counted on its pool. */
    static String poolUser;

    @BeforeAll
    static void start() throws Exception {
        warren = WarrenHarness.start(broker, c -> c, "publish-safe");
        user = "admin-user-" + UUID.randomUUID();
        broker.addUser(user, SECRET);
        broker.setPermissions("/", user);
        poolUser = "admin-pool-user-" + UUID.randomUUID();
        broker.addUser(poolUser, SECRET);
        broker.setPermissions("/", poolUser);
    }

    @AfterAll
    static void stop() {
        warren.close();
        broker.deleteUser(user);
        broker.deleteUser(poolUser);
    }

    private static ConnectionFactory named(String name) {
        return named(name, user);
    }

    private static ConnectionFactory named(String name, String user) {
        ConnectionFactory f = warren.factory();
        f.setUsername(user);
        f.setPassword(SECRET);
        f.setClientProperties(new java.util.HashMap<>(f.getClientProperties()));
        f.getClientProperties().put("connection_name", name);
        return f;
    }

    private static ClientView viewNamed(WarrenHarness w, String name) throws Exception {
        return w.proxy.clients().get(10, TimeUnit.SECONDS).stream()
                .filter(c -> c.connectionName().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void aClientsViewSaysWhoItIsWhereItsChannelsAreAndWhatItDid() throws Exception {
        String name = "view-" + UUID.randomUUID();
        try (Connection c = named(name).newConnection(); Channel declaring = c.createChannel();
                Channel ch = c.createChannel()) {
            String q = declaring.queueDeclare("", false, true, true, null).getQueue();
            for (int i = 0; i < 3; i++) {
                ch.basicPublish("", q, null, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            GetResponse got = await().atMost(Duration.ofSeconds(10)).until(() -> ch.basicGet(q, true), r -> r != null);
            assertThat(got.getBody()).isEqualTo("m0".getBytes(StandardCharsets.UTF_8));

            ClientView v = await().atMost(Duration.ofSeconds(10)).until(() -> viewNamed(warren, name),
                    x -> x.messagesPublished() == 3);
            assertThat(v.user()).isEqualTo(user);
            assertThat(v.vhost()).isEqualTo("/");
            assertThat(v.product()).isEqualTo("RabbitMQ"); // what amqp-client calls itself
            assertThat(v.version()).isEqualTo(c.getClientProperties().get("version").toString());
            assertThat(v.tls()).isFalse();
            assertThat(v.state()).isEqualTo("open");
            assertThat(v.peer()).isEqualTo(new InetSocketAddress(localAddress(c), localPort(c)));
            assertThat(v.messagesDelivered()).isEqualTo(1);
            assertThat(v.bytesReceived()).isGreaterThan(0);
            assertThat(v.bytesSent()).isGreaterThan(0);
            assertThat(v.writeQueueBytes()).isZero();
            assertThat(v.channels()).extracting(ChannelView::number)
                    .containsExactly(declaring.getChannelNumber(), ch.getChannelNumber());
            assertThat(v.channels().get(0).reuse()).isEqualTo("not reusable: client queue.declare");
            ChannelView cv = v.channels().get(1);
            assertThat(cv.number()).isEqualTo(ch.getChannelNumber());
            assertThat(cv.node()).isEqualTo(broker.host() + ":" + broker.amqpPort());
            assertThat(cv.state()).isEqualTo("open");
            assertThat(cv.upstreamChannel()).isPositive();
            assertThat(cv.reuse()).isEqualTo("reusable so far");
            List<UpstreamView> ups = warren.proxy.upstreams().get(10, TimeUnit.SECONDS);
            assertThat(ups).extracting(UpstreamView::id).contains(cv.upstreamConnection());

            ch.basicConsume(q, true, (tag, d) -> { }, tag -> { });
            ClientView after = viewNamed(warren, name);
            assertThat(after.channels().get(1).reuse()).isEqualTo("not reusable: client basic.consume");
            assertThat(after.bytesReceived()).isGreaterThan(v.bytesReceived());
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> warren.proxy.clients().get().stream()
                .noneMatch(x -> x.connectionName().equals(name)));
    }

    private static int localPort(Connection c) {
        return ((com.rabbitmq.client.impl.AMQConnection) c).getLocalPort();
    }

    private static java.net.InetAddress localAddress(Connection c) {
        return ((com.rabbitmq.client.impl.AMQConnection) c).getLocalAddress();
    }

    @Test
    void aClientClosedByTheOperatorGets320WithTheTextAndOthersCarryOn() throws Exception {
        String name = "kill-" + UUID.randomUUID();
        try (Connection other = named("bystander-" + name).newConnection()) {
            Connection c = named(name).newConnection();
            AtomicReference<ShutdownSignalException> cause = new AtomicReference<>();
            c.addShutdownListener(cause::set);
            long id = viewNamed(warren, name).id();
            assertThat(warren.proxy.closeClient(id, "closed by the operator")).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> cause.get() != null);
            com.rabbitmq.client.AMQP.Connection.Close close =
                    (com.rabbitmq.client.AMQP.Connection.Close) cause.get().getReason();
            assertThat(close.getReplyCode()).isEqualTo(320);
            assertThat(close.getReplyText()).isEqualTo("CONNECTION_FORCED - closed by the operator");
            try (Channel ch = other.createChannel()) {
                assertThat(ch.queueDeclare().getQueue()).isNotEmpty();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> warren.proxy.client(id).get().isEmpty());
            assertThat(warren.proxy.closeClient(id, "again")).as("gone").isFalse();
        }
        assertThat(warren.proxy.closeClient(Long.MAX_VALUE, "nobody")).isFalse();
        assertThat(warren.proxy.client(Long.MAX_VALUE).get()).isEmpty();
    }

    @Test
    void aPausedVhostHoldsItsNewClientsAtOpenUntilResumedWhileItsOpenClientsWork() throws Exception {
        String vhost = "paused/" + UUID.randomUUID(); // a slash in the name, as operators use
        broker.addVhost(vhost);
        broker.setPermissions(vhost, user);
        try {
            ConnectionFactory f = named("open-" + vhost);
            f.setVirtualHost(vhost);
            try (Connection open = f.newConnection(); Channel och = open.createChannel()) {
                assertThat(warren.proxy.pauseVhost(vhost)).isTrue();
                assertThat(warren.proxy.pauseVhost(vhost)).as("already paused").isFalse();
                assertThat(warren.proxy.pausedVhosts()).contains(vhost);

                ConnectionFactory late = named("late-" + vhost);
                late.setVirtualHost(vhost);
                CompletableFuture<Connection> waiting = CompletableFuture.supplyAsync(() -> {
                    try {
                        return late.newConnection();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                await().atMost(Duration.ofSeconds(10)).until(() -> warren.proxy.clientsWaitingFor(vhost) == 1);
                assertThat(viewNamed(warren, "late-" + vhost).state()).isEqualTo("held");
                assertThat(waiting).isNotDone();

                String q = och.queueDeclare("", false, true, true, null).getQueue(); // the open client works
                och.basicPublish("", q, null, "during the pause".getBytes(StandardCharsets.UTF_8));
                assertThat(await().atMost(Duration.ofSeconds(10)).until(() -> och.basicGet(q, true), r -> r != null)
                        .getBody()).isEqualTo("during the pause".getBytes(StandardCharsets.UTF_8));
                try (Connection elsewhere = named("root-" + vhost).newConnection()) { // other vhosts are not paused
                    assertThat(elsewhere.isOpen()).isTrue();
                }

                assertThat(warren.proxy.resumeVhost(vhost)).as("released").isEqualTo(1);
                try (Connection served = waiting.get(10, TimeUnit.SECONDS); Channel ch = served.createChannel()) {
                    assertThat(ch.queueDeclare().getQueue()).isNotEmpty();
                }
                assertThat(warren.proxy.resumeVhost(vhost)).as("not paused").isEqualTo(-1);
                assertThat(warren.proxy.pausedVhosts()).doesNotContain(vhost);
            }
        } finally {
            warren.proxy.resumeVhost(vhost);
            broker.deleteVhost(vhost);
        }
    }

    @Test
    void aClientOfAPausedVhostIsRefusedWith320WhenUpstreamHoldRunsOut() throws Exception {
        try (WarrenHarness w = WarrenHarness.start(broker, c -> c.toBuilder()
                .upstreamHold(Duration.ofMillis(300)).build())) {
            w.proxy.pauseVhost("/");
            ConnectionFactory f = w.factory();
            assertThatThrownBy(f::newConnection).hasStackTraceContaining(
                    "reply-code=320, reply-text=CONNECTION_FORCED - virtual host '/' is paused by the operator");
            assertThat(w.proxy.clientsWaitingFor("/")).isZero();
            assertThat(w.proxy.stats().handshakesFailed()).containsEntry("vhost_paused", 1L);
            w.proxy.resumeVhost("/");
            try (Connection c = f.newConnection()) {
                assertThat(c.isOpen()).isTrue();
            }
        }
    }

    @Test
    void upstreamsAndPoolsCountChannelsAndClientsAndNeverShowTheSecret() throws Exception {
        String name = "pools-" + UUID.randomUUID();
        String user = poolUser;
        try (Connection c = named(name, user).newConnection(); Connection c2 = named(name + "-2", user).newConnection()) {
            Channel a = c.createChannel();
            c.createChannel();
            // The second client, on the other event loop, is served by the first one's connection at once, and its
            // loop gets a connection of the key for the clients after it.
            await().atMost(Duration.ofSeconds(10)).until(() -> upstreamsOf(user).stream()
                    .allMatch(u -> u.state().equals("ready")));
            List<UpstreamView> ups = upstreamsOf(user);
            assertThat(ups).hasSizeBetween(1, warren.eventLoops());
            assertThat(ups).extracting(UpstreamView::eventLoop).doesNotHaveDuplicates();
            assertThat(ups.stream().mapToInt(UpstreamView::clients).sum()).isEqualTo(2);
            List<UpstreamView> busy = ups.stream().filter(u -> u.channelsInUse() > 0).toList();
            assertThat(busy).as("both channels of one client on its connection").hasSize(1);
            UpstreamView u = busy.get(0);
            assertThat(u.vhost()).isEqualTo("/");
            assertThat(u.node()).isEqualTo(broker.host() + ":" + broker.amqpPort());
            assertThat(u.channelsInUse()).isEqualTo(2);
            assertThat(u.clients()).isEqualTo(2);
            assertThat(u.blocked()).isFalse();
            assertThat(u.heartbeatSeconds()).isEqualTo((int) warren.proxy.config().upstreamHeartbeat().toSeconds());

            PoolView p = warren.proxy.pools().get(10, TimeUnit.SECONDS).stream()
                    .filter(x -> x.user().equals(user)).findFirst().orElseThrow();
            assertThat(p.poolKey()).isEqualTo(u.poolKey());
            assertThat(p.connections()).isEqualTo(ups.size());
            assertThat(p.channelsInUse()).isEqualTo(2);
            assertThat(p.clients()).isEqualTo(2);
            assertThat(p.nodes()).containsExactly(u.node());

            a.close(); // lent back, scrubbed, then idle in the pool
            await().atMost(Duration.ofSeconds(10)).until(() -> warren.proxy.pools().get().stream()
                    .filter(x -> x.user().equals(user)).findFirst().orElseThrow().channelsIdle() == 1);

            String everything = warren.proxy.upstreams().get() + " " + warren.proxy.pools().get() + " "
                    + warren.proxy.clients().get();
            assertThat(everything).contains(user).doesNotContain(SECRET);
        }
    }

    private List<UpstreamView> upstreamsOf(String user) throws Exception {
        return warren.proxy.upstreams().get(10, TimeUnit.SECONDS).stream().filter(u -> u.user().equals(user)).toList();
    }

    @Test
    void aReloadOfMaxConnectionsAppliesToTheNextClientAndLeavesConnectedOnesAlone() throws Exception {
        try (WarrenHarness w = WarrenHarness.start(broker)) {
            Connection first = w.factory().newConnection();
            Connection second = w.factory().newConnection();
            ProxyConfig started = w.proxy.config();
            Reconfiguration r = w.proxy.reconfigure(started.toBuilder().maxConnections(2)
                    .listen(new InetSocketAddress("127.0.0.1", 1)).build());
            assertThat(r.applied()).containsExactly("maxConnections");
            assertThat(r.needsRestart()).containsExactly("listen");
            assertThat(w.proxy.config().maxConnections()).isEqualTo(2);
            assertThat(w.proxy.listenAddress().getPort()).isEqualTo(w.port()); // still where it was
            assertThatThrownBy(() -> w.factory().newConnection()).hasStackTraceContaining("reply-code=530");
            try (Channel ch = first.createChannel()) { // the connected ones carry on
                assertThat(ch.queueDeclare().getQueue()).isNotEmpty();
            }
            second.close();
            try (Connection third = w.factory().newConnection()) {
                assertThat(third.isOpen()).isTrue();
            }
            assertThat(w.proxy.reconfigure(started).applied()).containsExactly("maxConnections");
            first.close();
        }
    }

    @Test
    void aClientLookedUpByIdIsThatClient() throws Exception {
        String name = "byid-" + UUID.randomUUID();
        try (Connection c = named(name).newConnection()) {
            ClientView v = viewNamed(warren, name);
            Optional<ClientView> same = warren.proxy.client(v.id()).get(10, TimeUnit.SECONDS);
            assertThat(same).map(ClientView::connectionName).contains(name);
        }
    }
}
