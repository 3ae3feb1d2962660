package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.codec.BasicMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.ProtocolHeader;
import io.warren.codec.QueueMethod;
import io.warren.codec.FieldTable;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Connection life cycles through Warren: handshakes, heartbeats, clients that vanish, a broker that goes away. */
@WithRabbitBroker
class LifecycleTest {
    static RabbitBroker broker;
    static WarrenHarness warren;

    @BeforeAll
    static void start() throws Exception {
        warren = WarrenHarness.start(broker, c -> c.withHandshakeTimeout(Duration.ofSeconds(2))
                .withHeartbeats(Duration.ofSeconds(60), Duration.ofSeconds(2)));
    }

    @AfterAll
    static void stop() {
        warren.close();
    }

    private static String declareQueue() throws Exception {
        try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel()) {
            return ch.queueDeclare("q-" + UUID.randomUUID(), false, false, false, null).getQueue();
        }
    }

    private static long messageCount(String q) throws Exception {
        try (Connection c = warren.directFactory().newConnection(); Channel ch = c.createChannel()) {
            return ch.messageCount(q);
        }
    }

    @Test
    void wrongProtocolHeaderIsAnsweredWithOursAndClosed() throws Exception {
        try (Socket s = new Socket("127.0.0.1", warren.port())) {
            s.getOutputStream().write("AMQP\0\0\10\0".getBytes(StandardCharsets.ISO_8859_1));
            s.setSoTimeout(5000);
            InputStream in = s.getInputStream();
            assertThat(in.readNBytes(8)).isEqualTo(ProtocolHeader.AMQP_0_9_1);
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void clientThatStallsInTheHandshakeIsClosedAtTheTimeout() throws Exception {
        try (RawAmqpClient silent = new RawAmqpClient("127.0.0.1", warren.port())) {
            assertThat(silent.closedWithin(Duration.ofSeconds(10))).isTrue();
        }
        try (RawAmqpClient halfway = new RawAmqpClient("127.0.0.1", warren.port())) {
            halfway.send(ProtocolHeader.AMQP_0_9_1);
            halfway.expect(ConnectionMethod.Start.class);
            ConnectionMethod.Close close = halfway.awaitConnectionClose();
            assertThat(close).isNotNull();
            assertThat(close.replyCode()).isEqualTo(320);
        }
    }

    @Test
    void idleClientKeepsItsConnectionThroughHeartbeats() throws Exception {
        ConnectionFactory f = warren.factory();
        f.setRequestedHeartbeat(1);
        try (Connection c = f.newConnection(); Channel ch = c.createChannel()) {
            Thread.sleep(4000);
            assertThat(c.isOpen()).isTrue();
            assertThat(ch.isOpen()).isTrue();
        }
    }

    @Test
    void silentClientIsDroppedAfterMissedHeartbeats() throws Exception {
        try (RawAmqpClient c = new RawAmqpClient("127.0.0.1", warren.port())) {
            c.handshake("guest", "guest", "/", 1);
            // Never send anything again: Warren must give up after two missed intervals.
            assertThat(c.closedWithin(Duration.ofSeconds(10))).isTrue();
        }
    }

    @Test
    void publishAndVanishLosesNothing() throws Exception {
        String q = declareQueue();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                int n = i;
                done.add(pool.submit(() -> {
                    try (RawAmqpClient c = RawAmqpClient.open("127.0.0.1", warren.port())) {
                        c.openChannel(1);
                        c.publish(1, "", q, ("m" + n).getBytes(StandardCharsets.UTF_8));
                        c.abort(); // no channel.close, no connection.close: a killed PHP worker
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> messageCount(q) == 200);
    }

    @Test
    void clientDroppedMidMessageRoutesNothingPartial() throws Exception {
        String q = declareQueue();
        try (RawAmqpClient c = RawAmqpClient.open("127.0.0.1", warren.port())) {
            c.openChannel(1);
            c.publish(1, "", q, "whole".getBytes(StandardCharsets.UTF_8));
            c.sendMethod(1, new BasicMethod.Publish(0, "", q, false, false));
            c.sendHeader(1, 1000);
            c.sendBody(1, new byte[400]); // 600 bytes short
            c.abort();
        }
        try (Connection conn = warren.factory().newConnection(); Channel ch = conn.createChannel()) {
            ch.basicPublish("", q, null, "after".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(10)).until(() -> messageCount(q) == 2);
            assertThat(new String(ch.basicGet(q, true).getBody(), StandardCharsets.UTF_8)).isEqualTo("whole");
            assertThat(new String(ch.basicGet(q, true).getBody(), StandardCharsets.UTF_8)).isEqualTo("after");
        }
    }

    @Test
    void exclusiveReplyQueuesOfGoneClientsAreDeleted() throws Exception {
        List<String> declared = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 100; i++) {
            try (Connection c = warren.factory().newConnection()) {
                Channel ch = c.createChannel();
                AMQP.Queue.DeclareOk ok = ch.queueDeclare(); // server-named, exclusive, auto-delete
                declared.add(ok.getQueue());
                if (i % 2 == 0) {
                    ch.basicConsume(ok.getQueue(), true, (t, d) -> { }, t -> { });
                }
            }
        }
        // and one raw client that declares by name and drops its socket
        String named = "rpc-" + UUID.randomUUID();
        try (RawAmqpClient raw = RawAmqpClient.open("127.0.0.1", warren.port())) {
            raw.openChannel(1);
            raw.sendMethod(1, new QueueMethod.Declare(0, named, false, false, true, false, false, FieldTable.EMPTY));
            raw.expect(QueueMethod.DeclareOk.class);
            assertThat(broker.listQueues()).contains(named);
            raw.abort();
        }
        declared.add(named);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(broker.listQueues()).doesNotContainAnyElementsOf(declared));
    }

    @Test
    void brokerOutageClosesEveryClientAndNewClientsWorkAfterwards() throws Exception {
        String q = declareQueue();
        List<Connection> clients = new ArrayList<>();
        List<ShutdownSignalException> closes = new CopyOnWriteArrayList<>();
        try {
            for (int i = 0; i < 10; i++) {
                Connection c = warren.factory().newConnection();
                c.addShutdownListener(closes::add);
                Channel ch = c.createChannel();
                if (i % 2 == 0) {
                    ch.basicConsume(q, true, (t, d) -> { }, t -> { });
                } else {
                    ch.basicPublish("", q, null, new byte[10]);
                }
                clients.add(c);
            }
            broker.stopApp(); // returns once the broker has closed its connections
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> closes.size() == 10);
                // Closed because the broker closed the upstream connection, not later by the upstream heartbeat
                // check (2 s, two missed intervals), which would say so: an ordering, not a stopwatch.
                assertThat(closes).allSatisfy(s -> {
                    assertThat(s.isHardError()).isTrue();
                    assertThat(s.getMessage()).contains("320").doesNotContain("missed heartbeats");
                });
            } finally {
                broker.startApp();
            }
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel()) {
                    ch.queueDeclare("after-outage", false, false, true, null);
                    return true;
                }
            });
        } finally {
            for (Connection c : clients) {
                c.abort();
            }
        }
    }
}
