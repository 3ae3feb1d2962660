package io.warren.transport.nio;

import static io.warren.transport.nio.ProxyHeaderParserTest.AMQP_HEADER;
import static io.warren.transport.nio.ProxyHeaderParserTest.ascii;
import static io.warren.transport.nio.ProxyHeaderParserTest.concat;
import static io.warren.transport.nio.ProxyHeaderParserTest.ipv4Block;
import static io.warren.transport.nio.ProxyHeaderParserTest.tlv;
import static io.warren.transport.nio.ProxyHeaderParserTest.v2;
import static io.warren.transport.nio.ProxyHeaderParserTest.v2Fixed;
import static org.assertj.core.api.Assertions.assertThat;

import io.warren.api.transport.Connection;
import io.warren.api.transport.ProxyProtocol;
import io.warren.api.transport.TransportSettings;
import io.warren.tls.PemTls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Listeners that read PROXY protocol headers, against raw sockets that write them: the connection's remote address is
 * the one the header named, the bytes after the header reach the handler (or the TLS handshake) unchanged, and a
 * missing or bad header closes the connection before any handler exists and without a byte sent.
 */
class ProxyProtocolListenerTest extends TlsTestSupport {
    /** Refusals under this transport cannot be the connect timeout's: it outlasts {@link #WAIT}. */
    private static final TransportSettings LONG_CONNECT_TIMEOUT =
            new TransportSettings(1, 256 * 1024, 64 * 1024, 128, Duration.ofMinutes(10));
    private static final byte[] V1 = ascii("PROXY TCP4 192.0.2.7 198.51.100.1 56324 5673\r\n");

    /** readSizeCap 1 reads the header one byte per read: every prefix waits. */
    @ParameterizedTest(name = "readSizeCap={0}")
    @ValueSource(ints = {65536, 1})
    void requiredV1HeaderNamesTheClientAndTheBytesAfterItAreDelivered(int readSizeCap) throws Exception {
        start(settings(1), LoopConfig.DEFAULT.withReadSizeCap(readSizeCap));
        listen(ProxyProtocol.REQUIRED);
        try (Socket s = client()) {
            s.getOutputStream().write(concat(V1, AMQP_HEADER)); // one write: header and the client's first bytes
            assertThat(readFully(s.getInputStream(), AMQP_HEADER.length)).isEqualTo(AMQP_HEADER);
            Connection conn = nextAccepted().connection();
            assertThat(conn.remoteAddress()).isEqualTo(new InetSocketAddress(ip("192.0.2.7"), 56324));
            assertThat(conn.proxiedBy()).contains((InetSocketAddress) s.getLocalSocketAddress());
            assertThat(conn.toString()).endsWith("192.0.2.7:56324 via " + Addresses.format((InetSocketAddress) s.getLocalSocketAddress()));
        }
    }

    @ParameterizedTest(name = "readSizeCap={0}")
    @ValueSource(ints = {65536, 1})
    void requiredV2HeaderWithTlvsInSeparateWrites(int readSizeCap) throws Exception {
        start(settings(1), LoopConfig.DEFAULT.withReadSizeCap(readSizeCap));
        listen(ProxyProtocol.REQUIRED);
        byte[] header = v2(0x21, 0x11, concat(ipv4Block("10.9.8.7", "10.0.0.1", 40001, 5673),
                tlv(0x01, ascii("amqp")), tlv(0x04, new byte[20])));
        try (Socket s = client()) {
            s.getOutputStream().write(header, 0, 10);
            s.getOutputStream().flush();
            s.getOutputStream().write(header, 10, header.length - 10);
            s.getOutputStream().write(AMQP_HEADER);
            assertThat(readFully(s.getInputStream(), AMQP_HEADER.length)).isEqualTo(AMQP_HEADER);
            assertThat(nextAccepted().connection().remoteAddress())
                    .isEqualTo(new InetSocketAddress(ip("10.9.8.7"), 40001));
        }
    }

