package io.warren.api.transport;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.cert.Certificate;
import java.util.List;
import java.util.Optional;

/**
 * One TCP (or TLS) connection, owned by one {@link EventLoop}. Every method is safe to call from any thread;
 * calls from other threads are handed to the owning loop.
 */
public interface Connection {
    /** Process-unique id for logs. */
    long id();

    /**
     * The client's address: the socket's peer, or, on a listener that reads PROXY protocol headers, the address the
     * header named (the balancer's own is then {@link #proxiedBy()}).
     */
    InetSocketAddress remoteAddress();

    /**
     * The socket's peer when it is not {@link #remoteAddress()}: the load balancer whose PROXY protocol header named
     * the client. Empty for a connection without such a header (and for one whose header said LOCAL or UNKNOWN, whose
     * remote address is the socket's peer).
     */
    default Optional<InetSocketAddress> proxiedBy() {
        return Optional.empty();
    }

    InetSocketAddress localAddress();

    EventLoop eventLoop();

    /**
     * Queues {@code data} (from its position to its limit) for writing, in call order per calling thread. The
     * transport takes ownership of the buffer: the caller must not touch it again. Writes to a closed connection
     * are dropped.
     *
     * @return false when the queued bytes are now above the high-water mark: the caller should stop producing for
     *     this connection (for instance pause reading its source) until {@link ConnectionHandler#onWritable}
     */
    boolean write(ByteBuffer data);

    /** Whether queued bytes are below the high-water mark. */
    boolean isWritable();

    /** Bytes queued for writing and not yet handed to the socket; 0 from a transport that does not count them. */
    default long queuedBytes() {
        return 0;
    }

    /** Stops (true) or resumes (false) reading from the socket; reads are delivered to the handler when resumed. */
    void setReadPaused(boolean paused);

    /** Flushes what is queued, then closes. {@link ConnectionHandler#onClose} follows with a null cause. */
    void close();

    /** Closes at once, discarding queued bytes (an RST where the platform allows). */
    void abort();

    boolean isOpen();

    /** Whether this connection is TLS (its handshake is complete by the time the handler's onOpen runs). */
    default boolean isTls() {
        return false;
    }

    /**
     * The certificate chain the peer presented in the TLS handshake, leaf first: the broker's for an outgoing
     * connection, the client's for an accepted one (empty when the client sent none, and for plain connections).
     */
    default List<Certificate> peerCertificates() {
        return List.of();
    }

    /** The negotiated TLS protocol ("TLSv1.3", "TLSv1.2"); empty for plain connections. */
    default Optional<String> tlsProtocol() {
        return Optional.empty();
    }
}
