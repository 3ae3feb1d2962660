package io.warren.transport.nio;

import io.warren.api.transport.ProxyProtocol;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Reads the PROXY protocol header of one accepted connection off its socket, before any TLS or AMQP byte, never more
 * than a header can take, and says what came of it. Owned by the connection's loop, and gone once the header is
 * read.
 */
final class ProxyHeaderReader {
    /** What one call of {@link #read} found. */
    sealed interface Outcome {}

    /** Not complete yet: wait for more bytes (the connection's timer bounds the wait). */
    record NeedMore() implements Outcome {}

    /** The peer closed before a header: a balancer's TCP health check does, without a byte. */
    record PeerClosed(int received) implements Outcome {}

    /** Reading failed. */
    record Failed(IOException cause) implements Outcome {}

    /** Missing (where required) or bad: close with this reason, sending nothing. */
    record Refused(String reason) implements Outcome {}

    /**
     * The connection goes on: {@code source} is the client's address, or null to keep the socket's (no header where
     * optional, a LOCAL or UNKNOWN header); {@code rest} is what followed the header, for the layer to read first.
     */
    record Accepted(InetSocketAddress source, String description, ByteBuffer rest) implements Outcome {}

    private final ProxyProtocol mode;
    private final int readSizeCap;
    private ByteBuffer bytes = ByteBuffer.allocate(ProxyHeaderParser.MAX_HEADER_LENGTH); // write mode

    ProxyHeaderReader(ProxyProtocol mode, int readSizeCap) {
        this.mode = mode;
        this.readSizeCap = readSizeCap;
    }

    /** Reads what the socket has, at most the read size cap per read, and parses it. */
    Outcome read(ReadableByteChannel channel) {
        ProxyHeaderParser.Result result;
        while (true) {
            int n;
            int limit = bytes.limit();
            try {
                bytes.limit(Math.min(limit, bytes.position() + readSizeCap));
                n = channel.read(bytes);
            } catch (IOException e) {
                return new Failed(e);
            } finally {
                bytes.limit(limit);
            }
            if (n < 0) {
                return new PeerClosed(bytes.position());
            }
            result = ProxyHeaderParser.parse(bytes.duplicate().flip());
            if (!(result instanceof ProxyHeaderParser.NeedMore) || n == 0 || !bytes.hasRemaining()) {
                break;
            }
        }
        ByteBuffer received = bytes.duplicate().flip();
        if (result instanceof ProxyHeaderParser.NeedMore) {
            return new NeedMore();
        }
        if (result instanceof ProxyHeaderParser.Invalid invalid) {
            return new Refused(invalid.reason());
        }
        if (result instanceof ProxyHeaderParser.Header header) {
            return new Accepted(header.source(), "PROXY protocol header " + header.description() + " ("
                    + header.length() + " bytes)", received.position(header.length()).slice());
        }
        if (mode == ProxyProtocol.REQUIRED) { // Absent
            return new Refused("no PROXY protocol header (the connection starts with \""
                    + ProxyHeaderParser.preview(received, 16) + "\")");
        }
        return new Accepted(null, "no PROXY protocol header, reading the connection as is", received);
    }

    /** Why a connection whose header did not complete in {@code millis} is refused. */
    String timedOut(long millis) {
        return "no complete PROXY protocol header within " + millis + " ms" + (bytes.position() == 0
                ? " (nothing received)" : " (received " + bytes.position() + " bytes: \""
                + ProxyHeaderParser.preview(bytes.duplicate().flip(), 32) + "\")");
    }
}
