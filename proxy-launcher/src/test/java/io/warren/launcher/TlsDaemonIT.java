package io.warren.launcher;

import io.warren.testsupport.TlsTestCerts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.warren.tls.PemTls;
import io.warren.api.transport.TlsClientSettings;
import io.warren.testsupport.BrokerConfig;
import io.warren.testsupport.PortFinder;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** bin/warren with TLS on both sides in front of a broker with an amqps listener: traffic, logs and /metrics. */
@WithRabbitBroker
@BrokerConfig(conf = {
        "listeners.ssl.default = 127.0.0.1:${port:amqps}",
        "ssl_options.cacertfile = " + TlsTestCerts.CA,
        "ssl_options.certfile = " + TlsTestCerts.SERVER_CERT,
        "ssl_options.keyfile = " + TlsTestCerts.SERVER_KEY,
        "ssl_options.verify = verify_none",
        "ssl_options.fail_if_no_peer_cert = false"})
class TlsDaemonIT {
    static {
        TlsTestCerts.ensure(); // before the broker starts: it reads the files
    }

    private static ConnectionFactory client(int port) {
        return WarrenProcess.client(port, "guest", "guest");
    }

    private static void roundTrip(Connection c) throws Exception {
        Channel ch = c.createChannel();
        String q = ch.queueDeclare("tls-daemon-" + UUID.randomUUID(), false, false, true, null).getQueue();
        ch.confirmSelect();
        ch.basicPublish("", q, null, "hello".getBytes(StandardCharsets.UTF_8));
        ch.waitForConfirmsOrDie(10_000);
        GetResponse r = ch.basicGet(q, true);
        assertThat(r).isNotNull();
        assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("hello");
    }

    @Test
    void amqpsBothWaysWithMetrics(RabbitBroker broker) throws Exception {
        int amqp = PortFinder.freePort();
        int amqps = PortFinder.freePort();
        int http = PortFinder.freePort();
        try (WarrenProcess warren = WarrenProcess.start(Map.of("WARREN_UPSTREAM_CA", TlsTestCerts.CA),
                "--listen", "127.0.0.1:" + amqp, "--http", "127.0.0.1:" + http, "--drain-timeout", "1s",
                "--tls-listen", "127.0.0.1:" + amqps, "--tls-cert", TlsTestCerts.SERVER_CERT,
                "--tls-key", TlsTestCerts.SERVER_KEY, "amqps://localhost:" + broker.port("amqps"))) {
            warren.awaitOutput("/healthz /readyz /metrics", Duration.ofSeconds(30));
            assertThat(warren.output()).contains("listening on 127.0.0.1:" + amqp + " (amqp) and 127.0.0.1:" + amqps
                    + " (amqps)").contains("amqps://localhost:" + broker.port("amqps"));
            assertThat(WarrenProcess.get(http, "/readyz").statusCode()).as("readyz probes over TLS").isEqualTo(200);

            try (Connection plain = client(amqp).newConnection()) {
                roundTrip(plain);
            }
            ConnectionFactory tls = client(amqps);
            tls.setHost("localhost");
            tls.useSslProtocol(PemTls.clientContext(TlsClientSettings.verifying("localhost")
                    .withCaFile(Path.of(TlsTestCerts.CA))));
            tls.enableHostnameVerification();
            try (Connection secure = tls.newConnection()) {
                roundTrip(secure);
            }

            String metrics = WarrenProcess.get(http, "/metrics").body();
            assertThat(WarrenProcess.sample(metrics, "warren_tls_handshakes_total{outcome=\"ok\",side=\"client\"}"))
                    .isGreaterThanOrEqualTo(1);
            assertThat(WarrenProcess.sample(metrics, "warren_tls_handshakes_total{outcome=\"ok\",side=\"server\"}"))
                    .isGreaterThanOrEqualTo(1);
            assertThat(WarrenProcess.sample(metrics,
                    "warren_tls_handshakes_total{outcome=\"host_name_mismatch\",side=\"client\"}")).isZero();
            long notAfter = PemTls.readCertificates(Path.of(TlsTestCerts.SERVER_CERT)).get(0).getNotAfter()
                    .toInstant().getEpochSecond();
            assertThat(WarrenProcess.sample(metrics, "warren_tls_certificate_expiry_timestamp_seconds"))
                    .isCloseTo(notAfter, within(1.0));
        }
    }

    @Test
    void insecureSkipVerifyIsLoggedAsAWarningAndWorks(RabbitBroker broker) throws Exception {
        int amqp = PortFinder.freePort();
        int http = PortFinder.freePort();
        // 127.0.0.1 is in the certificate, but the CA is not trusted: only skipping verification gets through.
        try (WarrenProcess warren = WarrenProcess.start(Map.of(), "--listen", "127.0.0.1:" + amqp,
                "--http", "127.0.0.1:" + http, "--drain-timeout", "1s", "--upstream-insecure-skip-verify",
                "amqps://127.0.0.1:" + broker.port("amqps"))) {
            warren.awaitOutput("/healthz /readyz /metrics", Duration.ofSeconds(30));
            assertThat(warren.output().lines().filter(l -> l.contains("WARN") && l.contains("is OFF")))
                    .as(warren.output()).hasSize(1);
            try (Connection plain = client(amqp).newConnection()) {
                roundTrip(plain);
            }
            String metrics = WarrenProcess.get(http, "/metrics").body();
            assertThat(metrics).doesNotContain("warren_tls_certificate_expiry_timestamp_seconds");
        }
    }
}
