package io.warren.core.internal.wire;

import java.nio.ByteBuffer;

/**
 * A heap buffer that grows by doubling up to a cap, for gathering frames before one write. Once {@link #take()}n,
 * the bytes belong to the caller and this buffer starts empty again without a backing array (idle state costs no
 * memory).
 */
public final class GrowableBuffer {
    private final int initialCapacity;
    private ByteBuffer buf;

    public GrowableBuffer(int initialCapacity) {
        this.initialCapacity = initialCapacity;
    }

    public boolean isEmpty() {
        return buf == null || buf.position() == 0;
    }

    public int size() {
        return buf == null ? 0 : buf.position();
    }

    /** Appends {@code src} from its position to its limit, leaving {@code src} unchanged. */
    public void append(ByteBuffer src) {
        int n = src.remaining();
        ensure(n);
        buf.put(src.duplicate());
    }

    /** Makes room for {@code extra} more bytes and returns the buffer to write into (at its position). */
    public ByteBuffer ensure(int extra) {
        if (buf == null) {
            buf = ByteBuffer.allocate(Math.max(initialCapacity, extra));
        } else if (buf.remaining() < extra) {
            long wanted = Math.max((long) buf.capacity() * 2, (long) buf.position() + extra);
            if (wanted > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("buffer would exceed 2 GiB");
            }
            ByteBuffer bigger = ByteBuffer.allocate((int) wanted);
            buf.flip();
            bigger.put(buf);
            buf = bigger;
        }
        return buf;
    }

    /** Hands the gathered bytes over (flipped) and forgets them. */
    public ByteBuffer take() {
        ByteBuffer out = buf;
        buf = null;
        if (out == null) {
            return ByteBuffer.allocate(0);
        }
        out.flip();
        return out;
    }

    /** Forgets everything after the first {@code size} bytes. */
    public void truncate(int size) {
        if (buf != null) {
            buf.position(size);
        }
    }
}
