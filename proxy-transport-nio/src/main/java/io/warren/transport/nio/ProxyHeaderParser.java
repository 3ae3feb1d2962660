package io.warren.transport.nio;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a PROXY protocol header (HAProxy's proxy-protocol.txt, version 1 text and version 2 binary) from the first
 * bytes of a connection. Pure: it peeks at {@code [position, limit)} by absolute index and never consumes; "need more
 * bytes" is an ordinary answer, given only while the bytes so far could still begin a valid header.
 *
 * <p>Version 1: {@code "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n"} or {@code "PROXY UNKNOWN...\r\n"}, at most
 * {@value #V1_MAX_LENGTH} bytes with the CRLF; addresses are literals (never resolved: no DNS on the event loop).
 * Version 2: the 12-byte signature, version and command, family and protocol, a 2-byte length, then the address
 * block of the family and TLVs. The length is checked before its bytes are awaited: beyond {@value #V2_MAX_LENGTH},
 * or shorter than the family's address block, is refused; TLVs are skipped, but each must end inside the header, so a
 * length that claims more bytes than the sender wrote (and the AMQP bytes that follow read as TLVs) is refused as soon
 * as such a TLV header is seen (what follows a LOCAL header's fixed part is ignored whole). LOCAL (a balancer's
 * health check), UNSPEC, UNIX and UNKNOWN carry no client address: the connection keeps the socket's.
 */
final class ProxyHeaderParser {
    /** The longest version 1 line, CRLF included (the specification's bound). */
    static final int V1_MAX_LENGTH = 107;
    /**
     * The largest version 2 length (address block and TLVs) accepted. HAProxy's own headers with every TLV it can add
     * (ALPN, authority, unique id, SSL details with the client certificate's CN) stay far below; the largest address
     * block, AF_UNIX's, is 216 bytes.
     */
    static final int V2_MAX_LENGTH = 2048;
    /** The largest header of either version: what a reader must be able to hold. */
    static final int MAX_HEADER_LENGTH = 16 + V2_MAX_LENGTH;
    /** Signature, version and command, family and protocol, length. */
    private static final int V2_FIXED_LENGTH = 16;

    private static final byte[] V1_SIGNATURE = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    private ProxyHeaderParser() {}

    /** What the first bytes of a connection say. */
    sealed interface Result {}

    /** The bytes so far are a prefix of a header (or of a signature): wait for more. */
    record NeedMore() implements Result {}

    /** The bytes do not start with a PROXY signature: no header was sent (in optional mode, they are the client's). */
    record Absent() implements Result {}

    /** A header that cannot be valid, with why in operator terms. */
    record Invalid(String reason) implements Result {}

    /**
     * A complete header of {@code length} bytes.
     *
     * @param source the client's address, or null when the header carries none (LOCAL, UNKNOWN, UNSPEC, UNIX)
     * @param description what it was, for logs ("v1 TCP4", "v2 PROXY TCP6", "v2 LOCAL")
     */
    record Header(int length, InetSocketAddress source, String description) implements Result {}

    private static final NeedMore NEED_MORE = new NeedMore();
    private static final Absent ABSENT = new Absent();

    static Result parse(ByteBuffer in) {
        int available = in.remaining();
        if (available == 0) {
            return NEED_MORE;
        }
        if (startsWith(in, V2_SIGNATURE)) {
            return available < V2_SIGNATURE.length ? NEED_MORE : parseV2(in);
        }
        if (startsWith(in, V1_SIGNATURE)) {
            return available < V1_SIGNATURE.length ? NEED_MORE : parseV1(in);
        }
        return ABSENT;
    }

    /** Whether the available bytes and {@code signature} agree on their common prefix. */
    private static boolean startsWith(ByteBuffer in, byte[] signature) {
        int n = Math.min(in.remaining(), signature.length);
        for (int i = 0; i < n; i++) {
            if (in.get(in.position() + i) != signature[i]) {
                return false;
            }
        }
        return true;
    }

    // ---- version 1 ----------------------------------------------------------------------------------------------

    private static Result parseV1(ByteBuffer in) {
        int start = in.position();
        int available = Math.min(in.remaining(), V1_MAX_LENGTH);
        int end = -1; // index of the CR, relative to start
        for (int i = 0; i < available; i++) {
            byte b = in.get(start + i);
            if (b == '\r') {
                if (i + 1 == available) {
                    return in.remaining() > i + 1 ? invalidV1("CR not followed by LF") : NEED_MORE;
                }
                if (in.get(start + i + 1) != '\n') {
                    return invalidV1("CR not followed by LF");
                }
                end = i;
                break;
            }
            if (b < 0x20 || b > 0x7E) {
                return invalidV1("byte 0x" + hex(b) + " at offset " + i + " is not printable ASCII");
            }
        }
        if (end < 0) {
            return available >= V1_MAX_LENGTH ? invalidV1("no CRLF within " + V1_MAX_LENGTH + " bytes") : NEED_MORE;
        }
        byte[] line = new byte[end];
        in.get(start, line);
        String text = new String(line, StandardCharsets.US_ASCII);
        int length = end + 2;
        String[] parts = text.split(" ", -1);
        if (parts.length >= 2 && parts[1].equals("UNKNOWN")) {
            return new Header(length, null, "v1 UNKNOWN"); // the rest of the line is to be ignored
        }
        if (parts.length != 6) {
            return invalidV1("'" + text + "' is not 'PROXY TCP4|TCP6 SRC DST SPORT DPORT'");
        }
        String family = parts[1];
        InetAddress source;
        try {
            switch (family) {
                case "TCP4" -> {
                    source = ipv4(parts[2]);
                    ipv4(parts[3]);
                }
                case "TCP6" -> {
                    source = ipv6(parts[2]);
                    ipv6(parts[3]);
                }
                default -> {
                    return invalidV1("protocol '" + family + "' is not TCP4, TCP6 or UNKNOWN");
                }
            }
            int sourcePort = port(parts[4]);
            port(parts[5]);
            return new Header(length, new InetSocketAddress(source, sourcePort), "v1 " + family);
        } catch (IllegalArgumentException e) {
            return invalidV1(e.getMessage() + " in '" + text + "'");
        }
    }

    private static Invalid invalidV1(String why) {
        return new Invalid("bad PROXY v1 header: " + why);
    }

    private static InetAddress ipv4(String text) {
        String[] octets = text.split("\\.", -1);
        if (octets.length != 4) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 address");
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            String o = octets[i];
            if (o.isEmpty() || o.length() > 3 || !o.chars().allMatch(c -> c >= '0' && c <= '9')
                    || Integer.parseInt(o) > 255) {
                throw new IllegalArgumentException("'" + text + "' is not an IPv4 address");
            }
            bytes[i] = (byte) Integer.parseInt(o);
        }
        return address(bytes);
    }

    /**
     * An IPv6 literal (RFC 4291 text: eight groups of 1 to 4 hex digits, one "::" for a run of zero groups, the last
     * two groups optionally as an IPv4 address), parsed here: InetAddress would look a text it cannot parse up in the
     * DNS.
     */
    private static InetAddress ipv6(String text) {
        IllegalArgumentException bad = new IllegalArgumentException("'" + text + "' is not an IPv6 address");
        if (text.length() > 45) {
            throw bad;
        }
        String head = text;
        String tail = null;
        int gap = text.indexOf("::");
        if (gap >= 0) {
            if (text.indexOf("::", gap + 1) >= 0) {
                throw bad;
            }
            head = text.substring(0, gap);
            tail = text.substring(gap + 2);
        }
        List<Integer> front = groups(head, tail == null, bad);
        List<Integer> back = tail == null ? List.of() : groups(tail, true, bad);
        int count = front.size() + back.size();
        if (tail == null ? count != 8 : count > 7) {
            throw bad;
        }
        byte[] bytes = new byte[16];
        for (int i = 0; i < front.size(); i++) {
            bytes[2 * i] = (byte) (front.get(i) >> 8);
            bytes[2 * i + 1] = front.get(i).byteValue();
        }
        for (int i = 0; i < back.size(); i++) {
            int at = 16 - 2 * (back.size() - i);
            bytes[at] = (byte) (back.get(i) >> 8);
            bytes[at + 1] = back.get(i).byteValue();
        }
        return address(bytes);
    }

    /** The 16-bit groups of one side of "::"; the last side may end in an IPv4 address (two groups). */
    private static List<Integer> groups(String text, boolean last, IllegalArgumentException bad) {
        List<Integer> out = new ArrayList<>();
        if (text.isEmpty()) {
            return out;
        }
        String[] parts = text.split(":", -1);
        for (int i = 0; i < parts.length; i++) {
            String g = parts[i];
            if (last && i == parts.length - 1 && g.indexOf('.') >= 0) {
                byte[] v4 = ipv4(g).getAddress();
                out.add((v4[0] & 0xFF) << 8 | (v4[1] & 0xFF));
                out.add((v4[2] & 0xFF) << 8 | (v4[3] & 0xFF));
                continue;
            }
            if (g.isEmpty() || g.length() > 4 || !g.chars().allMatch(c -> Character.digit(c, 16) >= 0 && c < 0x80)) {
                throw bad;
            }
            out.add(Integer.parseInt(g, 16));
        }
        return out;
    }

    private static int port(String text) {
        if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')
                || Integer.parseInt(text) > 65535) {
            throw new IllegalArgumentException("'" + text + "' is not a port");
        }
        return Integer.parseInt(text);
    }

    // ---- version 2 ----------------------------------------------------------------------------------------------

    private static final int CMD_LOCAL = 0x0;
    private static final int CMD_PROXY = 0x1;
    private static final int TCP_OVER_IPV4 = 0x11;
    private static final int TCP_OVER_IPV6 = 0x21;
    private static final int UNIX_STREAM = 0x31;
    private static final int UNSPEC = 0x00;

    private static Result parseV2(ByteBuffer in) {
        int start = in.position();
        int available = in.remaining();
        if (available < V2_FIXED_LENGTH) {
            return NEED_MORE;
        }
        int verCmd = in.get(start + 12) & 0xFF;
        if (verCmd >> 4 != 2) {
            return invalidV2("version " + (verCmd >> 4) + " (byte 13 is 0x" + hex(verCmd) + "), expected 2");
        }
        int command = verCmd & 0x0F;
        if (command != CMD_LOCAL && command != CMD_PROXY) {
            return invalidV2("command " + command + " is neither LOCAL (0) nor PROXY (1)");
        }
        int family = in.get(start + 13) & 0xFF;
        int length = in.getShort(start + 14) & 0xFFFF;
        if (length > V2_MAX_LENGTH) {
            return invalidV2("length " + length + " is beyond the " + V2_MAX_LENGTH + " bytes accepted");
        }
        int block;
        String what;
        if (command == CMD_LOCAL) {
            block = length; // the family, its addresses and any TLVs are to be ignored
            what = "v2 LOCAL";
        } else {
            switch (family) {
                case TCP_OVER_IPV4 -> {
                    block = 12;
                    what = "v2 PROXY TCP4";
                }
                case TCP_OVER_IPV6 -> {
                    block = 36;
                    what = "v2 PROXY TCP6";
                }
                case UNIX_STREAM -> {
                    block = 216;
                    what = "v2 PROXY UNIX";
                }
                case UNSPEC -> {
                    block = 0;
                    what = "v2 PROXY UNSPEC";
                }
                default -> {
                    return invalidV2("family and protocol 0x" + hex(family) + " is not TCP over IPv4 (0x11), TCP"
                            + " over IPv6 (0x21), UNIX stream (0x31) or UNSPEC (0x00)");
                }
            }
            if (length < block) {
                return invalidV2("length " + length + " is shorter than the " + block + "-byte address block of "
                        + what.substring(9));
            }
        }
        int total = V2_FIXED_LENGTH + length;
        // TLVs (type, 2-byte length, value) fill the rest exactly: check those whose headers have arrived already.
        int tlv = V2_FIXED_LENGTH + block;
        while (tlv + 3 <= Math.min(total, available)) {
            int tlvLength = in.getShort(start + tlv + 1) & 0xFFFF;
            int tlvEnd = tlv + 3 + tlvLength;
            if (tlvEnd > total) {
                return invalidV2("TLV of type 0x" + hex(in.get(start + tlv)) + " at offset " + tlv + " claims "
                        + tlvLength + " bytes, past the header's end at " + total + " (length " + length + ")");
            }
            tlv = tlvEnd;
        }
        if (tlv < total && total - tlv < 3) {
            return invalidV2((total - tlv) + " bytes after the last TLV, too few for another (length " + length + ")");
        }
        if (available < total) {
            return NEED_MORE;
        }
        InetSocketAddress source = switch (command == CMD_LOCAL ? UNSPEC : family) {
            case TCP_OVER_IPV4 -> new InetSocketAddress(address(bytes(in, start + 16, 4)),
                    in.getShort(start + 24) & 0xFFFF);
            case TCP_OVER_IPV6 -> new InetSocketAddress(address(bytes(in, start + 16, 16)),
                    in.getShort(start + 48) & 0xFFFF);
            default -> null;
        };
        return new Header(total, source, what);
    }

    private static Invalid invalidV2(String why) {
        return new Invalid("bad PROXY v2 header: " + why);
    }

    private static byte[] bytes(ByteBuffer in, int index, int n) {
        byte[] out = new byte[n];
        in.get(index, out);
        return out;
    }

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("4 or 16 bytes are always an address", e);
        }
    }

    private static String hex(int b) {
        return String.format("%02x", b & 0xFF);
    }

    /** The first bytes of {@code in}, printable ASCII as is and the rest as \xNN, for a log line. */
    static String preview(ByteBuffer in, int max) {
        StringBuilder out = new StringBuilder();
        int n = Math.min(in.remaining(), max);
        for (int i = 0; i < n; i++) {
            int b = in.get(in.position() + i) & 0xFF;
            if (b >= 0x20 && b < 0x7F && b != '\\') {
                out.append((char) b);
            } else {
                out.append("\\x").append(hex(b));
            }
        }
        return out.toString();
    }
}
