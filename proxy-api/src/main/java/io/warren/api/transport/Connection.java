package io.warren.api.transport;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * One TCP (or TLS) connection, owned by one {@link EventLoop}. Every method is safe to call from any thread;
 * calls from other threads are handed to the owning loop.
 */
public interface Connection {
    /** Process-unique id for logs. */
    long id();

    InetSocketAddress remoteAddress();

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

    /** Stops (true) or resumes (false) reading from the socket; reads are delivered to the handler when resumed. */
    void setReadPaused(boolean paused);

    /** Flushes what is queued, then closes. {@link ConnectionHandler#onClose} follows with a null cause. */
    void close();

    /** Closes at once, discarding queued bytes (an RST where the platform allows). */
    void abort();

    boolean isOpen();
}
