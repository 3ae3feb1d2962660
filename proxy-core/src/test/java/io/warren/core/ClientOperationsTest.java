package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AuthenticationFailureException;
import com.rabbitmq.client.BlockedListener;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.CancelCallback;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.core.admin.ClientView;
import io.warren.core.admin.UpstreamView;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What an AMQP client does, done through Warren against a real broker, observed with the official Java client. */
@WithRabbitBroker
class ClientOperationsTest {
    static RabbitBroker broker;
    static WarrenHarness warren;

    @BeforeAll
    static void startWarren() throws IOException {
        warren = WarrenHarness.start(broker);
    }

    @AfterAll
    static void stopWarren() {
        warren.close();
    }

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    @Test
    void publishAndGetRoundTripWithEveryProperty() throws Exception {
        try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel()) {
            String q = ch.queueDeclare(unique("q"), false, false, true, null).getQueue();
            AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
                    .contentType("text/plain").contentEncoding("utf-8").headers(Map.of("k", "v"))
                    .deliveryMode(2).priority(3).correlationId("corr").replyTo("rt").expiration("60000")
                    .messageId("mid").timestamp(new java.util.Date(1_700_000_000_000L)).type("t").userId("guest")
                    .appId("app").clusterId("cl").build();
            ch.basicPublish("", q, props, "hello".getBytes(StandardCharsets.UTF_8));
            GetResponse r = await().atMost(Duration.ofSeconds(10)).until(() -> ch.basicGet(q, true), x -> x != null);
            assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("hello");
            assertThat(r.getProps().getCorrelationId()).isEqualTo("corr");
            assertThat(r.getProps().getHeaders()).containsKey("k");
            assertThat(r.getProps().getTimestamp().getTime()).isEqualTo(1_700_000_000_000L);
            assertThat(ch.basicGet(q, true)).isNull(); // get-empty
        }
    }

    @Test
    void serverPropertiesAdvertiseTheBrokersCapabilities() throws Exception {
        try (Connection c = warren.factory().newConnection()) {
            Map<String, Object> props = c.getServerProperties();
            assertThat(props.get("product").toString()).isEqualTo("Warren");
            @SuppressWarnings("unchecked")
            Map<String, Object> caps = (Map<String, Object>) props.get("capabilities");
            assertThat(caps).containsKeys("publisher_confirms", "basic.nack", "consumer_cancel_notify",
                    "connection.blocked", "authentication_failure_close", "exchange_exchange_bindings",
                    "per_consumer_qos", "direct_reply_to");
        }
    }

    @Test
    void tuneNegotiatesFrameMaxChannelMaxAndHeartbeat() throws Exception {
        ConnectionFactory f = warren.factory();
        f.setRequestedFrameMax(8192);
        f.setRequestedChannelMax(10);
        f.setRequestedHeartbeat(7);
        try (Connection c = f.newConnection()) {
            assertThat(c.getFrameMax()).isEqualTo(8192);
            assertThat(c.getChannelMax()).isEqualTo(10);
            assertThat(c.getHeartbeat()).isEqualTo(7);
        }
    }

    @Test
    void largeMessageIsSplitForASmallClientFrameMax() throws Exception {
        byte[] body = new byte[300_000];
        new Random(7).nextBytes(body);
        ConnectionFactory small = warren.factory();
        small.setRequestedFrameMax(4096);
        try (Connection pub = warren.factory().newConnection(); Channel p = pub.createChannel();
                Connection sub = small.newConnection(); Channel s = sub.createChannel()) {
            String q = p.queueDeclare(unique("big"), false, false, true, null).getQueue();
            p.basicPublish("", q, null, body);
            BlockingQueue<byte[]> got = new ArrayBlockingQueue<>(1);
            s.basicConsume(q, true, (tag, d) -> got.add(d.getBody()), tag -> { });
            assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo(body);
        }
    }

    @Test
    void exchangeAndQueueOperations() throws Exception {
        try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel()) {
            String src = unique("x-src");
            String dst = unique("x-dst");
            ch.exchangeDeclare(src, BuiltinExchangeType.TOPIC, false, true, null);
            ch.exchangeDeclare(dst, BuiltinExchangeType.FANOUT, false, true, null);
            ch.exchangeBind(dst, src, "a.#");
            String q = ch.queueDeclare(unique("q"), false, false, false, null).getQueue();
            ch.queueBind(q, dst, "");
            ch.basicPublish(src, "a.b", null, "1".getBytes(StandardCharsets.UTF_8));
            ch.basicPublish(src, "z", null, "2".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(10)).until(() -> ch.messageCount(q) == 1);
            assertThat(ch.queuePurge(q).getMessageCount()).isEqualTo(1);
            ch.queueUnbind(q, dst, "");
            ch.exchangeUnbind(dst, src, "a.#");
            assertThat(ch.queueDelete(q).getMessageCount()).isZero();
            ch.exchangeDelete(dst);
            ch.exchangeDelete(src);
            assertThat(broker.listQueues()).doesNotContain(q);
        }
    }

    @Test
    void mandatoryUnroutablePublishComesBackAsBasicReturn() throws Exception {
        try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel()) {
            BlockingQueue<Integer> returns = new ArrayBlockingQueue<>(1);
            ch.addReturnListener(r -> returns.add(r.getReplyCode()));
            ch.basicPublish("amq.direct", unique("nowhere"), true, null, "x".getBytes(StandardCharsets.UTF_8));
            assertThat(returns.poll(10, TimeUnit.SECONDS)).isEqualTo(312);
        }
    }

    @Test
    void consumeAckNackRejectAndCancel() throws Exception {
        try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel()) {
            String q = ch.queueDeclare(unique("q"), false, false, false, null).getQueue();
            for (int i = 0; i < 3; i++) {
                ch.basicPublish("", q, null, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            ch.basicQos(1);
            BlockingQueue<Envelope> deliveries = new ArrayBlockingQueue<>(10);
            String tag = ch.basicConsume(q, false, new DefaultConsumer(ch) {
                @Override
                public void handleDelivery(String t, Envelope e, AMQP.BasicProperties p, byte[] body) {
                    deliveries.add(e);
                }
            });
            Envelope first = deliveries.poll(10, TimeUnit.SECONDS);
            assertThat(first).isNotNull();
            // prefetch 1: nothing more until the first is settled
            assertThat(deliveries.poll(300, TimeUnit.MILLISECONDS)).isNull();
            ch.basicAck(first.getDeliveryTag(), false);
            Envelope second = deliveries.poll(10, TimeUnit.SECONDS);
            ch.basicReject(second.getDeliveryTag(), false);
            Envelope third = deliveries.poll(10, TimeUnit.SECONDS);
            ch.basicNack(third.getDeliveryTag(), false, true); // requeued: delivered again
            Envelope again = deliveries.poll(10, TimeUnit.SECONDS);
            assertThat(again.isRedeliver()).isTrue();
            ch.basicAck(again.getDeliveryTag(), false);
            ch.basicCancel(tag);
            assertThat(ch.messageCount(q)).isZero();
            ch.queueDelete(q);
        }
    }

    @Test
    void recoverRedeliversUnacked() throws Exception {
        try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel()) {
            String q = ch.queueDeclare(unique("q"), false, false, true, null).getQueue();
            ch.basicPublish("", q, null, "r".getBytes(StandardCharsets.UTF_8));
            BlockingQueue<Boolean> redelivered = new ArrayBlockingQueue<>(10);
            ch.basicConsume(q, false, (t, d) -> redelivered.add(d.getEnvelope().isRedeliver()), t -> { });
            assertThat(redelivered.poll(10, TimeUnit.SECONDS)).isFalse();
            ch.basicRecover(true);
            assertThat(redelivered.poll(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void transactionsCommitAndRollback() throws Exception {
        try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel()) {
            String q = ch.queueDeclare(unique("q"), false, false, true, null).getQueue();
            ch.txSelect();
            ch.basicPublish("", q, null, "rolled back".getBytes(StandardCharsets.UTF_8));
            ch.txRollback();
            ch.basicPublish("", q, null, "committed".getBytes(StandardCharsets.UTF_8));
            ch.txCommit();
            assertThat(ch.messageCount(q)).isEqualTo(1);
            assertThat(new String(ch.basicGet(q, true).getBody(), StandardCharsets.UTF_8)).isEqualTo("committed");
        }
    }

    @Test
    void publisherConfirmsAckEveryMessage() throws Exception {
        try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel()) {
            String q = ch.queueDeclare(unique("q"), false, false, true, null).getQueue();
            ch.confirmSelect();
            for (int i = 0; i < 500; i++) {
                ch.basicPublish("", q, MessageProperties.PERSISTENT_BASIC, new byte[100]);
            }
            assertThat(ch.waitForConfirms(10_000)).isTrue();
            assertThat(ch.getNextPublishSeqNo()).isEqualTo(501);
            assertThat(ch.messageCount(q)).isEqualTo(500);
        }
    }

    @Test
    void serverSentBasicCancelReachesAConsumerThatAskedForIt() throws Exception {
        try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel();
                Connection other = warren.factory().newConnection(); Channel och = other.createChannel()) {
            String q = ch.queueDeclare(unique("q"), false, false, false, null).getQueue();
            CountDownLatch cancelled = new CountDownLatch(1);
            ch.basicConsume(q, true, (t, d) -> { }, (CancelCallback) t -> cancelled.countDown());
            och.queueDelete(q);
            assertThat(cancelled.await(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void channelErrorClosesOnlyThatChannel() throws Exception {
        try (Connection c = warren.factory().newConnection()) {
            Channel bad = c.createChannel();
            Channel good = c.createChannel();
            assertThatThrownBy(() -> bad.queueDeclarePassive(unique("missing")))
                    .isInstanceOf(IOException.class)
                    .cause().isInstanceOf(ShutdownSignalException.class)
                    .hasMessageContaining("404").hasMessageContaining("NOT_FOUND");
            assertThat(bad.isOpen()).isFalse();
            assertThat(good.isOpen()).isTrue();
            String q = good.queueDeclare(unique("q"), false, false, true, null).getQueue();
            good.basicPublish("", q, null, new byte[1]);
            await().atMost(Duration.ofSeconds(10)).until(() -> good.messageCount(q) == 1);
            // and the number can be opened again
            Channel reopened = c.createChannel(bad.getChannelNumber());
            assertThat(reopened.isOpen()).isTrue();
            assertThat(c.isOpen()).isTrue();
        }
    }

    @Test
    void accessRefusedErrorReachesOnlyThatChannel() throws Exception {
        try (Connection c = warren.factory().newConnection()) {
            Channel ch = c.createChannel();
            assertThatThrownBy(() -> ch.exchangeDeclare("amq.warren-reserved", "direct"))
                    .isInstanceOf(IOException.class)
                    .cause().hasMessageContaining("403");
            assertThat(c.isOpen()).isTrue();
        }
    }

    @Test
    void wrongPasswordFailsAtConnectWith403() {
        ConnectionFactory f = warren.factory();
        f.setPassword("wrong-" + UUID.randomUUID());
        assertThatThrownBy(f::newConnection)
                .isInstanceOf(AuthenticationFailureException.class)
                .hasMessageContaining("ACCESS_REFUSED");
    }

    @Test
    void vhostWithoutAccessFailsAtConnectWith530() throws Exception {
        String vhost = unique("vh");
        broker.addVhost(vhost);
        try {
            ConnectionFactory f = warren.factory();
            f.setVirtualHost(vhost);
            assertThatThrownBy(f::newConnection)
                    .isInstanceOf(IOException.class)
                    .cause().isInstanceOf(ShutdownSignalException.class)
                    .hasMessageContaining("530").hasMessageContaining("NOT_ALLOWED");
            ConnectionFactory direct = warren.directFactory();
            direct.setVirtualHost(vhost);
            assertThatThrownBy(direct::newConnection)
                    .cause().hasMessageContaining("530").hasMessageContaining("NOT_ALLOWED");
        } finally {
            broker.deleteVhost(vhost);
        }
    }

    @Test
    void anotherUserAndVhostGetTheirOwnUpstreamConnection() throws Exception {
        String vhost = unique("vh");
        String user = unique("u");
        broker.addVhost(vhost);
        broker.addUser(user, "secret");
        broker.setPermissions(vhost, user);
        try {
            ConnectionFactory f = warren.factory();
            f.setVirtualHost(vhost);
            f.setUsername(user);
            f.setPassword("secret");
            try (Connection c = f.newConnection(); Channel ch = c.createChannel()) {
                String q = ch.queueDeclare(unique("q"), false, false, true, null).getQueue();
                assertThat(broker.listQueues(vhost)).contains(q);
                assertThat(broker.listConnections("user", "vhost"))
                        .anySatisfy(row -> assertThat(row).containsEntry("user", user).containsEntry("vhost", vhost));
            }
        } finally {
            broker.deleteUser(user);
            broker.deleteVhost(vhost);
        }
    }

    @Test
    void connectionBlockedAndUnblockedReachTheClient() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel()) {
            c.addBlockedListener(new BlockedListener() {
                @Override
                public void handleBlocked(String reason) {
                    events.add("blocked");
                }

                @Override
                public void handleUnblocked() {
                    events.add("unblocked");
                }
            });
            String q = ch.queueDeclare(unique("q"), false, false, true, null).getQueue();
            broker.rabbitmqctl("set_vm_memory_high_watermark", "0.0000001");
            try {
                ch.basicPublish("", q, null, new byte[10]); // RabbitMQ blocks a connection when it publishes
                await().atMost(Duration.ofSeconds(20)).until(() -> events.contains("blocked"));
            } finally {
                broker.rabbitmqctl("set_vm_memory_high_watermark", "0.4");
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> events.contains("unblocked"));
        }
    }

    @Test
    void upstreamConnectionErrorClosesEveryClientOnItWithTheBrokersCode() throws Exception {
        Connection a = warren.factory().newConnection();
        Connection b = warren.factory().newConnection();
        {
            a.createChannel();
            b.createChannel();
            AtomicReference<ShutdownSignalException> seenA = new AtomicReference<>();
            AtomicReference<ShutdownSignalException> seenB = new AtomicReference<>();
            a.addShutdownListener(seenA::set);
            b.addShutdownListener(seenB::set);
            // Only Warren is connected to the broker here: this closes its upstream connection.
            broker.rabbitmqctl("close_all_connections", "test closes Warren's connection");
            await().atMost(Duration.ofSeconds(10)).until(() -> seenA.get() != null && seenB.get() != null);
            for (ShutdownSignalException s : List.of(seenA.get(), seenB.get())) {
                assertThat(s.isHardError()).isTrue();
                assertThat(s.getMessage()).contains("320").contains("test closes Warren's connection");
            }
        }
        try (Connection again = warren.factory().newConnection(); Channel ch = again.createChannel()) {
            assertThat(ch.isOpen()).isTrue();
        }
    }

    @Test
    void fiftyConcurrentClientsShareOneBrokerConnectionPerEventLoop() throws Exception {
        // A Warren of its own, so no earlier login (re-authentication interval) can add a second connection.
        try (WarrenHarness warren = WarrenHarness.start(broker)) {
            fiftyClients(warren);
        }
    }

    @Test
    void onceEveryLoopHasAConnectionAClientsChannelsAreOnItsOwnLoop() throws Exception {
        // A frame passed from one event loop to another wakes the other (docs/benchmarks.md, section 8): a client's
        // channels belong on an upstream connection its own loop serves. Policy "never" pools no channel, so every
        // channel here is opened for its client.
        try (WarrenHarness warren = WarrenHarness.start(broker, c -> c, "never")) {
            warren.connectOnEveryLoop();
            String name = unique("own-loop");
            List<Connection> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 2 * warren.eventLoops(); i++) {
                    Connection c = warren.factory().newConnection(name);
                    c.createChannel();
                    c.createChannel();
                    clients.add(c);
                }
                List<UpstreamView> upstreams = warren.proxy.upstreams().get(10, TimeUnit.SECONDS);
                Map<Long, Integer> loopOfUpstream = upstreams.stream()
                        .collect(Collectors.toMap(UpstreamView::id, UpstreamView::eventLoop));
                List<ClientView> views = warren.proxy.clients().get(10, TimeUnit.SECONDS).stream()
                        .filter(v -> v.connectionName().equals(name)).toList();
                // Each client is served by its own loop's connection alone (the first earlier clients are gone).
                for (UpstreamView u : upstreams) {
                    assertThat(u.clients()).as("clients of the connection on loop %d", u.eventLoop())
                            .isEqualTo(views.stream().filter(v -> v.eventLoop() == u.eventLoop()).count());
                }
                assertThat(views).hasSize(clients.size());
                assertThat(views).extracting(ClientView::eventLoop).as("clients on every loop")
                        .containsAll(IntStream.range(0, warren.eventLoops()).boxed().toList());
                for (ClientView v : views) {
                    assertThat(v.channels()).hasSize(2);
                    assertThat(v.channels()).extracting(ch -> loopOfUpstream.get(ch.upstreamConnection()))
                            .as("the loops of client %d's upstream connections", v.id()).containsOnly(v.eventLoop());
                }
            } finally {
                for (Connection c : clients) {
                    c.close();
                }
            }
        }
    }

    @Test
    void aClientServedFromAnotherLoopOpensItsLaterChannelsOnItsOwnLoop() throws Exception {
        // The second client comes before its loop has a connection of the key: it is served at once by the first
        // one's, on the other loop, while its own loop's is dialed; the channels it opens after that are on its loop.
        try (WarrenHarness warren = WarrenHarness.start(broker, c -> c, "never");
                Connection first = warren.factory().newConnection("first");
                Connection second = warren.factory().newConnection("second")) {
            first.createChannel();
            await().atMost(Duration.ofSeconds(10)).until(() -> warren.proxy.upstreamConnectionCount()
                    == warren.eventLoops() && warren.proxy.upstreams().get().stream()
                            .allMatch(u -> u.state().equals("ready")));
            second.createChannel();
            second.createChannel();
            Map<Long, Integer> loopOfUpstream = warren.proxy.upstreams().get(10, TimeUnit.SECONDS).stream()
                    .collect(Collectors.toMap(UpstreamView::id, UpstreamView::eventLoop));
            ClientView v = warren.proxy.clients().get(10, TimeUnit.SECONDS).stream()
                    .filter(c -> c.connectionName().equals("second")).findFirst().orElseThrow();
            assertThat(v.channels()).extracting(ch -> loopOfUpstream.get(ch.upstreamConnection()))
                    .containsExactly(v.eventLoop(), v.eventLoop());
        }
    }

    @Test
    void aClientIsLentOnlyIdleChannelsOfItsOwnLoopOnceItsLoopHasAConnection() throws Exception {
        // connectOnEveryLoop leaves the key's idle channels on the first loop: the later loops' first clients were
        // served there while their own connections were dialed. A client of another loop opens a channel on its own
        // loop's connection rather than borrowing one of those, and the channels it returns are lent on its loop.
        try (WarrenHarness warren = WarrenHarness.start(broker, c -> c, "publish-safe")) {
            warren.connectOnEveryLoop();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> warren.proxy.pools().get().get(0).channelsScrubbing() == 0);
            int rounds = 3 * warren.eventLoops();
            long[] opened = new long[rounds];
            for (int i = 0; i < rounds; i++) {
                long before = warren.proxy.stats().upstreamChannelsOpenedTotal();
                String name = unique("lent-" + i);
                try (Connection c = warren.factory().newConnection(name)) {
                    Channel ch = c.createChannel();
                    Map<Long, Integer> loopOfUpstream = warren.proxy.upstreams().get(10, TimeUnit.SECONDS).stream()
                            .collect(Collectors.toMap(UpstreamView::id, UpstreamView::eventLoop));
                    ClientView v = warren.proxy.clients().get(10, TimeUnit.SECONDS).stream()
                            .filter(cv -> cv.connectionName().equals(name)).findFirst().orElseThrow();
                    assertThat(v.channels()).extracting(u -> loopOfUpstream.get(u.upstreamConnection()))
                            .as("the loop of client %d's channel (client on loop %d)", i, v.eventLoop())
                            .containsExactly(v.eventLoop());
                    ch.basicPublish("", "no-such-queue", null, "x".getBytes(StandardCharsets.UTF_8));
                    ch.close();
                }
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> warren.proxy.pools().get().get(0).channelsScrubbing() == 0);
                opened[i] = warren.proxy.stats().upstreamChannelsOpenedTotal() - before;
            }
            // Each loop opens a channel once at most; after that its clients are lent the ones it scrubbed.
            assertThat(Arrays.stream(opened).sum()).isLessThanOrEqualTo(warren.eventLoops());
            assertThat(Arrays.copyOfRange(opened, rounds - warren.eventLoops(), rounds)).containsOnly(0L);
        }
    }

    private static void fiftyClients(WarrenHarness warren) throws Exception {
        long before = warren.brokerConnectionsFromWarren();
        String q;
        try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel()) {
            q = ch.queueDeclare(unique("q"), false, false, false, null).getQueue();
        }
        List<Connection> clients = new ArrayList<>();
        try {
            List<Thread> threads = new ArrayList<>();
            List<Throwable> errors = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 50; i++) {
                int n = i;
                Connection c = warren.factory().newConnection();
                clients.add(c);
                threads.add(new Thread(() -> {
                    try {
                        Channel ch = c.createChannel();
                        for (int m = 0; m < 20; m++) {
                            ch.basicPublish("", q, null, (n + ":" + m).getBytes(StandardCharsets.UTF_8));
                        }
                    } catch (Exception e) {
                        errors.add(e);
                    }
                }));
            }
            threads.forEach(Thread::start);
            for (Thread t : threads) {
                t.join();
            }
            assertThat(errors).isEmpty();
            // One per loop (the clients are spread over the loops; each loop's own connection keeps their frames
            // on it), the second dialed beside the first while the first served everyone.
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> warren.brokerConnectionsFromWarren() - before == warren.eventLoops());
            try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> ch.messageCount(q) == 1000);
                ch.queueDelete(q);
            }
        } finally {
            for (Connection c : clients) {
                c.close();
            }
        }
    }
}
