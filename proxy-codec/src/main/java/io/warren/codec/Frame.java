package io.warren.codec;

import java.util.Objects;
import java.nio.ByteBuffer;

/**
 * One AMQP frame. {@code payload} holds exactly the payload bytes between its position and limit;
 * when it comes from {@link FrameDecoder} it may be a view of the caller's input buffer and is only
 * valid until that buffer is reused.
 */
public record Frame(int type, int channel, ByteBuffer payload) {

    public Frame {
        Objects.requireNonNull(payload, "payload");
    }

    /** Class id of a method frame (absolute read, the payload is not moved). */
    public int classId() {
        requireMethod();
        return Wire.u16(payload, payload.position());
    }

    /** Method id of a method frame (absolute read, the payload is not moved). */
    public int methodId() {
        requireMethod();
        return Wire.u16(payload, payload.position() + 2);
    }

    /** Number of payload bytes. */
    public int size() {
        return payload.remaining();
    }

    private void requireMethod() {
        if (type != FrameType.METHOD || payload.remaining() < 4) {
            throw new IllegalStateException("not a method frame: type " + type + ", " + payload.remaining() + " bytes");
        }
    }
}
