package io.warren.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * Decoding reads whole fields at once: the result must not depend on the buffer's byte order, on whether it is
 * direct or on the heap, or on where in a larger buffer the bytes lie (a transport may hand over any of these).
 */
class BufferKindTest {
    /** basic.deliver on channel 0x0102 with a non-ASCII routing key and a consumer tag, then a header frame. */
    private static final byte[] FRAMES;

    static {
        ByteBuffer out = ByteBuffer.allocate(512);
        ByteBuffer method = ByteBuffer.allocate(256);
        MethodCodec.encode(new BasicMethod.Deliver("ctag-é", 0x0102030405060708L, true, "ex", "clé-ü"), method);
        method.flip();
        out.put((byte) FrameType.METHOD).putShort((short) 0x0102).putInt(method.remaining()).put(method)
                .put((byte) FrameType.FRAME_END);
        ByteBuffer header = ByteBuffer.allocate(256);
        ContentHeader.basic(0x0A0B0C0DL, new BasicProperties("text/plain", null,
                FieldTable.of("k", new FieldValue.SignedInt(0x11223344)), 2, null, null, null, null, null,
                0x0102030405060708L, null, null, null, null)).encode(header);
        header.flip();
        out.put((byte) FrameType.HEADER).putShort((short) 0x0102).putInt(header.remaining()).put(header)
                .put((byte) FrameType.FRAME_END);
        out.flip();
        FRAMES = new byte[out.remaining()];
        out.get(FRAMES);
    }

    private static ByteBuffer in(boolean direct, ByteOrder order, int offset) {
        ByteBuffer b = direct ? ByteBuffer.allocateDirect(offset + FRAMES.length) : ByteBuffer.allocate(
                offset + FRAMES.length);
        b.position(offset);
        b.put(FRAMES);
        b.position(offset);
        return b.slice().order(order);
    }

    @Test
    void framesDecodeTheSameFromEveryKindOfBuffer() throws ProtocolException {
        for (boolean direct : new boolean[] {false, true}) {
            for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
                for (int offset : new int[] {0, 3}) {
                    ByteBuffer b = in(direct, order, offset);
                    String kind = (direct ? "direct " : "heap ") + order + " at " + offset;
                    assertThat(FramePeek.channel(b, 0)).as(kind).isEqualTo(0x0102);
                    assertThat(FramePeek.classId(b, 0)).as(kind).isEqualTo(BasicMethod.Deliver.CLASS_ID);
                    assertThat(FramePeek.methodId(b, 0)).as(kind).isEqualTo(BasicMethod.Deliver.METHOD_ID);

                    FrameDecoder decoder = new FrameDecoder(FrameType.MIN_FRAME_MAX);
                    Frame method = decoder.next(b);
                    assertThat(method.channel()).as(kind).isEqualTo(0x0102);
                    assertThat(MethodCodec.decode(method.payload()).toString()).as(kind).isEqualTo(
                            new BasicMethod.Deliver("ctag-é", 0x0102030405060708L, true, "ex", "clé-ü").toString());
                    Frame header = decoder.next(b);
                    assertThat(ContentHeader.peekBodySize(header.payload(), header.payload().position()))
                            .as(kind).isEqualTo(0x0A0B0C0DL);
                    ContentHeader decoded = ContentHeader.decode(header.payload());
                    assertThat(decoded.bodySize()).as(kind).isEqualTo(0x0A0B0C0DL);
                    assertThat(decoded.properties().headers().get("k")).as(kind)
                            .hasValue(new FieldValue.SignedInt(0x11223344));
                    assertThat(b.hasRemaining()).as(kind).isFalse();
                }
            }
        }
    }

    @Test
    void malformedUtf8IsRefusedFromADirectBufferToo() {
        // basic.publish: ticket 0, exchange "", routing key of two bytes that are not UTF-8
        byte[] publish = HexFormat.of().parseHex("003c0028000000" + "02c328" + "00");
        ByteBuffer direct = ByteBuffer.allocateDirect(publish.length).put(publish).flip();
        assertThatThrownBy(() -> MethodCodec.decode(direct)).isInstanceOf(ProtocolException.class)
                .satisfies(e -> assertThat(((ProtocolException) e).replyCode()).isEqualTo(ReplyCode.FRAME_ERROR));
    }
}
