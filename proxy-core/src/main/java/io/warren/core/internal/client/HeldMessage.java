package io.warren.core.internal.client;

import io.warren.codec.FrameType;
import io.warren.core.internal.limits.MessageBudget;
import io.warren.core.internal.wire.Frames;
import java.nio.ByteBuffer;

/**
 * A published message held until its last body frame arrives, in one buffer of exactly its final size laid out as
 * the frames that go upstream: the method frame, the header frame, then the body re-framed into body frames of the
 * upstream connection's frame size. The size is known from the header's body size, whatever frame sizes the client
 * used, so it is reserved once ({@link MessageBudget}) and the buffer is handed upstream as it is, never copied.
 *
 * <p>Not thread-safe: owned by one client session's event loop.
 */
final class HeldMessage {
    private final ByteBuffer buf;
    private final int channel;
    private final int chunk;
    private long bodyLeft;
    private int frameLeft;
    private final long frames;
    /** The budget this message's size is reserved from, and how much is still reserved (0 once released). */
    private MessageBudget budget;
    private long reserved;

    /**
     * @param methodFrame the whole method frame as it goes upstream (upstream channel number), position to limit
     * @param channel the upstream channel number
     * @param headerPayload the content header's payload, position to limit
     * @param bodySize the body size the header announced
     * @param frameMax the upstream connection's negotiated frame_max
     * @throws IllegalArgumentException if the layout would exceed 2 GiB
     */
    HeldMessage(ByteBuffer methodFrame, int channel, ByteBuffer headerPayload, long bodySize, int frameMax) {
        long size = layoutSize(methodFrame.remaining(), headerPayload.remaining(), bodySize, frameMax);
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("message layout of " + size + " bytes exceeds 2 GiB");
        }
        this.buf = ByteBuffer.allocate((int) size);
        this.channel = channel;
        this.chunk = frameMax - FrameType.OVERHEAD;
        this.bodyLeft = bodySize;
        this.frames = 2 + (bodySize + chunk - 1) / chunk;
        Frames.putAbsolute(buf, methodFrame);
        buf.put((byte) FrameType.HEADER).putShort((short) channel).putInt(headerPayload.remaining());
        Frames.putAbsolute(buf, headerPayload);
        buf.put((byte) FrameType.FRAME_END);
    }

    /**
     * Bytes the layout of a message takes: method frame (whole, with its overhead), header frame, and the body in
     * frames of at most {@code frameMax} bytes.
     */
    static long layoutSize(int methodFrameBytes, int headerPayloadBytes, long bodySize, int frameMax) {
        long chunk = frameMax - FrameType.OVERHEAD;
        long bodyFrames = (bodySize + chunk - 1) / chunk;
        return methodFrameBytes + headerPayloadBytes + FrameType.OVERHEAD + bodySize
                + bodyFrames * FrameType.OVERHEAD;
    }

    /**
     * The largest body whose layout fits in {@code budget} bytes, given the bytes its method and header frames take
     * (both with their overhead); negative if not even those fit.
     */
    static long largestBodyWithin(long budget, int methodAndHeaderFrameBytes, int frameMax) {
        long avail = budget - methodAndHeaderFrameBytes;
        if (avail < 0) {
            return -1;
        }
        long chunk = frameMax - FrameType.OVERHEAD;
        long fullFrames = avail / frameMax;
        long rest = avail % frameMax;
        return fullFrames * chunk + Math.max(0, rest - FrameType.OVERHEAD);
    }

    /** Records that {@link #size()} bytes are reserved from {@code from} for this message. */
    void reservedFrom(MessageBudget from) {
        budget = from;
        reserved = size();
    }

    boolean holdsReservation() {
        return reserved > 0;
    }

    /** Returns this message's reservation to its budget; does nothing the second time. */
    void release() {
        long n = reserved;
        reserved = 0;
        if (n > 0) {
            budget.release(n);
        }
    }

    /** The size reserved for this message: its whole layout. */
    int size() {
        return buf.capacity();
    }

    /** Body bytes still expected. */
    long bodyLeft() {
        return bodyLeft;
    }

    boolean complete() {
        return bodyLeft == 0;
    }

    /**
     * Writes a client body frame's payload (position to limit, left unchanged) into the layout, opening and closing
     * upstream body frames as it goes.
     *
     * @throws IllegalArgumentException if the payload is longer than the body left (the caller checks first)
     */
    void appendBody(ByteBuffer payload) {
        if (payload.remaining() > bodyLeft) {
            throw new IllegalArgumentException("body payload of " + payload.remaining() + " bytes exceeds the "
                    + bodyLeft + " left");
        }
        // Absolute copies: neither the payload nor a view of it is moved or made per part.
        int from = payload.position();
        int end = payload.limit();
        while (from < end) {
            if (frameLeft == 0) {
                frameLeft = (int) Math.min(chunk, bodyLeft);
                buf.put((byte) FrameType.BODY).putShort((short) channel).putInt(frameLeft);
            }
            int n = Math.min(frameLeft, end - from);
            buf.put(buf.position(), payload, from, n);
            buf.position(buf.position() + n);
            from += n;
            frameLeft -= n;
            bodyLeft -= n;
            if (frameLeft == 0) {
                buf.put((byte) FrameType.FRAME_END);
            }
        }
    }

    /** Frames the layout holds: method, header and body frames (for the frame counters). */
    long frames() {
        return frames;
    }

    /** The whole layout, ready to send; only once {@link #complete()}. */
    ByteBuffer take() {
        if (!complete() || buf.hasRemaining()) {
            throw new IllegalStateException("message incomplete: " + bodyLeft + " body bytes left, "
                    + buf.remaining() + " layout bytes unwritten");
        }
        return buf.flip();
    }
}
