package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.MessageProperties;
import io.warren.testsupport.PortFinder;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * README, "Upgrading without dropping clients": a second bin/warren started on the same listen and HTTP addresses
 * while the first serves short-lived publishers, then SIGTERM to the first. No client may fail and every confirmed
 * message must be in the queue, counted at the broker.
 */
@WithRabbitBroker
class RestartIT {
    static RabbitBroker broker;

    /** The load: short-lived publishers, one new client every 5 ms. */
    private static final int CLIENTS_PER_SECOND = 200;
    private static final Duration SETTLE = Duration.ofSeconds(2);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** Opens a client every 1/rate seconds, each: connect, channel, confirms, one persistent publish, close. */
    private static final class Publishers implements AutoCloseable {
        final AtomicLong started = new AtomicLong();
        final AtomicLong confirmed = new AtomicLong();
        /** Each failure with the step of the restart it happened in and its chain of causes. */
        final Queue<String> failures = new ConcurrentLinkedQueue<>();
        volatile String step = "first Warren alone";
        private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
        private final ExecutorService clients = Executors.newFixedThreadPool(64);
        private final ConnectionFactory factory;
        private final String queue;

        Publishers(ConnectionFactory factory, String queue) {
            this.factory = factory;
            this.queue = queue;
            ticker.scheduleAtFixedRate(() -> clients.execute(this::publishOnce), 0, 1_000_000 / CLIENTS_PER_SECOND,
                    TimeUnit.MICROSECONDS);
        }

        private void publishOnce() {
            long n = started.incrementAndGet();
            String during = step;
            try (Connection c = factory.newConnection("restart-it-" + n)) {
                Channel ch = c.createChannel();
                ch.confirmSelect();
                ch.basicPublish("", queue, MessageProperties.PERSISTENT_TEXT_PLAIN,
                        ("message " + n).getBytes(StandardCharsets.UTF_8));
                ch.waitForConfirmsOrDie(10_000);
                confirmed.incrementAndGet();
            } catch (Exception e) {
                StringBuilder chain = new StringBuilder("client " + n + " (started: " + during + "; failed: " + step
                        + "): ");
                for (Throwable t = e; t != null; t = t.getCause()) {
                    chain.append(t == e ? "" : " <- ").append(t);
                }
                failures.add(chain.toString());
            }
        }

        /** Stops starting clients and waits for those under way. */
        @Override
        public void close() throws InterruptedException {
            ticker.shutdownNow();
            ticker.awaitTermination(10, TimeUnit.SECONDS);
            clients.shutdown();
            if (!clients.awaitTermination(60, TimeUnit.SECONDS)) {
                throw new AssertionError("publishers still running after 60 s");
            }
        }
    }

