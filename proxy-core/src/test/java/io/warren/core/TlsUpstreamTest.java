package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DeliverCallback;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.api.ChannelReusePolicy;
import io.warren.api.CredentialKeyer;
import io.warren.api.Providers;
import io.warren.tls.PemTls;
import io.warren.api.transport.TlsClientSettings;
import io.warren.api.transport.TlsHandshakeOutcome;
import io.warren.api.transport.TlsServerSettings;
import io.warren.api.transport.TlsSide;
import io.warren.api.transport.Transport;
import io.warren.api.transport.TransportSettings;
import io.warren.core.config.ProxyConfig;
import io.warren.testsupport.BrokerConfig;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.TlsTestCerts;
import io.warren.testsupport.WithRabbitBroker;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * TLS on both sides against a real broker with an amqps listener: Warren speaks amqps upstream (verifying the
 * broker's certificate against the test CA), and clients speak amqps to Warren's TLS listener.
 */
@WithRabbitBroker
@BrokerConfig(conf = {
        "listeners.ssl.default = 127.0.0.1:${port:amqps}",
        "ssl_options.cacertfile = " + TlsTestCerts.CA,
        "ssl_options.certfile = " + TlsTestCerts.SERVER_CERT,
        "ssl_options.keyfile = " + TlsTestCerts.SERVER_KEY,
        "ssl_options.verify = verify_none",
        "ssl_options.fail_if_no_peer_cert = false"})
class TlsUpstreamTest {
    static {
        TlsTestCerts.ensure(); // before the broker starts: it reads the files
    }

    private static final Path CA = Path.of(TlsTestCerts.CA);

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    /** Warren in front of the broker's amqps listener; {@code tls} decides how it verifies the broker. */
    static WarrenProxy start(RabbitBroker broker, TlsClientSettings tls, UnaryOperator<ProxyConfig.Builder> more)
            throws Exception {
        ClassLoader cl = TlsUpstreamTest.class.getClassLoader();
        ProxyConfig config = more.apply(ProxyConfig.builder(new InetSocketAddress("127.0.0.1", broker.port("amqps")))
                .listen(new InetSocketAddress("127.0.0.1", 0))
                .upstreamConnectTimeout(Duration.ofSeconds(5))
                .upstreamTls(tls)).build();
        return WarrenProxy.start(config, Providers.load(Transport.class, "nio", cl), TransportSettings.defaults(),
                Providers.load(CredentialKeyer.class, "credentials", cl),
                Providers.load(ChannelReusePolicy.class, "publish-safe", cl));
    }

    private static TlsClientSettings trustingTestCa() {
        return TlsClientSettings.verifying("localhost").withCaFile(CA);
    }

    static ConnectionFactory factory(int port) {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost("127.0.0.1");
        f.setPort(port);
        f.setUsername("guest");
        f.setPassword("guest");
        f.setAutomaticRecoveryEnabled(false);
        f.setConnectionTimeout(10_000);
        return f;
    }

    @Test
    void publishConsumeConfirmsAndFiveMebibytesThroughAmqpsUpstream(RabbitBroker broker) throws Exception {
        try (WarrenProxy warren = start(broker, trustingTestCa(), b -> b);
                Connection c = factory(warren.listenAddress().getPort()).newConnection()) {
            Channel ch = c.createChannel();
            String q = ch.queueDeclare(unique("tls"), false, false, true, null).getQueue();
            ch.confirmSelect();
            byte[] big = new byte[5 * 1024 * 1024];
            new Random(42).nextBytes(big);
            ch.basicPublish("", q, null, "hello over amqps".getBytes());
            ch.basicPublish("", q, new AMQP.BasicProperties.Builder().contentType("application/octet-stream").build(),
                    big);
            ch.waitForConfirmsOrDie(10_000);

            Channel consumer = c.createChannel();
            BlockingQueue<byte[]> got = new ArrayBlockingQueue<>(2);
            DeliverCallback deliver = (tag, d) -> {
                got.add(d.getBody());
                consumer.basicAck(d.getEnvelope().getDeliveryTag(), false);
            };
            consumer.basicConsume(q, false, deliver, tag -> { });
            assertThat(got.poll(10, TimeUnit.SECONDS)).asString().isEqualTo("hello over amqps");
            byte[] second = got.poll(20, TimeUnit.SECONDS);
            assertThat(second).isNotNull();
            assertThat(Arrays.equals(second, big)).as("5 MiB body intact").isTrue();

            assertThat(warren.tlsStats().handshakes(TlsSide.CLIENT, TlsHandshakeOutcome.OK)).isPositive();
            assertThat(broker.listConnections("ssl").stream().anyMatch(m -> "true".equals(m.get("ssl"))))
                    .as("the broker sees TLS connections: " + broker.listConnections("ssl")).isTrue();
        }
    }

    @Test
    void clientOverWarrensAmqpsListenerWithPlainListenerOff(RabbitBroker broker) throws Exception {
        TlsServerSettings listenerTls = TlsServerSettings.of(Path.of(TlsTestCerts.SERVER_CERT),
                Path.of(TlsTestCerts.SERVER_KEY));
        try (WarrenProxy warren = start(broker, trustingTestCa(),
                b -> b.plainListener(false).tlsListen(new InetSocketAddress("127.0.0.1", 0), listenerTls))) {
            assertThat(warren.plainListenAddress()).isEmpty();
            assertThat(warren.tlsCertificateNotAfter()).contains(PemTls.certificateNotAfter(listenerTls));
            ConnectionFactory f = factory(warren.tlsListenAddress().orElseThrow().getPort());
            f.setHost("localhost");
            SSLContext trustTestCa = PemTls.clientContext(trustingTestCa());
            f.useSslProtocol(trustTestCa);
            f.enableHostnameVerification();
            try (Connection c = f.newConnection()) {
                Channel ch = c.createChannel();
                String q = ch.queueDeclare(unique("tls-in"), false, false, true, null).getQueue();
                ch.confirmSelect();
                ch.basicPublish("", q, null, "both ways".getBytes());
                ch.waitForConfirmsOrDie(10_000);
                GetResponse r = ch.basicGet(q, true);
                assertThat(r).isNotNull();
                assertThat(new String(r.getBody())).isEqualTo("both ways");
            }
            assertThat(warren.tlsStats().handshakes(TlsSide.SERVER, TlsHandshakeOutcome.OK)).isPositive();
            // a plain AMQP client on the TLS port does not get in
            ConnectionFactory plain = factory(warren.tlsListenAddress().get().getPort());
            plain.setConnectionTimeout(3_000);
            plain.setHandshakeTimeout(3_000);
            try (Connection c = plain.newConnection()) {
                fail("a plain client got through the TLS listener");
            } catch (Exception expected) {
                // refused
            }
        }
    }

    @Test
    void brokerCertificateForAnotherHostNameIsRefusedAndExplained(RabbitBroker broker) throws Exception {
        assertRefused(broker, TlsClientSettings.verifying("not-the-broker.example").withCaFile(CA), "host name",
                TlsHandshakeOutcome.HOST_NAME_MISMATCH);
    }

    @Test
    void brokerCertificateFromAnUnknownCaIsRefusedAndExplained(RabbitBroker broker) throws Exception {
        assertRefused(broker, TlsClientSettings.verifying("localhost").withCaFile(TlsTestCerts.path("other-ca.pem")),
                "not trusted", TlsHandshakeOutcome.UNTRUSTED_CERTIFICATE);
    }

    @Test
    void insecureSkipVerifyAcceptsAnyCertificate(RabbitBroker broker) throws Exception {
        TlsClientSettings insecure = TlsClientSettings.verifying("not-the-broker.example")
                .withInsecureSkipVerifyDangerous(true);
        assertThat(PemTls.warnings(insecure, java.time.Instant.now())).anyMatch(w -> w.contains("OFF"));
        try (WarrenProxy warren = start(broker, insecure, b -> b);
                Connection c = factory(warren.listenAddress().getPort()).newConnection()) {
            assertThat(c.createChannel().queueDeclare().getQueue()).isNotEmpty();
        }
    }

    @Test
    @BrokerConfig(conf = {
            "listeners.ssl.default = 127.0.0.1:${port:amqps}",
            "ssl_options.cacertfile = " + TlsTestCerts.CA,
            "ssl_options.certfile = " + TlsTestCerts.EXPIRED_CERT,
            "ssl_options.keyfile = " + TlsTestCerts.EXPIRED_KEY,
            "ssl_options.verify = verify_none",
            "ssl_options.fail_if_no_peer_cert = false"})
    void expiredBrokerCertificateIsRefusedAndExplained(RabbitBroker broker) throws Exception {
        assertRefused(broker, trustingTestCa(), "expired", TlsHandshakeOutcome.EXPIRED_CERTIFICATE);
    }

    /** The client is closed at connect with 320 and a reply text that says why; the failure is logged. */
    private static void assertRefused(RabbitBroker broker, TlsClientSettings tls, String why,
            TlsHandshakeOutcome outcome) throws Exception {
        // The engine's log, whichever of its classes writes the line.
        Logger upstreamLog = (Logger) LoggerFactory.getLogger("io.warren.core");
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        upstreamLog.addAppender(logged);
        try (WarrenProxy warren = start(broker, tls, b -> b)) {
            ConnectionFactory f = factory(warren.listenAddress().getPort());
            ShutdownSignalException closed = null;
            try (Connection c = f.newConnection()) {
                fail("connected through Warren although the broker's certificate is bad");
            } catch (Exception e) {
                for (Throwable t = e; t != null; t = t.getCause()) {
                    if (t instanceof ShutdownSignalException s) {
                        closed = s;
                    }
                }
                assertThat(closed).as("closed by Warren with a reason: " + e).isNotNull();
            }
            AMQP.Connection.Close close = (AMQP.Connection.Close) closed.getReason();
            assertThat(close.getReplyCode()).isEqualTo(320);
            assertThat(close.getReplyText()).contains("TLS handshake").contains(why);
            assertThat(logged.list).as("logged").anyMatch(ev -> ev.getFormattedMessage().contains(why));
            assertThat(warren.tlsStats().handshakes(TlsSide.CLIENT, outcome)).isPositive();
        } finally {
            upstreamLog.detachAppender(logged);
        }
    }
}
