package io.warren.core.internal.wire;

import io.warren.codec.BasicMethod;
import io.warren.codec.FrameType;
import java.nio.ByteBuffer;

/**
 * Reads and rewrites publisher confirms (basic.ack and basic.nack from the broker) in place, by absolute index of
 * the frame's first byte: delivery-tag (a long after the class and method ids) then the multiple bit. Stateless.
 */
public final class Confirms {
    private static final int TAG_OFFSET = FrameType.HEADER_SIZE + 4;
    private static final int BITS_OFFSET = TAG_OFFSET + 8;

    private Confirms() {}

    /** Whether a method with these ids is a publisher confirm. */
    public static boolean isConfirm(int classId, int methodId) {
        return classId == BasicMethod.Ack.CLASS_ID
                && (methodId == BasicMethod.Ack.METHOD_ID || methodId == BasicMethod.Nack.METHOD_ID);
    }

    public static long deliveryTag(ByteBuffer frames, int frameStart) {
        return frames.getLong(frameStart + TAG_OFFSET);
    }

    public static boolean multiple(ByteBuffer frames, int frameStart) {
        return (frames.get(frameStart + BITS_OFFSET) & 1) != 0;
    }

    public static void rewriteDeliveryTag(ByteBuffer frames, int frameStart, long tag) {
        frames.putLong(frameStart + TAG_OFFSET, tag);
    }
}
