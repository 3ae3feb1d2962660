package io.warren.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class FrameDecoderTest {
    private static final int MAX = 4096;

    private static ByteBuffer frame(int type, int channel, int size, int end) {
        ByteBuffer b = ByteBuffer.allocate(size + FrameType.OVERHEAD);
        b.put((byte) type).putShort((short) channel).putInt(size);
        for (int i = 0; i < size; i++) {
            b.put((byte) i);
        }
        b.put((byte) end);
        return b.flip();
    }

    private static void assertCode(ThrowingCallable call, ReplyCode code) {
        assertThatThrownBy(call).isInstanceOf(ProtocolException.class)
                .satisfies(e -> assertThat(((ProtocolException) e).replyCode()).isEqualTo(code));
    }

    @Test
    void wholeFrameIsASliceOfTheInputWithoutCopy() throws ProtocolException {
        ByteBuffer in = ByteBuffer.allocate(100);
        in.put(frame(FrameType.BODY, 3, 10, 0xCE)).put((byte) 1).flip();
        FrameDecoder d = new FrameDecoder(MAX);
        Frame f = d.next(in);
        assertThat(f.type()).isEqualTo(FrameType.BODY);
        assertThat(f.channel()).isEqualTo(3);
        assertThat(f.size()).isEqualTo(10);
        assertThat(in.position()).isEqualTo(18);
        in.put(FrameType.HEADER_SIZE, (byte) 99); // writes through: the payload is a view of in
        assertThat(f.payload().get(0)).isEqualTo((byte) 99);
        assertThat(d.largestAllocation()).isZero();
        assertThat(d.next(in)).isNull();
        assertThat(d.hasPartialFrame()).isTrue();
    }

    @Test
    void byteAtATimeAssemblesOnceAndHoldsNothingWhenIdle() throws ProtocolException {
        ByteBuffer all = frame(FrameType.METHOD, 1, 300, 0xCE);
        FrameDecoder d = new FrameDecoder(MAX);
        Frame f = null;
        for (int i = 0; i < all.limit(); i++) {
            assertThat(f).isNull();
            ByteBuffer one = ByteBuffer.wrap(new byte[] {all.get(i)});
            f = d.next(one);
            assertThat(one.hasRemaining()).isFalse();
            assertThat(d.hasPartialFrame()).isEqualTo(f == null);
            assertThat(d.holdsAssemblyBuffer()).isEqualTo(f == null && i >= FrameType.HEADER_SIZE - 1);
        }
        assertThat(f).isNotNull();
        assertThat(f.payload()).isEqualTo(all.slice(7, 300));
        assertThat(d.largestAllocation()).isEqualTo(301);
    }

    @Test
    void headerSplitButPayloadWholeIsStillZeroCopy() throws ProtocolException {
        ByteBuffer all = frame(FrameType.BODY, 2, 50, 0xCE);
        FrameDecoder d = new FrameDecoder(MAX);
        assertThat(d.next(all.slice(0, 3))).isNull();
        Frame f = d.next(all.slice(3, all.limit() - 3));
        assertThat(f.size()).isEqualTo(50);
        assertThat(d.largestAllocation()).isZero();
    }

    @Test
    void frameExactlyAtMaxIsAcceptedOneOverIsRejectedBeforeAllocating() throws ProtocolException {
        FrameDecoder d = new FrameDecoder(MAX);
        ByteBuffer exact = frame(FrameType.BODY, 1, MAX - FrameType.OVERHEAD, 0xCE);
        assertThat(exact.limit()).isEqualTo(MAX);
        assertThat(d.next(exact).size()).isEqualTo(MAX - 8);

        FrameDecoder d2 = new FrameDecoder(MAX);
        ByteBuffer over = frame(FrameType.BODY, 1, MAX - FrameType.OVERHEAD + 1, 0xCE);
        assertCode(() -> d2.next(over.slice(0, 7)), ReplyCode.FRAME_ERROR); // only the header: rejected already
        assertThat(d2.largestAllocation()).isZero();
        assertThatThrownBy(() -> d2.next(over)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void hugeDeclaredSizeIsRejectedNotAllocated() {
        FrameDecoder d = new FrameDecoder(Integer.MAX_VALUE);
        ByteBuffer b = ByteBuffer.allocate(7).put((byte) 3).putShort((short) 1).putInt(-1).flip();
        assertCode(() -> d.next(b), ReplyCode.FRAME_ERROR);
        assertThat(d.largestAllocation()).isZero();
    }

    @Test
    void maxFrameSizeCanBeRaisedAfterTune() throws ProtocolException {
        FrameDecoder d = new FrameDecoder(MAX);
        d.setMaxFrameSize(131072);
        assertThat(d.maxFrameSize()).isEqualTo(131072);
        assertThat(d.next(frame(FrameType.BODY, 1, 100_000, 0xCE)).size()).isEqualTo(100_000);
        assertThatThrownBy(() -> d.setMaxFrameSize(4095)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FrameDecoder(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void badEndOctetIsFrameError() {
        assertCode(() -> new FrameDecoder(MAX).next(frame(FrameType.METHOD, 1, 12, 0xCD)), ReplyCode.FRAME_ERROR);
        // also when the end octet arrives in the assembly path
        FrameDecoder d = new FrameDecoder(MAX);
        ByteBuffer all = frame(FrameType.BODY, 1, 12, 0x00);
        assertCode(() -> {
            assertThat(d.next(all.slice(0, 10))).isNull();
            d.next(all.slice(10, all.limit() - 10));
        }, ReplyCode.FRAME_ERROR);
    }

    @Test
    void unknownFrameTypeIsFrameError() {
        assertCode(() -> new FrameDecoder(MAX).next(frame(4, 0, 0, 0xCE)), ReplyCode.FRAME_ERROR);
        assertCode(() -> new FrameDecoder(MAX).next(frame(0, 0, 0, 0xCE)), ReplyCode.FRAME_ERROR);
    }

    @Test
    void heartbeatRules() throws ProtocolException {
        assertThat(new FrameDecoder(MAX).next(frame(FrameType.HEARTBEAT, 0, 0, 0xCE)).size()).isZero();
        assertCode(() -> new FrameDecoder(MAX).next(frame(FrameType.HEARTBEAT, 1, 0, 0xCE)), ReplyCode.UNEXPECTED_FRAME);
        assertCode(() -> new FrameDecoder(MAX).next(frame(FrameType.HEARTBEAT, 0, 1, 0xCE)), ReplyCode.FRAME_ERROR);
        assertCode(() -> new FrameDecoder(MAX).next(frame(FrameType.HEARTBEAT, 1, 2, 0xCE)), ReplyCode.FRAME_ERROR);
    }

    @Test
    void shortMethodAndHeaderFramesAreFrameErrors() throws ProtocolException {
        assertCode(() -> new FrameDecoder(MAX).next(frame(FrameType.METHOD, 1, 3, 0xCE)), ReplyCode.FRAME_ERROR);
        assertThat(new FrameDecoder(MAX).next(frame(FrameType.METHOD, 1, 4, 0xCE))).isNotNull();
        assertCode(() -> new FrameDecoder(MAX).next(frame(FrameType.HEADER, 1, 11, 0xCE)), ReplyCode.FRAME_ERROR);
        assertThat(new FrameDecoder(MAX).next(frame(FrameType.HEADER, 1, 12, 0xCE))).isNotNull();
    }

    @Test
    void peekAndRewriteChannelInPlace() {
        ByteBuffer b = ByteBuffer.allocate(64);
        b.position(5);
        FrameEncoder.writeMethod(b, 513, new BasicMethod.Ack(42, true));
        assertThat(FramePeek.type(b, 5)).isEqualTo(FrameType.METHOD);
        assertThat(FramePeek.channel(b, 5)).isEqualTo(513);
        assertThat(FramePeek.payloadSize(b, 5)).isEqualTo(13);
        assertThat(FramePeek.classId(b, 5)).isEqualTo(BasicMethod.Ack.CLASS_ID);
        assertThat(FramePeek.methodId(b, 5)).isEqualTo(BasicMethod.Ack.METHOD_ID);
        int pos = b.position();
        FramePeek.setChannel(b, 5, 65535);
        assertThat(FramePeek.channel(b, 5)).isEqualTo(65535);
        assertThat(b.position()).isEqualTo(pos);
        assertThatThrownBy(() -> FramePeek.setChannel(b, 5, 65536)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void protocolHeaderCheck() {
        assertThat(ProtocolHeader.check(ByteBuffer.wrap(new byte[] {'A', 'M', 'Q'}))).isEqualTo(ProtocolHeader.Match.NEED_MORE);
        assertThat(ProtocolHeader.check(ByteBuffer.wrap(ProtocolHeader.AMQP_0_9_1))).isEqualTo(ProtocolHeader.Match.MATCH);
        assertThat(ProtocolHeader.check(ByteBuffer.wrap(new byte[] {'A', 'M', 'Q', 'P', 1, 1, 0, 9})))
                .isEqualTo(ProtocolHeader.Match.MISMATCH);
        assertThat(ProtocolHeader.check(ByteBuffer.wrap("GET".getBytes()))).isEqualTo(ProtocolHeader.Match.MISMATCH);
        assertThat(ProtocolHeader.check(ByteBuffer.allocate(0))).isEqualTo(ProtocolHeader.Match.NEED_MORE);
    }

    @Test
    void encoderRefusesToWritePartially() {
        ByteBuffer small = ByteBuffer.allocate(12);
        assertThatThrownBy(() -> FrameEncoder.writeMethod(small, 1, new BasicMethod.Ack(1, false)))
                .isInstanceOf(java.nio.BufferOverflowException.class);
        assertThat(small.position()).isZero();
        ByteBuffer m = FrameEncoder.method(1, ConnectionMethod.CloseOk.INSTANCE);
        assertThat(m.position()).isZero();
        assertThat(m.limit()).isEqualTo(12).isEqualTo(FrameEncoder.methodFrameSize(ConnectionMethod.CloseOk.INSTANCE));
        assertThat(m.get(11) & 0xFF).isEqualTo(0xCE);
    }
}