    @Test
    void v2LocalKeepsTheSocketAddress() throws Exception {
        start(settings(1));
        listen(ProxyProtocol.REQUIRED);
        try (Socket s = client()) {
            s.getOutputStream().write(concat(v2(0x20, 0x00, new byte[0]), AMQP_HEADER));
            assertThat(readFully(s.getInputStream(), AMQP_HEADER.length)).isEqualTo(AMQP_HEADER);
            Connection conn = nextAccepted().connection();
            assertThat(conn.remoteAddress()).isEqualTo(s.getLocalSocketAddress());
            assertThat(conn.proxiedBy()).isEmpty();
        }
    }

    @Test
    void requiredRefusesAPlainAmqpClientWithoutAByte() throws Exception {
        start(LONG_CONNECT_TIMEOUT);
        listen(ProxyProtocol.REQUIRED);
        try (Socket s = client()) {
            s.getOutputStream().write(AMQP_HEADER);
            assertClosedWithoutAByte(s);
        }
        assertThat(accepted).isEmpty(); // no handler was ever created
    }

    /**
     * The length claims 20 bytes of TLVs that never come; the AMQP header that follows cannot be one. Refused at
     * once: the connect timeout (ten minutes here) would outlast the socket's read timeout.
     */
    @Test
    void aV2HeaderWhoseLengthLiesIsRefusedWithoutAByte() throws Exception {
        start(LONG_CONNECT_TIMEOUT);
        listen(ProxyProtocol.OPTIONAL);
        try (Socket s = client()) {
            s.getOutputStream().write(concat(v2Fixed(0x21, 0x11, 12 + 20),
                    ipv4Block("192.0.2.7", "198.51.100.1", 1, 2), AMQP_HEADER));
            assertClosedWithoutAByte(s);
        }
        assertThat(accepted).isEmpty();
    }

    @Test
    void aV2LengthBeyondTheBoundIsRefusedWithoutWaitingForItsBytes() throws Exception {
        start(LONG_CONNECT_TIMEOUT);
        listen(ProxyProtocol.REQUIRED);
        try (Socket s = client()) {
            s.getOutputStream().write(v2Fixed(0x21, 0x11, 60000));
            assertClosedWithoutAByte(s);
        }
        assertThat(accepted).isEmpty();
    }

    /** The connect timeout bounds the header: a balancer that stops half-way is closed. */
    @Test
    void anIncompleteHeaderIsClosedAtTheConnectTimeout() throws Exception {
        start(new TransportSettings(1, 256 * 1024, 64 * 1024, 128, Duration.ofMillis(300)));
        listen(ProxyProtocol.REQUIRED);
        try (Socket s = client()) {
            s.getOutputStream().write(V1, 0, 20);
            assertClosedWithoutAByte(s);
        }
        assertThat(accepted).isEmpty();
    }

    @Test
    void optionalReadsAClientWithoutAHeaderAsIs() throws Exception {
        start(settings(1));
        listen(ProxyProtocol.OPTIONAL);
        try (Socket s = client()) {
            s.getOutputStream().write(AMQP_HEADER);
            assertThat(readFully(s.getInputStream(), AMQP_HEADER.length)).isEqualTo(AMQP_HEADER);
            Connection conn = nextAccepted().connection();
            assertThat(conn.remoteAddress()).isEqualTo(s.getLocalSocketAddress());
            assertThat(conn.proxiedBy()).isEmpty();
        }
    }

    @Test
    void optionalReadsAHeaderWhenOneIsSent() throws Exception {
        start(settings(1));
        listen(ProxyProtocol.OPTIONAL);
        try (Socket s = client()) {
            s.getOutputStream().write(concat(V1, AMQP_HEADER));
            assertThat(readFully(s.getInputStream(), AMQP_HEADER.length)).isEqualTo(AMQP_HEADER);
            assertThat(nextAccepted().connection().remoteAddress().getAddress()).isEqualTo(ip("192.0.2.7"));
        }
    }

