package io.warren.core.internal.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.warren.codec.BasicMethod;
import io.warren.codec.BasicProperties;
import io.warren.codec.ContentHeader;
import io.warren.codec.Frame;
import io.warren.codec.FrameDecoder;
import io.warren.codec.FrameEncoder;
import io.warren.codec.FrameType;
import io.warren.codec.ProtocolException;
import io.warren.testsupport.gen.Generator;
import io.warren.testsupport.gen.Generators;
import io.warren.testsupport.gen.Property;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The exact-size layout of held messages ({@link HeldMessage}): pure logic, no sockets. */
class HeldMessageTest {
    private static final int CHANNEL = 7;

    private static ByteBuffer methodFrame() {
        return FrameEncoder.method(CHANNEL, new BasicMethod.Publish(0, "amq.direct", "some-key", false, false));
    }

    private static ByteBuffer headerPayload(long bodySize) {
        ByteBuffer b = ByteBuffer.allocate(1024);
        FrameEncoder.writeHeader(b, CHANNEL, ContentHeader.basic(bodySize, BasicProperties.EMPTY));
        b.flip();
        return b.slice(FrameType.HEADER_SIZE, b.remaining() - FrameType.OVERHEAD);
    }

    /** Lays out a body sent in client frames of {@code clientChunk} bytes; returns the frames that go upstream. */
    private static List<Frame> layOut(byte[] body, int clientChunk, int frameMax) throws ProtocolException {
        ByteBuffer method = methodFrame();
        HeldMessage held = new HeldMessage(method, CHANNEL, headerPayload(body.length), body.length, frameMax);
        assertThat((long) held.size()).isEqualTo(HeldMessage.layoutSize(method.remaining(),
                headerPayload(body.length).remaining(), body.length, frameMax));
        for (int at = 0; at < body.length; at += clientChunk) {
            assertThat(held.complete()).isFalse();
            held.appendBody(ByteBuffer.wrap(body, at, Math.min(clientChunk, body.length - at)));
        }
        assertThat(held.complete()).isTrue();
        ByteBuffer out = held.take();
        assertThat(out.remaining()).as("the buffer is exactly full").isEqualTo(held.size());
        FrameDecoder decoder = new FrameDecoder(frameMax);
        List<Frame> frames = new ArrayList<>();
        Frame f;
        while ((f = decoder.next(out)) != null) {
            frames.add(f);
        }
        assertThat(held.frames()).isEqualTo(frames.size());
        return frames;
    }

    private record Framing(int bodySize, int clientChunk, int frameMax) {}

    @Test
    void anyClientFramingBecomesUpstreamFramesOfExactlyTheLayoutSize() {
        Generator<Integer> bodySizes = Generators.ints(0, 40_000);
        Generator<Integer> clientChunks = Generators.ints(1, 20_000);
        Generator<Integer> frameMaxes = Generators.ints(4096, 16_384);
        Property.forAll(r -> new Framing(bodySizes.next(r), clientChunks.next(r), frameMaxes.next(r))).cases(300)
                .check(f -> becomesUpstreamFramesOfExactlyTheLayoutSize(f.bodySize, f.clientChunk, f.frameMax));
    }

    private static void becomesUpstreamFramesOfExactlyTheLayoutSize(int bodySize, int clientChunk, int frameMax)
            throws ProtocolException {
        byte[] body = new byte[bodySize];
        new Random(bodySize * 31L + clientChunk).nextBytes(body);
        List<Frame> frames = layOut(body, clientChunk, frameMax);

        assertThat(frames.get(0).type()).isEqualTo(FrameType.METHOD);
        assertThat(frames.get(0).payload()).isEqualTo(methodFrame().position(FrameType.HEADER_SIZE)
                .limit(methodFrame().limit() - 1));
        assertThat(frames.get(1).type()).isEqualTo(FrameType.HEADER);
        assertThat(ContentHeader.peekBodySize(frames.get(1).payload(), frames.get(1).payload().position()))
                .isEqualTo(bodySize);
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (Frame body1 : frames.subList(2, frames.size())) {
            assertThat(body1.type()).isEqualTo(FrameType.BODY);
            assertThat(body1.channel()).isEqualTo(CHANNEL);
            assertThat(body1.size()).isBetween(1, frameMax - FrameType.OVERHEAD);
            byte[] part = new byte[body1.size()];
            body1.payload().duplicate().get(part);
            joined.writeBytes(part);
        }
        assertThat(joined.toByteArray()).isEqualTo(body);
        // Every body frame but the last is full: the fewest frames, whatever the client's frame sizes.
        long chunk = frameMax - FrameType.OVERHEAD;
        assertThat(frames.size() - 2L).isEqualTo((bodySize + chunk - 1) / chunk);
    }

    @Test
    void oneByteClientFramesCostTheirBytesNotNineTimesThem() throws ProtocolException {
        byte[] body = new byte[10_000];
        new Random(1).nextBytes(body);
        ByteBuffer method = methodFrame();
        long size = HeldMessage.layoutSize(method.remaining(), headerPayload(body.length).remaining(), body.length,
                131072);
        // method + header + one body frame: 10,000 body bytes and 3 frame overheads, not 10,000 x 9
        assertThat(size).isEqualTo(method.remaining() + headerPayload(body.length).remaining() + 10_000
                + 2L * FrameType.OVERHEAD);
        assertThat(layOut(body, 1, 131072)).hasSize(3);
    }

    private record Budget(long budget, int frameMax) {}

    @Test
    void largestBodyWithinIsTheExactLimit() {
        Generator<Long> budgets = Generators.longs(100, 50_000_000);
        Generator<Integer> frameMaxes = Generators.ints(4096, 131072);
        Property.forAll(r -> new Budget(budgets.next(r), frameMaxes.next(r))).cases(300).check(b -> {
            int fixed = 60;
            long largest = HeldMessage.largestBodyWithin(b.budget, fixed, b.frameMax);
            assertThat(HeldMessage.layoutSize(fixed - FrameType.OVERHEAD, 0, largest, b.frameMax))
                    .isLessThanOrEqualTo(b.budget);
            assertThat(HeldMessage.layoutSize(fixed - FrameType.OVERHEAD, 0, largest + 1, b.frameMax))
                    .isGreaterThan(b.budget);
        });
    }

    @Test
    void aBodyLongerThanAnnouncedIsRefused() {
        HeldMessage held = new HeldMessage(methodFrame(), CHANNEL, headerPayload(3), 3, 4096);
        assertThatThrownBy(() -> held.appendBody(ByteBuffer.wrap(new byte[4])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exceeds the 3 left");
        assertThatThrownBy(held::take).isInstanceOf(IllegalStateException.class);
    }
}
