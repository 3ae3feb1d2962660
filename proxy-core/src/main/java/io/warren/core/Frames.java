package io.warren.core;

import io.warren.codec.AmqpMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.FrameEncoder;
import io.warren.codec.FrameType;
import io.warren.codec.ReplyCode;
import java.nio.ByteBuffer;

/** Small frame-building helpers shared by both sides of the proxy. */
final class Frames {
    private static final byte[] HEARTBEAT = {FrameType.HEARTBEAT, 0, 0, 0, 0, 0, 0, (byte) FrameType.FRAME_END};

    private Frames() {}

    static ByteBuffer method(int channel, AmqpMethod method) {
        return FrameEncoder.method(channel, method);
    }

    static ByteBuffer heartbeat() {
        return ByteBuffer.wrap(HEARTBEAT.clone());
    }

    static ConnectionMethod.Close connectionClose(ReplyCode code, String text, int classId, int methodId) {
        return new ConnectionMethod.Close(code.code(), truncate(code.text() + " - " + text), classId, methodId);
    }

    static ChannelMethod.Close channelClose(ReplyCode code, String text, int classId, int methodId) {
        return new ChannelMethod.Close(code.code(), truncate(code.text() + " - " + text), classId, methodId);
    }

    /** Reply texts are shortstr: at most 255 UTF-8 bytes. */
    static String truncate(String text) {
        byte[] utf8 = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (utf8.length <= 255) {
            return text;
        }
        int end = 255;
        while (end > 0 && (utf8[end] & 0xC0) == 0x80) {
            end--; // don't cut a multi-byte character in half
        }
        return new String(utf8, 0, end, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Copies one frame (header, payload, end octet) into {@code out} with its channel replaced. */
    static void copyFrame(int type, int channel, ByteBuffer payload, GrowableBuffer out) {
        int size = payload.remaining();
        ByteBuffer dst = out.ensure(size + FrameType.OVERHEAD);
        dst.put((byte) type).putShort((short) channel).putInt(size).put(payload.duplicate())
                .put((byte) FrameType.FRAME_END);
    }
}
