package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.warren.api.transport.Connection;
import io.warren.api.transport.TlsClientSettings;
import io.warren.api.transport.TlsConfigException;
import io.warren.api.transport.TlsHandshakeOutcome;
import io.warren.api.transport.TlsServerSettings;
import io.warren.api.transport.TlsSide;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The transport as a TLS client, against JDK SSLServerSocket servers. */
class TlsConnectTest extends TlsTestSupport {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void connectsVerifiesAndEchoesAMegabyte(String protocol) throws Exception {
        start(settings(1), LoopConfig.DEFAULT.withReadSizeCap(1000));
        try (JdkTlsServer server = new JdkTlsServer(serverSettings(), true)) {
            RecordingHandler client = connect(server.address(), clientSettings().withProtocols(protocol));
            Connection conn = client.opened.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(conn.isTls()).isTrue();
            assertThat(conn.tlsProtocol()).contains(protocol);
            assertThat(conn.peerCertificates()).isNotEmpty();
            byte[] payload = new byte[1024 * 1024];
            new Random(3).nextBytes(payload);
            for (int off = 0, i = 0; off < payload.length; i++) {
                int n = Math.min(1 + (i * 7919) % 40000, payload.length - off);
                conn.write(ByteBuffer.wrap(payload, off, n).slice());
                off += n;
            }
            await().atMost(WAIT).until(() -> client.receivedCount() == payload.length);
            assertThat(client.received()).isEqualTo(payload);
            conn.close();
            awaitClosed(client);
            assertThat(client.closed.join()).isNull();
            assertThat(runtime.tlsStats().handshakes(TlsSide.CLIENT, TlsHandshakeOutcome.OK)).isEqualTo(1);
        }
    }

    @Test
    void refusesACertificateForAnotherHostName() throws Exception {
        Throwable cause = failedConnect(TlsServerSettings.of(pki.wrongHostCert, pki.wrongHostKey), clientSettings());
        assertThat(cause).isInstanceOf(SSLHandshakeException.class).hasMessageStartingWith("TLS handshake with 127.0.0.1:")
                .hasMessageContaining("failed: certificate does not match host name 'localhost'")
                .hasMessageContaining("DNS:wrong.example");
        assertThat(runtime.tlsStats().handshakes(TlsSide.CLIENT, TlsHandshakeOutcome.HOST_NAME_MISMATCH)).isEqualTo(1);
    }

    @Test
    void refusesACertificateFromAnUnknownCa() throws Exception {
        Throwable cause = failedConnect(TlsServerSettings.of(pki.rogueCert, pki.rogueKey), clientSettings());
        assertThat(cause).hasMessageContaining("failed: certificate is not trusted (unknown CA: issuer 'CN=Rogue CA'");
        assertThat(runtime.tlsStats().handshakes(TlsSide.CLIENT, TlsHandshakeOutcome.UNTRUSTED_CERTIFICATE))
                .isEqualTo(1);
    }

    @Test
    void refusesAnExpiredCertificate() throws Exception {
        Throwable cause = failedConnect(TlsServerSettings.of(pki.expiredCert, pki.expiredKey), clientSettings());
        assertThat(cause).hasMessageContaining("failed: certificate expired on ");
        assertThat(runtime.tlsStats().handshakes(TlsSide.CLIENT, TlsHandshakeOutcome.EXPIRED_CERTIFICATE))
                .isEqualTo(1);
    }

    @Test
    void refusesTheJdkTrustStoreWhenNoCaFileIsGiven() throws Exception {
        Throwable cause = failedConnect(serverSettings(), TlsClientSettings.verifying("localhost"));
        assertThat(cause).hasMessageContaining("certificate is not trusted (unknown CA");
    }

    @Test
    void insecureSkipVerifyAcceptsAWrongHostCertificate() throws Exception {
        start(settings(1));
        try (JdkTlsServer server = new JdkTlsServer(TlsServerSettings.of(pki.wrongHostCert, pki.wrongHostKey), true)) {
            RecordingHandler client = connect(server.address(),
                    TlsClientSettings.verifying("localhost").withInsecureSkipVerifyDangerous(true));
            Connection conn = client.opened.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            conn.write(ByteBuffer.wrap("hi".getBytes()));
            await().atMost(WAIT).until(() -> client.receivedCount() == 2);
        }
    }

    @Test
    void presentsAClientCertificateToAServerThatRequiresOne() throws Exception {
        start(settings(1));
        try (JdkTlsServer server = new JdkTlsServer(serverSettings().withClientCaFile(pki.caCert), true)) {
            RecordingHandler client = connect(server.address(),
                    clientSettings().withClientCertificate(pki.clientCert, pki.clientKey));
            Connection conn = client.opened.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            conn.write(ByteBuffer.wrap("mtls".getBytes()));
            await().atMost(WAIT).until(() -> client.receivedCount() == 4);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void withoutAClientCertificateAServerThatRequiresOneRefuses(String protocol) throws Exception {
        start(settings(1));
        try (JdkTlsServer server = new JdkTlsServer(serverSettings().withClientCaFile(pki.caCert), true)) {
            RecordingHandler client = connect(server.address(), clientSettings().withProtocols(protocol));
            client.opened.thenAccept(c -> c.write(ByteBuffer.wrap("x".getBytes()))); // 1.3: refused after Finished
            Throwable cause = client.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(cause).isNotNull();
            // TLS 1.2: the handshake fails; TLS 1.3: the client's handshake completes, the refusal is the next read
            assertThat(cause).hasMessageStartingWith(protocol.equals("TLSv1.2") ? "TLS handshake with" : "TLS ")
                    .hasMessageContaining("failed: the peer rejected our certificate (alert bad_certificate)");
        }
    }

    @Test
    void unusableFilesFailTheConnectWithTheFileNamed() throws Exception {
        start(settings(1));
        RecordingHandler client = connect(new InetSocketAddress("127.0.0.1", 1),
                clientSettings().withCaFile(pki.dir.resolve("missing-ca.pem")));
        Throwable cause = client.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(cause).isInstanceOf(TlsConfigException.class)
                .hasMessage(pki.dir.resolve("missing-ca.pem") + ": cannot read: no such file");
        assertThat(client.opens.get()).isZero();
    }

    @Test
    void plainServerIsReportedAsNotTls() throws Exception {
        start(settings(1));
        listen(() -> new EchoHandler() {
            @Override
            public void onOpen(Connection connection) {
                super.onOpen(connection);
                connection.write(ByteBuffer.wrap("AMQP\0\0\11\1 and some more bytes to look like a record".getBytes()));
            }
        });
        RecordingHandler client = connect(listener.address(), clientSettings());
        Throwable cause = client.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(cause).hasMessageContaining("TLS handshake with");
        assertThat(client.opens.get()).isZero();
    }

    private Throwable failedConnect(TlsServerSettings serverTls, TlsClientSettings clientTls) throws Exception {
        start(settings(1));
        try (JdkTlsServer server = new JdkTlsServer(serverTls, true)) {
            RecordingHandler client = connect(server.address(), clientTls);
            Throwable cause = client.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(client.opens.get()).isZero();
            assertThat(cause).isNotNull();
            return cause;
        }
    }

    private RecordingHandler connect(InetSocketAddress address, TlsClientSettings tls) {
        RecordingHandler h = new RecordingHandler();
        runtime.connect(address, runtime.eventLoops().get(0), h, tls);
        return h;
    }
}
