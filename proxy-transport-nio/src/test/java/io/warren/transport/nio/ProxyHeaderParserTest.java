package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.transport.nio.ProxyHeaderParser.Absent;
import io.warren.transport.nio.ProxyHeaderParser.Header;
import io.warren.transport.nio.ProxyHeaderParser.Invalid;
import io.warren.transport.nio.ProxyHeaderParser.NeedMore;
import io.warren.transport.nio.ProxyHeaderParser.Result;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link ProxyHeaderParser} on the encodings of HAProxy's proxy-protocol.txt. Every valid header is also fed as each
 * of its prefixes (which must all be "need more") and with bytes after it (which must not change the answer).
 */
class ProxyHeaderParserTest {
    static final byte[] AMQP_HEADER = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};
    static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    // ---- version 1 ----------------------------------------------------------------------------------------------

    @Test
    void v1Tcp4() throws Exception {
        Header h = complete(ascii("PROXY TCP4 192.0.2.7 198.51.100.1 56324 5673\r\n"));
        assertThat(h.source()).isEqualTo(new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 56324));
        assertThat(h.description()).isEqualTo("v1 TCP4");
    }

    @Test
    void v1Tcp6() throws Exception {
        Header h = complete(ascii("PROXY TCP6 2001:db8::7 2001:db8::1 4000 5673\r\n"));
        assertThat(h.source()).isEqualTo(new InetSocketAddress(InetAddress.getByName("2001:db8::7"), 4000));
    }

    @Test
    void v1Tcp6FullAndWithEmbeddedIpv4() throws Exception {
        assertThat(complete(ascii("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ::1 65535 65535\r\n")).source())
                .isEqualTo(new InetSocketAddress(InetAddress.getByName("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                        65535));
        assertThat(complete(ascii("PROXY TCP6 ::ffff:10.1.2.3 ::1 1 2\r\n")).source().getAddress())
                .isEqualTo(InetAddress.getByName("10.1.2.3")); // the JDK maps it to the IPv4 address
    }

    @Test
    void v1UnknownKeepsTheSocketAddressAndIgnoresTheRestOfTheLine() {
        assertThat(complete(ascii("PROXY UNKNOWN\r\n")).source()).isNull();
        assertThat(complete(ascii("PROXY UNKNOWN ffff:f...f:ffff 1 2 anything\r\n")).source()).isNull();
    }

    @Test
    void v1LongestLineIsAccepted() {
        String line = "PROXY UNKNOWN " + "x".repeat(107 - 16) + "\r\n";
        assertThat(line).hasSize(107);
        assertThat(complete(ascii(line)).length()).isEqualTo(107);
    }

    @Test
    void v1WithoutCrlfWithin107BytesIsRefused() {
        assertThat(invalid(ascii("PROXY UNKNOWN " + "x".repeat(100)))).contains("no CRLF within 107 bytes");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n",          // a field missing
        "PROXY TCP4 192.0.2.7  198.51.100.1 56324 5673\r\n",    // two spaces
        "PROXY TCP4 192.0.2.256 198.51.100.1 56324 5673\r\n",   // octet > 255
        "PROXY TCP4 192.0.2 198.51.100.1 56324 5673\r\n",       // three octets
        "PROXY TCP4 2001:db8::7 198.51.100.1 56324 5673\r\n",   // IPv6 under TCP4
        "PROXY TCP6 192.0.2.7 2001:db8::1 56324 5673\r\n",      // IPv4 under TCP6
        "PROXY TCP6 2001:db8:::7 2001:db8::1 1 2\r\n",          // ::: is not an address
        "PROXY TCP6 1:2:3 2001:db8::1 1 2\r\n",                 // too few groups, would be a DNS name to the JDK
        "PROXY TCP6 1::2::3 2001:db8::1 1 2\r\n",               // two ::
        "PROXY TCP6 example.com 2001:db8::1 1 2\r\n",           // a host name is never looked up
        "PROXY TCP4 192.0.2.7 198.51.100.1 65536 5673\r\n",     // port > 65535
        "PROXY TCP4 192.0.2.7 198.51.100.1 -1 5673\r\n",        // negative port
        "PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n",            // not TCP
        "PROXY TCP4 192.0.2.7 198.51.100.1 1 2\r\r",            // CR not followed by LF
        "PROXY TCP4 192.0.2.7\n198.51.100.1 1 2\r\n",           // a control byte
    })
    void v1MalformedIsRefused(String line) {
        assertThat(invalid(ascii(line))).startsWith("bad PROXY v1 header: ");
    }

    @Test
    void v1RefusesANonAsciiByteAtOnceWithoutWaitingFor107Bytes() {
        byte[] bytes = ascii("PROXY TCP4 \u00ff");
        bytes[bytes.length - 1] = (byte) 0xC3;
        assertThat(invalid(bytes)).contains("byte 0xc3 at offset 11");
    }

    // ---- version 2 ----------------------------------------------------------------------------------------------

    @Test
    void v2ProxyTcp4() throws Exception {
        Header h = complete(v2(0x21, 0x11, ipv4Block("192.0.2.7", "198.51.100.1", 56324, 5673)));
        assertThat(h.source()).isEqualTo(new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 56324));
        assertThat(h.length()).isEqualTo(16 + 12);
        assertThat(h.description()).isEqualTo("v2 PROXY TCP4");
    }

    @Test
    void v2ProxyTcp6() throws Exception {
        ByteBuffer block = ByteBuffer.allocate(36);
        block.put(InetAddress.getByName("2001:db8::7").getAddress()).put(InetAddress.getByName("::1").getAddress())
                .putShort((short) 40000).putShort((short) 5673);
        Header h = complete(v2(0x21, 0x21, block.array()));
        assertThat(h.source()).isEqualTo(new InetSocketAddress(InetAddress.getByName("2001:db8::7"), 40000));
    }

    @Test
    void v2TlvsAreSkipped() throws Exception {
        byte[] tlvs = concat(tlv(0x01, ascii("amqp")), tlv(0x04, new byte[0]), tlv(0xEA, new byte[300])); // ALPN, NOOP
        Header h = complete(v2(0x21, 0x11, concat(ipv4Block("10.0.0.9", "10.0.0.1", 1234, 5673), tlvs)));
        assertThat(h.source().getPort()).isEqualTo(1234);
        assertThat(h.length()).isEqualTo(16 + 12 + tlvs.length);
    }

    @Test
    void v2LocalKeepsTheSocketAddressWhateverTheFamilySays() {
        assertThat(complete(v2(0x20, 0x00, new byte[0])).source()).isNull();
        assertThat(complete(v2(0x20, 0x11, ipv4Block("192.0.2.7", "198.51.100.1", 1, 2))).source()).isNull();
    }

    @Test
    void v2UnspecAndUnixKeepTheSocketAddress() {
        assertThat(complete(v2(0x21, 0x00, new byte[0])).source()).isNull();
        assertThat(complete(v2(0x21, 0x31, new byte[216])).source()).isNull();
    }

    @Test
    void v2LengthBeyondTheBoundIsRefusedBeforeItsBytesArrive() {
        byte[] header = v2Fixed(0x21, 0x11, ProxyHeaderParser.V2_MAX_LENGTH + 1);
        assertThat(invalid(header)).contains("length 2049 is beyond the 2048 bytes accepted");
        assertThat(invalid(v2Fixed(0x21, 0x11, 0xFFFF))).contains("length 65535");
    }

    @Test
    void v2LengthShorterThanTheAddressBlockIsRefused() {
        byte[] header = concat(v2Fixed(0x21, 0x11, 8), new byte[8]);
        assertThat(invalid(header)).contains("length 8 is shorter than the 12-byte address block of TCP4");
        assertThat(invalid(concat(v2Fixed(0x21, 0x21, 12), new byte[12]))).contains("36-byte address block");
    }

    /** The length claims more than was sent, and the client's AMQP header follows: read as a TLV, it overruns. */
    @Test
    void v2LengthThatLiesIsRefusedOnceTheFollowingBytesAreSeenAsATlv() {
        byte[] block = ipv4Block("192.0.2.7", "198.51.100.1", 1, 2);
        byte[] header = concat(v2Fixed(0x21, 0x11, 12 + 20), block, AMQP_HEADER);
        assertThat(invalid(header)).contains("TLV of type 0x41 at offset 28 claims 19793 bytes, past the header's"
                + " end at 48 (length 32)");
    }

    @Test
    void v2TrailingBytesTooFewForATlvAreRefused() {
        byte[] header = concat(v2Fixed(0x21, 0x11, 14), ipv4Block("192.0.2.7", "198.51.100.1", 1, 2), new byte[2]);
        assertThat(invalid(header)).contains("2 bytes after the last TLV");
    }

    @Test
    void v2BadVersionCommandOrFamilyIsRefused() {
        assertThat(invalid(v2Fixed(0x11, 0x11, 12))).contains("version 1 (byte 13 is 0x11), expected 2");
        assertThat(invalid(v2Fixed(0x22, 0x11, 12))).contains("command 2 is neither LOCAL (0) nor PROXY (1)");
        assertThat(invalid(v2Fixed(0x21, 0x12, 12))).contains("family and protocol 0x12"); // UDP
        assertThat(invalid(v2Fixed(0x21, 0x41, 12))).contains("family and protocol 0x41");
    }

    // ---- neither ----------------------------------------------------------------------------------------------------

    @Test
    void amqpAndTlsAreAbsentAtTheirFirstByte() {
        assertThat(ProxyHeaderParser.parse(ByteBuffer.wrap(AMQP_HEADER))).isInstanceOf(Absent.class);
        assertThat(ProxyHeaderParser.parse(ByteBuffer.wrap(new byte[] {'A'}))).isInstanceOf(Absent.class);
        assertThat(ProxyHeaderParser.parse(ByteBuffer.wrap(new byte[] {0x16, 0x03, 0x01}))).isInstanceOf(Absent.class);
        assertThat(ProxyHeaderParser.parse(ByteBuffer.wrap(ascii("PROXZ")))).isInstanceOf(Absent.class);
        assertThat(ProxyHeaderParser.parse(ByteBuffer.wrap(concat(new byte[] {0x0D, 0x0A, 0x0D}, ascii("x")))))
                .isInstanceOf(Absent.class);
    }

    @Test
    void emptyAndSignaturePrefixesNeedMore() {
        assertThat(ProxyHeaderParser.parse(ByteBuffer.allocate(0))).isInstanceOf(NeedMore.class);
        assertThat(ProxyHeaderParser.parse(ByteBuffer.wrap(ascii("PROX")))).isInstanceOf(NeedMore.class);
        assertThat(ProxyHeaderParser.parse(ByteBuffer.wrap(new byte[] {0x0D, 0x0A}))).isInstanceOf(NeedMore.class);
    }

    @Test
    void readsFromThePositionWithoutConsuming() {
        byte[] header = ascii("PROXY TCP4 192.0.2.7 198.51.100.1 56324 5673\r\n");
        ByteBuffer in = ByteBuffer.wrap(concat(new byte[5], header));
        in.position(5);
        Result r = ProxyHeaderParser.parse(in);
        assertThat(r).isInstanceOf(Header.class);
        assertThat(((Header) r).length()).isEqualTo(header.length);
        assertThat(in.position()).isEqualTo(5);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    /** Every strict prefix needs more; the whole is a header; bytes after it change nothing. */
    private static Header complete(byte[] header) {
        for (int n = 0; n < header.length; n++) {
            Result r = ProxyHeaderParser.parse(ByteBuffer.wrap(header, 0, n).slice());
            assertThat(r).as("prefix of %d bytes", n).isInstanceOf(NeedMore.class);
        }
        Result alone = ProxyHeaderParser.parse(ByteBuffer.wrap(header));
        assertThat(alone).isInstanceOf(Header.class);
        Result followed = ProxyHeaderParser.parse(ByteBuffer.wrap(concat(header, AMQP_HEADER)));
        assertThat(followed).isEqualTo(alone);
        assertThat(((Header) alone).length()).isEqualTo(header.length);
        return (Header) alone;
    }

    private static String invalid(byte[] bytes) {
        Result r = ProxyHeaderParser.parse(ByteBuffer.wrap(bytes));
        assertThat(r).isInstanceOf(Invalid.class);
        return ((Invalid) r).reason();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] v2(int verCmd, int family, byte[] rest) {
        return concat(v2Fixed(verCmd, family, rest.length), rest);
    }

    static byte[] v2Fixed(int verCmd, int family, int length) {
        return ByteBuffer.allocate(16).put(V2_SIGNATURE).put((byte) verCmd).put((byte) family)
                .putShort((short) length).array();
    }

    static byte[] ipv4Block(String source, String destination, int sourcePort, int destinationPort) {
        try {
            return ByteBuffer.allocate(12).put(InetAddress.getByName(source).getAddress())
                    .put(InetAddress.getByName(destination).getAddress()).putShort((short) sourcePort)
                    .putShort((short) destinationPort).array();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static byte[] tlv(int type, byte[] value) {
        return ByteBuffer.allocate(3 + value.length).put((byte) type).putShort((short) value.length).put(value)
                .array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
