package io.warren.codec;

import java.nio.ByteBuffer;

/**
 * Allocation-free absolute reads of a frame that starts at {@code frameStart} in a buffer. Nothing here
 * moves the buffer's position or depends on its byte order. Callers must know the bytes are there
 * (e.g. the frame was returned by {@link FrameDecoder}); otherwise IndexOutOfBoundsException.
 */
public final class FramePeek {
    private FramePeek() {}

    public static int type(ByteBuffer b, int frameStart) {
        return b.get(frameStart) & 0xFF;
    }

    public static int channel(ByteBuffer b, int frameStart) {
        return Wire.u16(b, frameStart + 1);
    }

    /** The declared payload size; negative only for raw sizes over 2^31-1, which FrameDecoder never accepts. */
    public static int payloadSize(ByteBuffer b, int frameStart) {
        return Wire.i32(b, frameStart + 3);
    }

    /** Class id of a method frame. */
    public static int classId(ByteBuffer b, int frameStart) {
        return Wire.u16(b, frameStart + FrameType.HEADER_SIZE);
    }

    /** Method id of a method frame. */
    public static int methodId(ByteBuffer b, int frameStart) {
        return Wire.u16(b, frameStart + FrameType.HEADER_SIZE + 2);
    }

    /** Rewrites the channel number in place: the proxy's way of forwarding a frame without copying it. */
    public static void setChannel(ByteBuffer b, int frameStart, int channel) {
        if (channel < 0 || channel > 0xFFFF) {
            throw new IllegalArgumentException("channel out of range 0..65535: " + channel);
        }
        b.put(frameStart + 1, (byte) (channel >>> 8));
        b.put(frameStart + 2, (byte) channel);
    }
}
