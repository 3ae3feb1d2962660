package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.warren.testsupport.PortFinder;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.TlsTestCerts;
import io.warren.testsupport.WithRabbitBroker;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shipped Grafana dashboard and Prometheus alert rules (monitoring/ of the distribution) name only metrics, and
 * labels of them, that a running Warren really exposes: Warren is started from the distribution in front of the test
 * broker, with a TLS listener (for the certificate expiry gauge) and one client through it, and /metrics is scraped.
 */
@WithRabbitBroker
class MonitoringIT {
    /** Metric names of Warren's, the JVM's and the process's: every such identifier in an expression is checked. */
    private static final Pattern METRIC = Pattern.compile("\\b((?:warren|jvm|process)_[a-z0-9_]+)\\b");
    /** A selector right after a metric name: its label names are checked too. */
    private static final Pattern SELECTOR = Pattern.compile("\\b((?:warren|jvm|process)_[a-z0-9_]+)\\{([^}]*)}");
    private static final Pattern MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(?:=~|!~|!=|=)\\s*\"");
    /** Added by Prometheus to every series it scrapes, not by Warren. */
    private static final Set<String> TARGET_LABELS = Set.of("job", "instance");

    static RabbitBroker broker;
    private static Exposition exposition;

    static {
        TlsTestCerts.ensure();
    }

    /** What one scrape shows: series names (from the samples and the TYPE lines) and each one's label names. */
    record Exposition(Set<String> names, Map<String, Set<String>> labels) {
        static Exposition parse(String text) {
            Set<String> names = new TreeSet<>();
            Map<String, Set<String>> labels = new HashMap<>();
            for (String line : text.split("\n")) {
                if (line.startsWith("# TYPE ")) {
                    String[] t = line.split(" ");
                    names.addAll(switch (t[3]) {
                        case "counter" -> List.of(t[2] + "_total");
                        case "histogram" -> List.of(t[2] + "_bucket", t[2] + "_sum", t[2] + "_count");
                        case "summary" -> List.of(t[2], t[2] + "_sum", t[2] + "_count");
                        default -> List.of(t[2]);
                    });
                } else if (!line.isBlank() && !line.startsWith("#")) {
                    int brace = line.indexOf('{');
                    int space = line.indexOf(' ');
                    String name = line.substring(0, brace >= 0 && brace < space ? brace : space);
                    names.add(name);
                    Set<String> ls = labels.computeIfAbsent(name, k -> new HashSet<>());
                    if (brace >= 0 && brace < space) {
                        Matcher m = MATCHER.matcher(line.substring(brace, line.indexOf('}')));
                        while (m.find()) {
                            ls.add(m.group(1));
                        }
                    }
                }
            }
            return new Exposition(names, labels);
        }

        /** What {@code expression} names that this exposition lacks, one line each; empty when all is there. */
        List<String> missing(String where, String expression) {
            List<String> problems = new ArrayList<>();
            Matcher m = METRIC.matcher(expression);
            while (m.find()) {
                if (!names.contains(m.group(1))) {
                    problems.add(where + ": metric " + m.group(1) + " is not exposed by Warren (in: " + expression + ")");
                }
            }
            Matcher s = SELECTOR.matcher(expression);
            while (s.find()) {
                Set<String> known = labels.getOrDefault(s.group(1), Set.of());
                Matcher l = MATCHER.matcher(s.group(2));
                while (l.find()) {
                    if (!TARGET_LABELS.contains(l.group(1)) && !known.contains(l.group(1))) {
                        problems.add(where + ": " + s.group(1) + " has no label " + l.group(1) + " (in: " + expression
                                + ")");
                    }
                }
            }
            return problems;
        }
    }

    @BeforeAll
    static void scrapeARunningWarren() throws Exception {
        int amqp = PortFinder.freePort();
        int amqps = PortFinder.freePort();
        int http = PortFinder.freePort();
        try (WarrenProcess warren = WarrenProcess.start(Map.of(), "--listen", "127.0.0.1:" + amqp,
                "--http", "127.0.0.1:" + http, "--tls-listen", "127.0.0.1:" + amqps,
                "--tls-cert", TlsTestCerts.SERVER_CERT, "--tls-key", TlsTestCerts.SERVER_KEY,
                "amqp://" + broker.host() + ":" + broker.amqpPort())) {
            warren.awaitOutput("/healthz /readyz /metrics", Duration.ofSeconds(30));
            ConnectionFactory cf = new ConnectionFactory();
            cf.setHost("127.0.0.1");
            cf.setPort(amqp);
            cf.setAutomaticRecoveryEnabled(false);
            try (Connection c = cf.newConnection()) {
                c.createChannel().close();
            }
            // A client that breaks the protocol (a frame without its end octet), so that the violations counter has
            // a series: Prometheus clients expose none for a counter that has no labelled value yet.
            try (Socket raw = new Socket("127.0.0.1", amqp)) {
                raw.setSoTimeout(10_000);
                raw.getOutputStream().write("AMQP\0\0\11\1".getBytes(StandardCharsets.ISO_8859_1));
                raw.getInputStream().read(new byte[4096]);
                raw.getOutputStream().write(new byte[] {1, 0, 0, 0, 0, 0, 4, 'a', 'b', 'c', 'd', 0});
                while (raw.getInputStream().read(new byte[4096]) >= 0) {
                    // until Warren closes it
                }
            }
            exposition = Exposition.parse(WarrenProcess.get(http, "/metrics").body());
            warren.terminate();
            warren.awaitExit(Duration.ofSeconds(30));
        }
    }

    private static Path monitoring(String file) {
        return WarrenProcess.dist().resolve("monitoring").resolve(file);
    }

    @Test
    void everyMetricOfTheDashboardIsExposed() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(monitoring("grafana-dashboard.json").toFile());
        List<String> problems = new ArrayList<>();
        List<String> exprs = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.path("targets")) {
                String expr = target.get("expr").asText();
                exprs.add(expr);
                problems.addAll(exposition.missing("panel '" + panel.get("title").asText() + "'", expr));
            }
        }
        for (JsonNode variable : dashboard.at("/templating/list")) {
            problems.addAll(exposition.missing("variable " + variable.get("name").asText(),
                    variable.path("definition").asText()));
        }
        assertThat(problems).isEmpty();
        // What issue 16 asks the dashboard to show, by the metric that shows it.
        assertThat(String.join("\n", exprs)).contains("warren_client_connections", "warren_upstream_connections",
                "warren_upstream_channels", "warren_channels_lent_total", "warren_handshake_duration_seconds_bucket",
                "warren_bytes_total", "warren_messages_published_total", "warren_message_buffer_limit_bytes",
                "warren_slow_client_buffer_limit_bytes", "warren_tls_certificate_expiry_timestamp_seconds");
    }

    @Test
    void everyMetricOfTheAlertRulesIsExposed() throws Exception {
        List<String> lines = Files.readAllLines(monitoring("prometheus-alerts.yml"));
        List<String> problems = new ArrayList<>();
        Map<String, String> alerts = new HashMap<>();
        String alert = null;
        for (String line : lines) {
            String t = line.strip();
            if (t.startsWith("- alert: ")) {
                alert = t.substring("- alert: ".length());
            } else if (t.startsWith("expr: ")) {
                String expr = t.substring("expr: ".length()).replaceAll("^'|'$", "");
                assertThat(alert).as("an expr outside an alert: " + line).isNotNull();
                alerts.put(alert, expr);
                problems.addAll(exposition.missing("alert " + alert, expr));
            }
        }
        assertThat(problems).isEmpty();
        assertThat(alerts).containsKeys("WarrenNoUpstreamNode", "WarrenUpstreamNodeDown", "WarrenTlsCertificateExpiresSoon",
                "WarrenMessageBufferNearlyFull", "WarrenSlowClientBufferNearlyFull", "WarrenHandshakeFailuresRising");
    }

    @Test
    void theCheckFindsAMisspeltMetricOrLabel() {
        assertThat(exposition.missing("test", "rate(warren_client_conections_accepted_total[5m])"))
                .singleElement().asString().contains("warren_client_conections_accepted_total");
        assertThat(exposition.missing("test", "warren_handshakes_total{outcom=\"success\"}"))
                .singleElement().asString().contains("no label outcom");
        assertThat(exposition.missing("test", "sum by (instance) (rate(warren_handshakes_total{job=\"w\","
                + "outcome!=\"success\"}[5m]))")).isEmpty();
    }
}
