package io.warren.codec;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;

/**
 * Writes whole frames into caller-supplied buffers. Each {@code write*} method checks the room first:
 * if the frame does not fit it throws {@link BufferOverflowException} and writes nothing.
 */
public final class FrameEncoder {

    private FrameEncoder() {}

    /** Size of the whole method frame for {@code m}. */
    public static int methodFrameSize(AmqpMethod m) {
        return FrameType.OVERHEAD + MethodCodec.encodedSize(m);
    }

    public static void writeMethod(ByteBuffer out, int channel, AmqpMethod m) {
        int payload = MethodCodec.encodedSize(m);
        begin(out, FrameType.METHOD, channel, payload);
        MethodCodec.encodeUnchecked(m, out);
        out.put((byte) FrameType.FRAME_END);
    }

    /** A new buffer holding exactly the method frame, ready to read (position 0, limit = size). */
    public static ByteBuffer method(int channel, AmqpMethod m) {
        ByteBuffer b = ByteBuffer.allocate(methodFrameSize(m));
        writeMethod(b, channel, m);
        return b.flip();
    }

    public static void writeHeader(ByteBuffer out, int channel, ContentHeader h) {
        int payload = h.encodedSize();
        begin(out, FrameType.HEADER, channel, payload);
        h.encodeUnchecked(out);
        out.put((byte) FrameType.FRAME_END);
    }

    /** Writes the remaining bytes of {@code body} as one body frame; {@code body}'s position is not moved. */
    public static void writeBody(ByteBuffer out, int channel, ByteBuffer body) {
        begin(out, FrameType.BODY, channel, body.remaining());
        out.put(body.duplicate());
        out.put((byte) FrameType.FRAME_END);
    }

    public static void writeHeartbeat(ByteBuffer out) {
        begin(out, FrameType.HEARTBEAT, 0, 0);
        out.put((byte) FrameType.FRAME_END);
    }

    private static void begin(ByteBuffer out, int type, int channel, int payloadSize) {
        if (channel < 0 || channel > 0xFFFF) {
            throw new IllegalArgumentException("channel out of range 0..65535: " + channel);
        }
        if (out.remaining() < (long) payloadSize + FrameType.OVERHEAD) {
            throw new BufferOverflowException();
        }
        Wire.putOctet(out, type);
        Wire.putShort(out, channel);
        Wire.putInt(out, payloadSize);
    }
}
