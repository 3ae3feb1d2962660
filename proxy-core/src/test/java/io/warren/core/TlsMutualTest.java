package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.tls.PemTls;
import io.warren.api.transport.TlsClientSettings;
import io.warren.api.transport.TlsServerSettings;
import io.warren.core.config.ProxyConfig;
import io.warren.testsupport.BrokerConfig;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.TlsTestCerts;
import io.warren.testsupport.WithRabbitBroker;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Mutual TLS: a broker that requires client certificates (Warren presents --upstream-cert/--upstream-key), and
 * Warren's own listener requiring client certificates (--tls-client-ca).
 */
@WithRabbitBroker
@BrokerConfig(conf = {
        "listeners.ssl.default = 127.0.0.1:${port:amqps}",
        "ssl_options.cacertfile = " + TlsTestCerts.CA,
        "ssl_options.certfile = " + TlsTestCerts.SERVER_CERT,
        "ssl_options.keyfile = " + TlsTestCerts.SERVER_KEY,
        "ssl_options.verify = verify_peer",
        "ssl_options.fail_if_no_peer_cert = true"})
class TlsMutualTest {
    static {
        TlsTestCerts.ensure(); // before the broker starts: it reads the files
    }

    private static final Path CA = Path.of(TlsTestCerts.CA);
    private static final Path CLIENT_CERT = TlsTestCerts.path("client.pem");
    private static final Path CLIENT_KEY = TlsTestCerts.path("client.key");

    private static WarrenProxy start(RabbitBroker broker, TlsClientSettings tls, UnaryOperator<ProxyConfig.Builder> more)
            throws Exception {
        return TlsUpstreamTest.start(broker, tls, more);
    }

    private static ConnectionFactory factory(int port) {
        return TlsUpstreamTest.factory(port);
    }

    private static void roundTrip(Connection c) throws Exception {
        Channel ch = c.createChannel();
        String q = ch.queueDeclare("mtls-" + UUID.randomUUID(), false, false, true, null).getQueue();
        ch.basicPublish("", q, null, "mutual".getBytes());
        GetResponse r = null;
        for (int i = 0; i < 100 && r == null; i++) {
            r = ch.basicGet(q, true);
        }
        assertThat(r).isNotNull();
        assertThat(new String(r.getBody())).isEqualTo("mutual");
    }

    @Test
    void warrenPresentsItsClientCertificateToABrokerThatRequiresOne(RabbitBroker broker) throws Exception {
        TlsClientSettings tls = TlsClientSettings.verifying("localhost").withCaFile(CA)
                .withClientCertificate(CLIENT_CERT, CLIENT_KEY);
        try (WarrenProxy warren = start(broker, tls, b -> b);
                Connection c = factory(warren.listenAddress().getPort()).newConnection()) {
            roundTrip(c);
        }
    }

    @Test
    void withoutAClientCertificateTheBrokerRefusesAndTheClientIsToldWhy(RabbitBroker broker) throws Exception {
        TlsClientSettings tls = TlsClientSettings.verifying("localhost").withCaFile(CA);
        try (WarrenProxy warren = start(broker, tls, b -> b)) {
            try (Connection c = factory(warren.listenAddress().getPort()).newConnection()) {
                fail("connected through Warren although the broker requires a client certificate");
            } catch (Exception e) {
                ShutdownSignalException closed = null;
                for (Throwable t = e; t != null; t = t.getCause()) {
                    if (t instanceof ShutdownSignalException s) {
                        closed = s;
                    }
                }
                assertThat(closed).as("closed by Warren with a reason: " + e).isNotNull();
                AMQP.Connection.Close close = (AMQP.Connection.Close) closed.getReason();
                assertThat(close.getReplyCode()).isEqualTo(320);
                assertThat(close.getReplyText()).containsIgnoringCase("certificate");
            }
        }
    }

    @Test
    void warrensListenerRequiresClientCertificatesWhenGivenAClientCa(RabbitBroker broker) throws Exception {
        TlsClientSettings upstream = TlsClientSettings.verifying("localhost").withCaFile(CA)
                .withClientCertificate(CLIENT_CERT, CLIENT_KEY);
        TlsServerSettings listener = TlsServerSettings.of(Path.of(TlsTestCerts.SERVER_CERT),
                Path.of(TlsTestCerts.SERVER_KEY)).withClientCaFile(CA);
        try (WarrenProxy warren = start(broker, upstream,
                b -> b.plainListener(false).tlsListen(new InetSocketAddress("127.0.0.1", 0), listener))) {
            int port = warren.tlsListenAddress().orElseThrow().getPort();
            ConnectionFactory withCert = factory(port);
            withCert.setHost("localhost");
            withCert.useSslProtocol(PemTls.clientContext(TlsClientSettings.verifying("localhost").withCaFile(CA)
                    .withClientCertificate(CLIENT_CERT, CLIENT_KEY)));
            withCert.enableHostnameVerification();
            try (Connection c = withCert.newConnection()) {
                roundTrip(c);
            }
            ConnectionFactory withoutCert = factory(port);
            withoutCert.setHost("localhost");
            withoutCert.useSslProtocol(PemTls.clientContext(TlsClientSettings.verifying("localhost").withCaFile(CA)));
            try (Connection c = withoutCert.newConnection()) {
                fail("a client without a certificate got through a listener that requires one");
            } catch (Exception expected) {
                // refused during the TLS handshake: no AMQP connection exists
            }
        }
    }
}