    @Test
    void aSecondWarrenTakesOverWhileTheFirstDrainsAndNoClientFailsNorAnyMessageIsLost() throws Exception {
        String user = "restart-it-" + UUID.randomUUID();
        String password = "Pw-" + UUID.randomUUID();
        broker.addUser(user, password);
        broker.setPermissions("/", user);
        String queue = "restart-it-" + UUID.randomUUID();
        ConnectionFactory direct = new ConnectionFactory();
        direct.setUri(broker.amqpUri(user, password, "/"));
        try (Connection c = direct.newConnection(); Channel ch = c.createChannel()) {
            ch.queueDeclare(queue, true, false, false, null);
        }
        int amqp = PortFinder.freePort();
        int http = PortFinder.freePort();
        InetSocketAddress listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), amqp);
        String[] args = {"--listen", "127.0.0.1:" + amqp, "--http", "127.0.0.1:" + http, "--drain-timeout", "20s",
                "amqp://" + broker.host() + ":" + broker.amqpPort()};
        ConnectionFactory viaWarren = new ConnectionFactory();
        viaWarren.setHost("127.0.0.1");
        viaWarren.setPort(amqp);
        viaWarren.setUsername(user);
        viaWarren.setPassword(password);
        viaWarren.setAutomaticRecoveryEnabled(false);
        viaWarren.setConnectionTimeout(10_000);

        Publishers publishers;
        double acceptedByFirst;
        try (WarrenProcess first = WarrenProcess.start(Map.of(), args)) {
            first.awaitOutput("/healthz /readyz /metrics", TIMEOUT);
            publishers = new Publishers(viaWarren, queue);
            Thread.sleep(SETTLE.toMillis());
            publishers.step = "second Warren starting";
            try (WarrenProcess second = WarrenProcess.start(Map.of(), args)) {
                try {
                    Thread.sleep(SETTLE.toMillis());
                    // Started while the first serves: it shares the AMQP address and waits for the HTTP one.
                    second.awaitOutput("/healthz /readyz /metrics", TIMEOUT);
                    assertThat(second.output()).contains("HTTP 127.0.0.1:" + http + " is in use");
                    assertThat(ListeningSockets.count(listen)).contains(2);
                    publishers.step = "both Warrens listening";
                    Thread.sleep(SETTLE.toMillis()); // both take clients now

                    acceptedByFirst = WarrenProcess.sample(WarrenProcess.get(http, "/metrics").body(),
                            "warren_client_connections_accepted_total");
                    publishers.step = "first Warren sent SIGTERM";
                    first.terminate();
                    assertThat(first.awaitExit(TIMEOUT)).as(first.output()).isZero();
                    publishers.step = "first Warren exited";
                    assertThat(ListeningSockets.count(listen)).contains(1);
                    second.awaitOutput("the Warren this one replaces has let go of it", TIMEOUT);
                    await().atMost(TIMEOUT).until(() -> WarrenProcess.get(http, "/readyz").statusCode() == 200);
                    Thread.sleep(SETTLE.toMillis()); // the second alone
                } finally {
                    publishers.close();
                }
                double acceptedBySecond = WarrenProcess.sample(WarrenProcess.get(http, "/metrics").body(),
                        "warren_client_connections_accepted_total");
                long inQueue;
                try (Connection c = direct.newConnection(); Channel ch = c.createChannel()) {
                    inQueue = ch.queueDeclarePassive(queue).getMessageCount();
                    ch.queueDelete(queue);
                }
                String summary = publishers.started.get() + " clients, " + publishers.confirmed.get()
                        + " confirmed, " + publishers.failures.size() + " failed, " + inQueue + " in the queue; first"
                        + " Warren accepted " + (long) acceptedByFirst + " before SIGTERM, second "
                        + (long) acceptedBySecond + "; " + first.output().lines()
                                .filter(l -> l.contains("stopped listening")).findFirst().orElse("");
                System.out.println("RestartIT: " + summary);
                assertThat(publishers.failures).as(summary).isEmpty();
                assertThat(publishers.confirmed.get()).as(summary).isEqualTo(publishers.started.get());
                assertThat(inQueue).as(summary).isEqualTo(publishers.confirmed.get());
                assertThat(acceptedByFirst).as(summary).isPositive();
                assertThat(acceptedBySecond).as("the second served clients: " + summary).isPositive();
                assertThat(first.output()).contains("stopped listening on 127.0.0.1:" + amqp);

                second.terminate();
                assertThat(second.awaitExit(TIMEOUT)).as(second.output()).isZero();
            }
        } finally {
            broker.deleteUser(user);
        }
    }

    /** Without a Warren to replace, an HTTP address in use is a startup error as before (exit code 1). */
    @Test
    void anHttpAddressInUseWithoutAWarrenToReplaceStillStopsStartup() throws Exception {
        int amqp = PortFinder.freePort();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                WarrenProcess warren = WarrenProcess.start(Map.of(), "--listen", "127.0.0.1:" + amqp, "--http",
                        "127.0.0.1:" + taken.getLocalPort(), "amqp://" + broker.host() + ":" + broker.amqpPort())) {
            assertThat(warren.awaitExit(TIMEOUT)).as(warren.output()).isEqualTo(1);
            assertThat(warren.output()).contains("cannot listen for HTTP on 127.0.0.1:" + taken.getLocalPort());
        }
    }
}
