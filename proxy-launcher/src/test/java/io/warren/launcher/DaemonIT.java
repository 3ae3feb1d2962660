package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.testsupport.PortFinder;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** bin/warren in front of a real broker: HTTP endpoints, metrics, logs, signals. */
@WithRabbitBroker
class DaemonIT {
    static RabbitBroker broker;

    /** README, "HTTP endpoints and metrics": the endpoint holds at most 16 connections... */
    private static final int DOCUMENTED_MAX_CONNECTIONS = 16;
    /** ...and gives a request 10 s from its first bytes to the end of its response. */
    private static final Duration DOCUMENTED_EXCHANGE_DEADLINE = Duration.ofSeconds(10);

    /** True once the peer has closed {@code s} (end of stream or reset); false while a short read times out. */
    private static boolean endedByPeer(Socket s) throws IOException {
        try {
            return s.getInputStream().read() < 0;
        } catch (SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    private static String upstream() {
        return "amqp://" + broker.host() + ":" + broker.amqpPort();
    }

    private static ConnectionFactory client(int port, String user, String password) {
        return WarrenProcess.client(port, user, password);
    }

    @Test
    void servesClientsReportsHealthAndMetricsDrainsOnSigtermAndNeverLogsTheSecret() throws Exception {
        String user = "daemon-it-" + UUID.randomUUID();
        String password = "Pw-" + UUID.randomUUID();
        broker.addUser(user, password);
        broker.setPermissions("/", user);
        int amqp = PortFinder.freePort();
        int http = PortFinder.freePort();
        try (WarrenProcess warren = WarrenProcess.start(Map.of("WARREN_LOG_LEVEL", "debug"),
                "--listen", "127.0.0.1:" + amqp, "--http", "127.0.0.1:" + http, "--drain-timeout", "2s",
                upstream())) {
            warren.awaitOutput("/healthz /readyz /metrics", Duration.ofSeconds(30));
            assertThat(WarrenProcess.get(http, "/healthz").statusCode()).isEqualTo(200);
            HttpResponse<String> ready = WarrenProcess.get(http, "/readyz");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
            assertThat(ready.body()).startsWith("ready\n").contains(": up since ");

            Connection connection = client(amqp, user, password).newConnection();
            CompletableFuture<ShutdownSignalException> closed = new CompletableFuture<>();
            connection.addShutdownListener(closed::complete);
            Channel channel = connection.createChannel();
            String queue = channel.queueDeclare("daemon-it-" + UUID.randomUUID(), false, false, true, null)
                    .getQueue();
            channel.basicPublish("", queue, new AMQP.BasicProperties(), "hello".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(10)).until(() -> channel.messageCount(queue) == 1);

            String metrics = WarrenProcess.get(http, "/metrics").body();
            assertThat(WarrenProcess.sample(metrics, "warren_client_connections")).isEqualTo(1);
            assertThat(WarrenProcess.sample(metrics, "warren_client_channels")).isEqualTo(1);
            assertThat(WarrenProcess.sample(metrics, "warren_upstream_connections")).isGreaterThanOrEqualTo(1);
            assertThat(WarrenProcess.sample(metrics, "warren_upstream_channels")).isGreaterThanOrEqualTo(1);
            assertThat(WarrenProcess.sample(metrics, "warren_handshakes_total{outcome=\"success\"}")).isEqualTo(1);
            assertThat(WarrenProcess.sample(metrics, "warren_handshake_duration_seconds_count")).isEqualTo(1);
            assertThat(WarrenProcess.sample(metrics, "warren_handshake_duration_seconds_bucket{le=\"+Inf\"}"))
                    .isEqualTo(1);
            assertThat(WarrenProcess.sample(metrics, "warren_messages_published_total")).isEqualTo(1);
            assertThat(WarrenProcess.sample(metrics, "warren_message_buffer_bytes")).isZero();
            assertThat(WarrenProcess.sample(metrics, "warren_message_buffer_waiting_clients")).isZero();
            assertThat(metrics).contains("warren_info{credential_keyer=\"credentials\",reuse_policy=\"publish-safe\","
                    + "transport=\"nio\"", "warren_bytes_total{direction=\"received\",peer=\"client\"}",
                    "warren_frames_total{", "warren_upstream_connect_failures_total", "warren_pooled_idle_channels",
                    "warren_channels_lent_total", "warren_upstream_channels_opened_total",
                    "jvm_memory_used_bytes", "jvm_threads_current");

            long signalled = System.nanoTime();
            warren.terminate();
            ShutdownSignalException signal = closed.get(15, TimeUnit.SECONDS);
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled);
            assertThat(signal.isHardError()).isTrue();
            assertThat(((AMQP.Connection.Close) signal.getReason()).getReplyCode()).isEqualTo(320);
            assertThat(waitedMillis).as("closed only after the drain timeout").isGreaterThanOrEqualTo(1500);
            assertThat(warren.awaitExit(Duration.ofSeconds(15))).as(warren.output()).isZero();

            String log = warren.output();
            assertThat(log).contains("Received SIGTERM", "Drain timeout").contains("DEBUG");
            assertThat(log).as("the client's password appears nowhere in the logs").doesNotContain(password);
        } finally {
            broker.deleteUser(user);
        }
    }

    @Test
    void notReadyWhileTheBrokerCannotBeReached() {
        int amqp = PortFinder.freePort();
        int http = PortFinder.freePort();
        int nothing = PortFinder.freePort();
        try (WarrenProcess warren = WarrenProcess.start(Map.of(), "--listen", "127.0.0.1:" + amqp,
                "--http", "127.0.0.1:" + http, "amqp://127.0.0.1:" + nothing)) {
            warren.awaitOutput("/healthz /readyz /metrics", Duration.ofSeconds(30));
            assertThat(WarrenProcess.get(http, "/healthz").statusCode()).isEqualTo(200);
            HttpResponse<String> ready = WarrenProcess.get(http, "/readyz");
            assertThat(ready.statusCode()).isEqualTo(503);
            // Checked at start: the body says so and lists the node, down, with why.
            assertThat(ready.body()).startsWith("not ready: no upstream node is up\n")
                    .contains("node 127.0.0.1:" + nothing + ": down since ").contains("unreachable");
            warren.terminate();
            assertThat(warren.awaitExit(Duration.ofSeconds(15))).as(warren.output()).isZero();
        }
    }

    @Test
    void jsonLogLines() {
        int amqp = PortFinder.freePort();
        try (WarrenProcess warren = WarrenProcess.start(Map.of("WARREN_LOG_FORMAT", "json"),
                "--listen", "127.0.0.1:" + amqp, "--http", "off", upstream())) {
            warren.awaitOutput("drain timeout", Duration.ofSeconds(30));
            warren.terminate();
            assertThat(warren.awaitExit(Duration.ofSeconds(15))).isZero();
            assertThat(warren.output().lines().filter(l -> !l.isBlank()))
                    .as(warren.output())
                    .isNotEmpty()
                    .allSatisfy(l -> assertThat(l).startsWith("{").endsWith("}").contains("\"level\":"));
            assertThat(warren.output()).contains("\"formattedMessage\":\"Upstream amqp:");
        }
    }

    @Test
    void aSecondSignalExitsAtOnce() throws Exception {
        int amqp = PortFinder.freePort();
        try (WarrenProcess warren = WarrenProcess.start(Map.of(), "--listen", "127.0.0.1:" + amqp,
                "--http", "off", "--drain-timeout", "5m", upstream())) {
            warren.awaitOutput("drain timeout", Duration.ofSeconds(30));
            Connection connection = client(amqp, "guest", "guest").newConnection();
            assertThat(connection.isOpen()).isTrue();
            warren.terminate();
            // Warren is draining once it says so; had it stopped instead of waiting for the client, it would exit 0
            // by itself, and never with the second signal's code below.
            warren.awaitOutput("Received SIGTERM: no longer accepting clients; waiting up to 5m for 1 client(s)",
                    Duration.ofSeconds(10));
            assertThat(warren.isAlive()).as("draining, waiting for the client").isTrue();
            warren.signal("INT");
            assertThat(warren.awaitExit(Duration.ofSeconds(10))).as(warren.output()).isEqualTo(128 + 2);
            connection.abort();
        }
    }

    @Test
    void aSignalIgnoredAtStartIsNamedWithTheOneThatStillStopsWarren() throws Exception {
        int amqp = PortFinder.freePort();
        try (WarrenProcess warren = WarrenProcess.startIgnoring("INT", Map.of(), "--listen", "127.0.0.1:" + amqp,
                "--http", "off", upstream())) {
            warren.awaitOutput("drain timeout", Duration.ofSeconds(30));
            assertThat(warren.output()).contains("SIGINT was ignored when Warren started", "so it cannot stop Warren;"
                    + " stop it with SIGTERM").doesNotContain("SIGTERM was ignored");
            // SIGINT, then SIGTERM: a SIGINT that was not ignored would be taken first (a pending signal is taken
            // before one sent after it) and start the drain, and the SIGTERM would then be a second signal, exit 143.
            warren.signal("INT");
            warren.terminate();
            assertThat(warren.awaitExit(Duration.ofSeconds(15))).as(warren.output()).isZero();
            assertThat(warren.output()).contains("Received SIGTERM").doesNotContain("Received SIGINT");
        }
    }

    @Test
    void httpClientsThatHoldConnectionsOrSendHalfARequestAreBounded() throws Exception {
        int amqp = PortFinder.freePort();
        int http = PortFinder.freePort();
        try (WarrenProcess warren = WarrenProcess.start(Map.of(), "--listen", "127.0.0.1:" + amqp,
                "--http", "127.0.0.1:" + http, upstream())) {
            warren.awaitOutput("/healthz /readyz /metrics", Duration.ofSeconds(30));
            long before = warren.openFiles();

            // 100 connections that send nothing: the endpoint holds at most its limit (the rest are closed at once).
            List<Socket> silent = new ArrayList<>();
            try {
                for (int i = 0; i < 100; i++) {
                    Socket s = new Socket("127.0.0.1", http);
                    s.setSoTimeout(20);
                    silent.add(s);
                }
                // The endpoint has taken them all in once it has closed all but its limit.
                Set<Socket> closedByWarren = new HashSet<>();
                await("Warren closes the connections beyond its limit").atMost(Duration.ofSeconds(30))
                        .until(() -> {
                            for (Socket s : silent) {
                                if (!closedByWarren.contains(s) && endedByPeer(s)) {
                                    closedByWarren.add(s);
                                }
                            }
                            return closedByWarren.size() >= silent.size() - DOCUMENTED_MAX_CONNECTIONS;
                        });
                assertThat(warren.openFiles() - before).as("descriptors the HTTP endpoint holds")
                        .isLessThanOrEqualTo(DOCUMENTED_MAX_CONNECTIONS + 4);
            } finally {
                for (Socket s : silent) {
                    s.close();
                }
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> warren.openFiles() <= before + 4);

            // More clients that send half a request than the endpoint had threads: /healthz still answers, and each
            // half request is closed at the exchange deadline.
            List<Socket> halfRequests = new ArrayList<>();
            try {
                long withoutThem = warren.openFiles();
                for (int i = 0; i < 3; i++) {
                    Socket s = new Socket("127.0.0.1", http);
                    s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
                    s.setSoTimeout((int) DOCUMENTED_EXCHANGE_DEADLINE.plusSeconds(20).toMillis());
                    halfRequests.add(s);
                }
                // /healthz is asked once the endpoint holds all three half requests.
                await("the endpoint accepts the half requests").atMost(Duration.ofSeconds(30))
                        .until(() -> warren.openFiles() >= withoutThem + 3);
                assertThat(WarrenProcess.get(http, "/healthz").statusCode()).isEqualTo(200);
                for (Socket s : halfRequests) {
                    assertThat(s.getInputStream().read()).as("the half request's connection is closed").isEqualTo(-1);
                }
            } finally {
                for (Socket s : halfRequests) {
                    s.close();
                }
            }
            assertThat(WarrenProcess.get(http, "/healthz").statusCode()).isEqualTo(200);
            warren.terminate();
            assertThat(warren.awaitExit(Duration.ofSeconds(15))).as(warren.output()).isZero();
        }
    }
}
