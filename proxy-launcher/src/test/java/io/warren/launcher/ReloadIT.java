package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.testsupport.PortFinder;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Reload on SIGHUP and POST /admin/reload of a real bin/warren (issue 14): a changed log level and max-connections
 * take effect while a connected client notices nothing; a broken file changes nothing; what needs a restart is said.
 */
@WithRabbitBroker
class ReloadIT {
    static RabbitBroker broker;

    private static String config(int amqp, int http, String extra) {
        return "upstream = amqp://" + broker.host() + ":" + broker.amqpPort() + "\n"
                + "listen = 127.0.0.1:" + amqp + "\n"
                + "http = 127.0.0.1:" + http + "\n"
                + extra;
    }

    private static ConnectionFactory client(int port) {
        return WarrenProcess.client(port, "guest", "guest");
    }

    private static void works(Channel ch) throws Exception {
        String q = ch.queueDeclare("", false, true, true, null).getQueue();
        ch.basicPublish("", q, null, "still here".getBytes(StandardCharsets.UTF_8));
        assertThat(await().atMost(Duration.ofSeconds(10)).until(() -> ch.basicGet(q, true), r -> r != null)
                .getBody()).isEqualTo("still here".getBytes(StandardCharsets.UTF_8));
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void sighupAppliesLogLevelAndMaxConnectionsWithoutAClientNoticingAndABrokenFileChangesNothing()
            throws Exception {
        Path dir = Files.createTempDirectory("reload-it");
        Path file = dir.resolve("warren.conf");
        int amqp = PortFinder.freePort();
        int http = PortFinder.freePort();
        WarrenProcess.write(file, config(amqp, http, "log-level = info\nmax-connections = 0\n"));
        try (WarrenProcess w = WarrenProcess.start(Map.of(), "--config", file.toString())) {
            w.awaitOutput("/healthz /readyz /metrics /admin", Duration.ofSeconds(30));
            Connection first = client(amqp).newConnection();
            AtomicReference<ShutdownSignalException> firstClosed = new AtomicReference<>();
            first.addShutdownListener(firstClosed::set);
            Channel ch = first.createChannel();
            works(ch);
            try (Connection c = client(amqp).newConnection()) {
                assertThat(c.isOpen()).isTrue();
            }
            assertThat(w.output()).as("info: no client lines").doesNotContain("authenticated as");

            WarrenProcess.write(file, config(amqp, http, "log-level = debug\nmax-connections = 2\n"));
            w.signal("HUP");
            w.awaitOutput("applied log-level: info -> debug, max-connections: 0 -> 2", Duration.ofSeconds(20));
            assertThat(w.output()).contains("Reload (SIGHUP of " + file + ")");
            assertThat(w.isAlive()).as("SIGHUP does not end Warren").isTrue();
            works(ch); // the connected client carried on through the reload
            Connection second = client(amqp).newConnection();
            await().atMost(Duration.ofSeconds(10)).until(() -> w.output().contains("authenticated as"));
            assertThatThrownBy(() -> client(amqp).newConnection()).as("max-connections 2")
                    .hasStackTraceContaining("reply-code=530");

            // A broken file: one line naming the key, nothing changed.
            WarrenProcess.write(file, config(amqp, http, "log-level = debug\nmax-connections = lots\n"));
            w.signal("HUP");
            w.awaitOutput("refused, nothing changed: max-connections (" + file + ":5)", Duration.ofSeconds(20));
            assertThat(count(w.output(), "refused, nothing changed")).isEqualTo(1);
            assertThatThrownBy(() -> client(amqp).newConnection()).as("still 2")
                    .hasStackTraceContaining("reply-code=530");
            second.close();
            try (Connection again = client(amqp).newConnection()) {
                assertThat(again.isOpen()).isTrue();
            }
            works(ch);

            // Through the admin API: the same, answered as JSON; a key that needs a restart is said and kept.
            int otherPort = PortFinder.freePort();
            WarrenProcess.write(file, config(otherPort, http, "log-level = info\nmax-connections = 0\n"));
            HttpResponse<String> r = AdminApiIT.call(http, "POST", "/admin/reload", null, null);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode outcome = new ObjectMapper().readTree(r.body());
            assertThat(outcome.get("applied").toString()).contains("log-level: debug -> info",
                    "max-connections: 2 -> 0");
            assertThat(outcome.get("needs_restart").get(0).asText())
                    .isEqualTo("listen: 127.0.0.1:" + amqp + " -> 127.0.0.1:" + otherPort);
            assertThat(w.output()).contains("listen: 127.0.0.1:" + amqp + " -> 127.0.0.1:" + otherPort
                    + " needs a restart; left as it was");
            try (Connection stillHere = client(amqp).newConnection()) {
                assertThat(stillHere.isOpen()).as("still listening where it was").isTrue();
            }
            WarrenProcess.write(file, config(amqp, http, "frame-max = tiny\n"));
            assertThat(AdminApiIT.error(AdminApiIT.call(http, "POST", "/admin/reload", null, null), 422))
                    .startsWith("reload refused, nothing changed: frame-max (" + file + ":4)");
            WarrenProcess ctl = WarrenProcess.run(Map.of(), "ctl", "--config", dir.resolve("absent.conf").toString(),
                    "--http", "127.0.0.1:" + http, "reload");
            assertThat(ctl.exitCode()).as("ctl reads the file too: " + ctl.output()).isEqualTo(2);
            assertThat(ctl.output()).contains("config: file " + dir.resolve("absent.conf") + " does not exist");

            works(ch);
            assertThat(firstClosed.get()).as("the first client never noticed").isNull();
            first.close();
            w.terminate();
            assertThat(w.awaitExit(Duration.ofSeconds(30))).isZero();
        }
    }

    @Test
    void aSettingGivenOnTheCommandLineWinsOverTheReloadedFileAndSaysSo() throws Exception {
        Path dir = Files.createTempDirectory("reload-it");
        Path file = dir.resolve("warren.conf");
        int amqp = PortFinder.freePort();
        int http = PortFinder.freePort();
        WarrenProcess.write(file, config(amqp, http, "heartbeat = 30s\n"));
        try (WarrenProcess w = WarrenProcess.start(Map.of(), "--config", file.toString(), "--heartbeat", "20s")) {
            w.awaitOutput("/healthz /readyz /metrics /admin", Duration.ofSeconds(30));
            WarrenProcess.write(file, config(amqp, http, "heartbeat = 10s\n"));
            WarrenProcess ctl = WarrenProcess.run(Map.of(), "ctl", "--config", file.toString(), "reload");
            assertThat(ctl.exitCode()).as(ctl.output()).isZero();
            assertThat(ctl.output()).contains("overridden:", "heartbeat: the file's new value is not used;"
                    + " --heartbeat wins");
            try (Connection c = client(amqp).newConnection()) {
                assertThat(c.getHeartbeat()).isEqualTo(20);
            }
            WarrenProcess.write(file, config(amqp, http, "heartbeat = 10s\nidle-connection-timeout = 7s\n"));
            WarrenProcess again = WarrenProcess.run(Map.of(), "ctl", "--config", file.toString(), "--json", "reload");
            assertThat(new ObjectMapper().readTree(again.output()).get("applied").get(0).asText())
                    .isEqualTo("idle-connection-timeout: 5m -> 7s");

            // amqp to amqps would change the upstream TLS too: that needs a restart, and the nodes stay.
            String amqps = "amqps://" + broker.host() + ":" + broker.amqpPort();
            WarrenProcess.write(file, config(amqp, http, "heartbeat = 10s\nidle-connection-timeout = 7s\n")
                    .replace("amqp://", "amqps://"));
            WarrenProcess tls = WarrenProcess.run(Map.of(), "ctl", "--config", file.toString(), "reload");
            assertThat(tls.output()).contains("needs a restart (left as it was):", "upstream: amqp://"
                    + broker.host() + ":" + broker.amqpPort() + " -> " + amqps);
            try (Connection c = client(amqp).newConnection()) {
                assertThat(c.isOpen()).as("still served by the amqp node").isTrue();
            }
        }
    }
}
