package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.warren.api.transport.Connection;
import io.warren.tls.PemTls;
import io.warren.api.transport.TlsHandshakeOutcome;
import io.warren.api.transport.TlsSide;
import io.warren.api.transport.TransportSettings;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The transport as a TLS server: JDK SSLSocket clients against a TLS listener. */
class TlsListenerTest extends TlsTestSupport {
    private static final int[] ODD_CHUNKS = {1, 7, 333, 4099, 65537, 2, 1023, 17};

    /** readSizeCap 13 makes every socket read a fraction of a TLS record: the underflow path, many times over. */
    @ParameterizedTest(name = "{0}, readSizeCap={1}")
    @CsvSource({"TLSv1.3, 65536", "TLSv1.2, 65536", "TLSv1.3, 13", "TLSv1.2, 13"})
    void echoesOneMegabyteInOddChunks(String protocol, int readSizeCap) throws Exception {
        start(settings(2), LoopConfig.DEFAULT.withReadSizeCap(readSizeCap));
        listenTls(EchoHandler::new);
        byte[] payload = new byte[1024 * 1024];
        new Random(42).nextBytes(payload);

        try (SSLSocket s = tlsClient(clientSettings().withProtocols(protocol), 0)) {
            assertThat(s.getSession().getProtocol()).isEqualTo(protocol);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> writeInChunks(s, payload));
            byte[] echoed = readFully(s.getInputStream(), payload.length);
            writer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(echoed).isEqualTo(payload);
        }
        RecordingHandler server = nextAccepted();
        assertThat(server.calledOffLoop).isFalse();
        Connection conn = server.connection();
        assertThat(conn.isTls()).isTrue();
        assertThat(conn.tlsProtocol()).contains(protocol);
        assertThat(conn.peerCertificates()).isEmpty(); // no client certificate asked for
        awaitClosed(server);
        assertThat(server.closed.join()).isNull(); // close_notify or end of stream: orderly
        assertThat(runtime.tlsStats().handshakes(TlsSide.SERVER, TlsHandshakeOutcome.OK)).isEqualTo(1);
    }

    @Test
    void listenerReportsTlsAndItsCertificateExpiry() throws Exception {
        start(settings(1));
        listenTls(RecordingHandler::new);
        X509Certificate leaf = PemTls.readCertificates(pki.serverCert).get(0);
        assertThat(listener.isTls()).isTrue();
        assertThat(listener.certificateNotAfter()).contains(leaf.getNotAfter().toInstant());
    }

    @Test
    void mutualTlsAcceptsAClientWithACertificateAndExposesIt() throws Exception {
        start(settings(1));
        listener = runtime.listen(ANY_LOOPBACK_PORT, c -> record(new EchoHandler()),
                serverSettings().withClientCaFile(pki.caCert));
        try (SSLSocket s = tlsClient(clientSettings().withClientCertificate(pki.clientCert, pki.clientKey), 0)) {
            s.getOutputStream().write("ping".getBytes());
            assertThat(readFully(s.getInputStream(), 4)).isEqualTo("ping".getBytes());
            Connection conn = nextAccepted().connection();
            assertThat(conn.peerCertificates()).hasSize(1);
            assertThat(((X509Certificate) conn.peerCertificates().get(0)).getSubjectX500Principal().getName())
                    .isEqualTo("CN=warren-client");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void mutualTlsRefusesAClientWithoutACertificateBeforeAnyHandlerExists(String protocol) throws Exception {
        start(settings(1));
        listener = runtime.listen(ANY_LOOPBACK_PORT, c -> record(new EchoHandler()),
                serverSettings().withClientCaFile(pki.caCert));
        assertThatThrownBy(() -> {
            try (SSLSocket s = tlsClient(clientSettings().withProtocols(protocol), 0)) {
                s.getOutputStream().write("ping".getBytes()); // TLS 1.3: the refusal arrives after the client's Finished
                s.getInputStream().read();
            }
        }).isInstanceOf(java.io.IOException.class); // an alert (SSLException), or a broken pipe before it is read
        await().atMost(WAIT).until(() ->
                runtime.tlsStats().handshakes(TlsSide.SERVER, TlsHandshakeOutcome.CLIENT_CERTIFICATE_MISSING) == 1);
        assertThat(accepted).isEmpty();
    }

    @Test
    void refusesAClientThatDoesNotSpeakTls() throws Exception {
        start(settings(1));
        listenTls(RecordingHandler::new);
        try (Socket plain = client()) {
            plain.getOutputStream().write("AMQP\0\0\11\1".getBytes());
            assertThat(plain.getInputStream().readAllBytes().length).isGreaterThanOrEqualTo(0); // closed by the proxy
        }
        await().atMost(WAIT).until(() ->
                runtime.tlsStats().handshakes(TlsSide.SERVER, TlsHandshakeOutcome.PROTOCOL) == 1);
        assertThat(accepted).isEmpty();
    }

    @Test
    void dropsAClientThatNeverCompletesTheHandshake() throws Exception {
        start(new TransportSettings(1, 256 * 1024, 64 * 1024, 128, Duration.ofMillis(300)));
        listenTls(RecordingHandler::new);
        try (Socket silent = client()) {
            assertThat(silent.getInputStream().read()).isEqualTo(-1); // closed after the timeout
        } catch (java.net.SocketException reset) {
            // an RST is fine too
        }
        assertThat(runtime.tlsStats().handshakes(TlsSide.SERVER, TlsHandshakeOutcome.TIMEOUT)).isEqualTo(1);
        assertThat(accepted).isEmpty();
    }

    /** As BackPressureTest, over TLS: a peer that does not read makes the connection unwritable until it reads. */
    @Test
    void stalledTlsPeerMakesTheConnectionUnwritableUntilItReads() throws Exception {
        start(new TransportSettings(2, 64 * 1024, 16 * 1024, 128, Duration.ofSeconds(10)));
        listenTls(RecordingHandler::new);
        try (SSLSocket peer = tlsClient(clientSettings(), 8 * 1024)) {
            RecordingHandler server = nextAccepted();
            Connection conn = server.connection();
            ByteArrayOutputStream sent = new ByteArrayOutputStream();
            int writablesWhileStalled = fillUntilStalled(conn, server, sent, true);
            assertThat(conn.isWritable()).isFalse();

            byte[] expected = sent.toByteArray();
            assertThat(readFully(peer.getInputStream(), expected.length)).isEqualTo(expected);
            await().atMost(WAIT).until(() -> server.writables.get() > writablesWhileStalled);
            roundTrip(conn.eventLoop());
            assertThat(server.writables.get()).isEqualTo(writablesWhileStalled + 1);
            assertThat(conn.write(ByteBuffer.wrap(new byte[] {1}))).isTrue();
            assertThat(readFully(peer.getInputStream(), 1)).containsExactly(1);
        }
    }

    /** Decrypted bytes left in the layer while paused are delivered on resume, without new bytes on the socket. */
    @Test
    void pausedTlsConnectionGetsBufferedBytesWhenResumed() throws Exception {
        start(settings(1), LoopConfig.DEFAULT.withReadSizeCap(4));
        listenTls(() -> new RecordingHandler() {
            @Override
            void afterRead(Connection connection, byte[] bytes) {
                if (reads.get() == 1) {
                    connection.setReadPaused(true);
                }
            }
        });
        try (SSLSocket peer = tlsClient(clientSettings(), 0)) {
            RecordingHandler server = nextAccepted();
            peer.getOutputStream().write("abcdefghijkl".getBytes()); // one TLS record
            await().atMost(WAIT).until(() -> server.receivedCount() == 4);
            roundTrip(server.connection().eventLoop());
            assertThat(server.receivedCount()).isEqualTo(4);
            server.connection().setReadPaused(false);
            await().atMost(WAIT).until(() -> server.receivedCount() == 12);
            assertThat(new String(server.received())).isEqualTo("abcdefghijkl");
        }
    }

    private void listenTls(java.util.function.Supplier<? extends RecordingHandler> factory) throws Exception {
        listener = runtime.listen(ANY_LOOPBACK_PORT, c -> record(factory.get()), serverSettings());
    }

    private RecordingHandler record(RecordingHandler h) {
        accepted.add(h);
        return h;
    }

    private static void writeInChunks(Socket s, byte[] payload) {
        try {
            OutputStream out = s.getOutputStream();
            int off = 0;
            for (int i = 0; off < payload.length; i++) {
                int n = Math.min(ODD_CHUNKS[i % ODD_CHUNKS.length], payload.length - off);
                out.write(payload, off, n);
                off += n;
            }
            out.flush();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
