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
    /** While set, the read whose frames are copied here: a new backing array is sized by what is left of it. */
    private ByteBuffer source;
    private int sourceSlack;

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
        Frames.putAbsolute(ensure(src.remaining()), src);
    }

    /**
     * Sizes each new backing array, until called again, by {@code source}: the first write, what is then left of
     * {@code source} (neither moved nor kept beyond this buffer's use) and {@code slack}, when that is less than the
     * initial capacity. For output that copies its input frame for frame: a small read takes a small array. Never
     * more than without a source: a read whose frames alternate between outputs (a flush each) must not allocate
     * its rest again and again. More than that still grows the array. Null: the initial capacity again.
     */
    public void sizeBy(ByteBuffer source, int slack) {
        this.source = source;
        this.sourceSlack = slack;
    }

    /** Makes room for {@code extra} more bytes and returns the buffer to write into (at its position). */
    public ByteBuffer ensure(int extra) {
        if (buf == null) {
            int capacity = Math.max(initialCapacity, extra);
            if (source != null) {
                capacity = (int) Math.min(capacity, (long) extra + source.remaining() + sourceSlack);
            }
            buf = ByteBuffer.allocate(capacity);
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
