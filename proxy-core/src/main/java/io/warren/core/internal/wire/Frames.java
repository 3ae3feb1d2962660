package io.warren.core.internal.wire;

import io.warren.codec.AmqpMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.FrameEncoder;
import io.warren.codec.FrameType;
import io.warren.codec.ReplyCode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Small frame-building helpers shared by both sides of the proxy. Stateless. */
public final class Frames {
    /**
     * How long a peer gets to answer Warren's connection.close with close-ok before its socket is closed anyway
     * (a client that never answers, a broker that stopped reading).
     */
    public static final Duration CLOSE_GRACE = Duration.ofSeconds(5);
    private static final byte[] HEARTBEAT = {FrameType.HEARTBEAT, 0, 0, 0, 0, 0, 0, (byte) FrameType.FRAME_END};

    private Frames() {}

    public static ByteBuffer method(int channel, AmqpMethod method) {
        return FrameEncoder.method(channel, method);
    }

    public static ByteBuffer heartbeat() {
        return ByteBuffer.wrap(HEARTBEAT.clone());
    }

    public static ConnectionMethod.Close connectionClose(ReplyCode code, String text, int classId, int methodId) {
        return new ConnectionMethod.Close(code.code(), truncate(code.text() + " - " + text), classId, methodId);
    }

    public static ChannelMethod.Close channelClose(ReplyCode code, String text, int classId, int methodId) {
        return new ChannelMethod.Close(code.code(), truncate(code.text() + " - " + text), classId, methodId);
    }

    /** Reply texts are shortstr: at most 255 UTF-8 bytes. */
    public static String truncate(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= 255) {
            return text;
        }
        int end = 255;
        while (end > 0 && (utf8[end] & 0xC0) == 0x80) {
            end--; // don't cut a multi-byte character in half
        }
        return new String(utf8, 0, end, StandardCharsets.UTF_8);
    }

    /** Copies one frame (header, payload, end octet) into {@code out} with its channel replaced. */
    public static void copyFrame(int type, int channel, ByteBuffer payload, GrowableBuffer out) {
        int size = payload.remaining();
        ByteBuffer dst = out.ensure(size + FrameType.OVERHEAD);
        dst.put((byte) type).putShort((short) channel).putInt(size);
        putAbsolute(dst, payload);
        dst.put((byte) FrameType.FRAME_END);
    }

    /**
     * Copies {@code src} (position to limit, left unchanged) into {@code dst} at its position, which it advances. An
     * absolute bulk put: no duplicate of {@code src} per frame on the forward path.
     */
    public static void putAbsolute(ByteBuffer dst, ByteBuffer src) {
        int n = src.remaining();
        dst.put(dst.position(), src, src.position(), n);
        dst.position(dst.position() + n);
    }
}
