package io.warren.transport.nio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The write path of one connection: what is queued, how many bytes that is, and the water marks.
 *
 * <p>Buffers written on the loop go straight to {@code pending} (after what other threads queued before, see
 * {@link #drainIncoming()}); buffers written by other threads go to {@code incoming}, a multi-producer queue that the
 * loop drains into {@code pending}, so each producer's buffers keep their order. {@code queuedBytes} counts both.
 *
 * <p>Water marks, with hysteresis: the connection stops being writable when the queued bytes exceed the high mark,
 * and becomes writable again, exactly once per such episode, when they fall below the low mark
 * ({@link #takeWritableEdge()}, which the connection turns into {@code onWritable}).
 */
final class WriteQueue {
    private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>(4); // loop only
    private final ConcurrentLinkedQueue<ByteBuffer> incoming = new ConcurrentLinkedQueue<>(); // any thread -> loop
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicBoolean writable = new AtomicBoolean(true);
    private final long highWaterMark;
    private final long lowWaterMark;

    WriteQueue(int highWaterMark, int lowWaterMark) {
        this.highWaterMark = highWaterMark;
        this.lowWaterMark = lowWaterMark;
    }

    /** Queues a buffer written by a thread other than the loop; returns {@link #isWritable()}. Any thread. */
    boolean offerFromOtherThread(ByteBuffer data) {
        int n = data.remaining();
        incoming.offer(data);
        long queued = queuedBytes.addAndGet(n);
        if (queued > highWaterMark) {
            writable.set(false);
        }
        return writable.get();
    }

    /** Queues a buffer written on the loop, after what other threads queued. Loop only. */
    void addFromLoop(ByteBuffer data) {
        drainIncoming();
        pending.addLast(data);
        queuedBytes.addAndGet(data.remaining());
    }

    /** Marks the connection not writable if the queued bytes are above the high mark; returns isWritable. */
    boolean checkHighWaterMark() {
        if (queuedBytes.get() > highWaterMark) {
            writable.set(false);
        }
        return writable.get();
    }

    /** Moves what other threads queued behind what is pending. Loop only. */
    void drainIncoming() {
        ByteBuffer b;
        while ((b = incoming.poll()) != null) {
            pending.addLast(b);
        }
    }

    /** Whether buffers are pending on the loop (call {@link #drainIncoming()} first to include other threads'). */
    boolean hasPending() {
        return !pending.isEmpty();
    }

    long queuedBytes() {
        return queuedBytes.get();
    }

    boolean isWritable() {
        return writable.get();
    }

    /**
     * Writes pending buffers until none is left or the socket takes no more, gathering up to {@code scratch.length}
     * buffers per system call. Loop only.
     *
     * @return the number of bytes written
     */
    long flush(TransportLayer layer, ByteBuffer[] scratch) throws IOException {
        long total = 0;
        try {
            while (!pending.isEmpty()) {
                long offered;
                long written;
                if (pending.size() == 1) {
                    ByteBuffer only = pending.peekFirst();
                    offered = only.remaining();
                    written = layer.write(only);
                } else {
                    int n = 0;
                    offered = 0;
                    for (ByteBuffer b : pending) {
                        if (n == scratch.length) {
                            break;
                        }
                        scratch[n++] = b;
                        offered += b.remaining();
                    }
                    try {
                        written = layer.write(scratch, 0, n);
                    } finally {
                        Arrays.fill(scratch, 0, n, null);
                    }
                }
                total += written;
                while (!pending.isEmpty() && !pending.peekFirst().hasRemaining()) {
                    pending.pollFirst();
                }
                if (written < offered) {
                    break; // the socket buffer is full: wait for OP_WRITE
                }
            }
        } finally {
            queuedBytes.addAndGet(-total);
        }
        return total;
    }

    /**
     * True exactly once after the connection was not writable and the queued bytes fell below the low mark: the
     * caller then tells the handler. Loop only.
     */
    boolean takeWritableEdge() {
        return !writable.get() && queuedBytes.get() < lowWaterMark && writable.compareAndSet(false, true);
    }

    boolean isBelowLowWaterMark() {
        return queuedBytes.get() < lowWaterMark;
    }

    /** Drops everything queued (the connection is closed). Loop only. */
    void clear() {
        drainIncoming();
        long dropped = 0;
        for (ByteBuffer b : pending) {
            dropped += b.remaining();
        }
        pending.clear();
        queuedBytes.addAndGet(-dropped);
    }
}
