package io.warren.transport.nio;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * The TLS buffers of one event loop's connections. A TLS connection holds its network and application buffers only
 * while they hold bytes (a partial record, decrypted bytes not yet delivered, encrypted bytes not yet on the socket)
 * and gives them back here as soon as they are empty, so an idle TLS connection holds no buffer. At most
 * {@link #MAX_POOLED} buffers are kept; the rest go to the garbage collector.
 *
 * <p>Loop only: every method is called on the owning loop's thread.
 */
final class TlsBufferPool {
    static final int MAX_POOLED = 16;

    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>(); // loop only

    /** A cleared heap buffer of at least {@code minCapacity} bytes. */
    ByteBuffer take(int minCapacity) {
        ByteBuffer b = free.pollFirst();
        if (b == null || b.capacity() < minCapacity) {
            return ByteBuffer.allocate(minCapacity); // a smaller pooled one is dropped: sizes converge upwards
        }
        return b.clear();
    }

    /** Gives an empty buffer back; null is ignored. */
    void give(ByteBuffer b) {
        if (b != null && free.size() < MAX_POOLED) {
            free.addFirst(b);
        }
    }

    int pooled() {
        return free.size();
    }
}