    @Test
    void offTakesAHeaderForTheClientsBytes() throws Exception {
        start(settings(1));
        listen(ProxyProtocol.OFF);
        try (Socket s = client()) {
            s.getOutputStream().write(V1);
            assertThat(readFully(s.getInputStream(), V1.length)).isEqualTo(V1);
            assertThat(nextAccepted().connection().remoteAddress()).isEqualTo(s.getLocalSocketAddress());
        }
    }

    /** The balancer sends the header in clear, then the client's TLS handshake follows on the same stream. */
    @ParameterizedTest(name = "readSizeCap={0}")
    @ValueSource(ints = {65536, 7})
    void tlsListenerReadsTheHeaderBeforeTheHandshake(int readSizeCap) throws Exception {
        start(settings(1), LoopConfig.DEFAULT.withReadSizeCap(readSizeCap));
        listener = runtime.listen(ANY_LOOPBACK_PORT, c -> record(new EchoHandler()), serverSettings(),
                ProxyProtocol.REQUIRED);
        try (Socket plain = client()) {
            plain.getOutputStream().write(v2(0x21, 0x11, ipv4Block("192.0.2.9", "198.51.100.1", 33333, 5674)));
            try (SSLSocket s = overTls(plain)) {
                s.getOutputStream().write(AMQP_HEADER);
                assertThat(readFully(s.getInputStream(), AMQP_HEADER.length)).isEqualTo(AMQP_HEADER);
                Connection conn = nextAccepted().connection();
                assertThat(conn.isTls()).isTrue();
                assertThat(conn.remoteAddress()).isEqualTo(new InetSocketAddress(ip("192.0.2.9"), 33333));
            }
        }
    }

    /** Optional on a TLS listener: the ClientHello's first bytes, read to look for a header, go to the handshake. */
    @Test
    void optionalTlsListenerServesAClientWithoutAHeader() throws Exception {
        start(settings(1));
        listener = runtime.listen(ANY_LOOPBACK_PORT, c -> record(new EchoHandler()), serverSettings(),
                ProxyProtocol.OPTIONAL);
        try (SSLSocket s = tlsClient(clientSettings(), 0)) {
            s.getOutputStream().write(AMQP_HEADER);
            assertThat(readFully(s.getInputStream(), AMQP_HEADER.length)).isEqualTo(AMQP_HEADER);
            assertThat(nextAccepted().connection().remoteAddress()).isEqualTo(s.getLocalSocketAddress());
        }
    }

    @Test
    void requiredTlsListenerRefusesAClientHelloWithoutAByte() throws Exception {
        start(LONG_CONNECT_TIMEOUT);
        listener = runtime.listen(ANY_LOOPBACK_PORT, c -> record(new EchoHandler()), serverSettings(),
                ProxyProtocol.REQUIRED);
        try (Socket plain = client()) {
            plain.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x00, 0x05}); // a TLS record's start
            assertClosedWithoutAByte(plain);
        }
        assertThat(accepted).isEmpty();
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private void listen(ProxyProtocol mode) throws IOException {
        listener = runtime.listen(ANY_LOOPBACK_PORT, c -> record(new EchoHandler()), mode);
    }

    RecordingHandler record(RecordingHandler h) {
        accepted.add(h);
        return h;
    }

    private SSLSocket overTls(Socket plain) throws IOException {
        SSLSocket s = (SSLSocket) PemTls.clientContext(clientSettings()).getSocketFactory()
                .createSocket(plain, "localhost", listener.address().getPort(), false);
        s.setSoTimeout((int) WAIT.toMillis());
        s.startHandshake();
        return s;
    }

    /** The end of the stream (or a reset) before any byte: nothing was sent back. */
    private static void assertClosedWithoutAByte(Socket s) throws IOException {
        int first;
        try {
            first = s.getInputStream().read();
        } catch (SocketException reset) {
            return; // closed with bytes unread in Warren's receive buffer: an RST, and still no byte
        }
        assertThat(first).as("first byte sent back").isEqualTo(-1);
    }

    private static InetAddress ip(String literal) throws IOException {
        return InetAddress.getByName(literal);
    }
}
