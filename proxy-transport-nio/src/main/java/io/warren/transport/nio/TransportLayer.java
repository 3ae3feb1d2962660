package io.warren.transport.nio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * The socket I/O of one connection, in the style of Kafka's {@code TransportLayer}: {@link NioConnection} reads and
 * writes application bytes through it and never knows whether they are encrypted. {@link PlaintextTransportLayer}
 * delegates to the channel; {@link SslTransportLayer} (an {@code SSLEngine} state machine) sits beside it.
 *
 * <p>Loop only: every method is called on the owning event loop's thread.
 *
 * <p>Notes for the TLS implementation: {@link #ready()} is false until the handshake is done and
 * {@link NioConnection} then calls {@link #handshake()} on every selection instead of reading; a TLS layer that has
 * decrypted bytes left over after a read must report them through {@link #hasBytesBuffered()} so the loop reads
 * again without waiting for the socket (select with a zero timeout); encrypted bytes not yet on the socket are
 * reported by {@link #hasPendingWrites()} so the connection keeps {@code OP_WRITE} and does not finish a close early.
 */
interface TransportLayer {
    SocketChannel channel();

    /** Completes a non-blocking connect; true once connected. */
    boolean finishConnect() throws IOException;

    /** Whether application bytes may flow (plaintext: always; TLS: after the handshake). */
    boolean ready();

    /** Advances the handshake; a no-op for plaintext. */
    void handshake() throws IOException;

    /** Reads application bytes into {@code dst}: the count, 0 if none are available, -1 at end of stream. */
    int read(ByteBuffer dst) throws IOException;

    /** Writes application bytes from {@code src}; returns how many were consumed. */
    long write(ByteBuffer src) throws IOException;

    /** Gathering write of application bytes; returns how many were consumed. */
    long write(ByteBuffer[] srcs, int offset, int length) throws IOException;

    /** Writes bytes this layer holds for the socket (TLS: encrypted bytes); true when none are left. */
    boolean flush() throws IOException;

    /** Bytes this layer accepted but has not yet put on the socket (plaintext: never). */
    boolean hasPendingWrites();

    /** Application bytes this layer holds that the socket will not signal (plaintext: never). */
    boolean hasBytesBuffered();

    /**
     * Hands back bytes read from the socket before this layer took over (what followed a PROXY protocol header in the
     * same read): they come before the socket's, to {@link #read} (plaintext) or to the handshake (TLS), and count
     * as {@link #hasBytesBuffered()} until then. Called at most once, before any read or handshake step.
     */
    void unread(ByteBuffer bytes);

    /** Closes the socket. With {@code reset}, SO_LINGER 0 first so that the peer gets an RST. */
    void close(boolean reset);
}
