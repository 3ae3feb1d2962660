package io.warren.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.testsupport.gen.Generator;
import io.warren.testsupport.gen.Property;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** encode -> decode is the identity, for every method, content headers and nested tables. */
class RoundTripTest {

    private static final Generator<AmqpMethod> METHODS = Gen.anyMethod();
    private static final Generator<ContentHeader> HEADERS = Gen.contentHeader();
    private static final Generator<List<Integer>> SPLITS = Gen.splits();

    @Test
    void methodRoundTrips() {
        Property.forAll(METHODS).cases(1000).check(RoundTripTest::methodRoundTrips);
    }

    private static void methodRoundTrips(AmqpMethod m) throws ProtocolException {
        int size = MethodCodec.encodedSize(m);
        // Encode at an offset with slack after, to check position handling and the size computation.
        ByteBuffer out = ByteBuffer.allocate(size + 10);
        out.position(3);
        MethodCodec.encode(m, out);
        assertThat(out.position()).isEqualTo(3 + size);
        ByteBuffer payload = out.flip().position(3);
        assertThat(MethodCodec.decode(payload)).isEqualTo(m);
        assertThat(payload.position()).as("decode must not move the position").isEqualTo(3);
    }

    @Test
    void contentHeaderRoundTrips() {
        Property.forAll(HEADERS).cases(300).check(RoundTripTest::contentHeaderRoundTrips);
    }

    private static void contentHeaderRoundTrips(ContentHeader h) throws ProtocolException {
        ByteBuffer out = ByteBuffer.allocate(h.encodedSize());
        h.encode(out);
        assertThat(out.hasRemaining()).isFalse();
        out.flip();
        assertThat(ContentHeader.decode(out)).isEqualTo(h);
        assertThat(ContentHeader.peekBodySize(out, 0)).isEqualTo(h.bodySize());
        assertThat(out.position()).isZero();
    }

    @Test
    void nestedTablesRoundTrip() {
        Property.forAll(Gen.table(4)).cases(200).check(RoundTripTest::nestedTableRoundTrips);
    }

    private static void nestedTableRoundTrips(FieldTable t) throws ProtocolException {
        AmqpMethod m = new QueueMethod.Declare(0, "q", false, true, false, false, false, t);
        ByteBuffer b = FrameEncoder.method(1, m);
        assertThat(MethodCodec.decode(b.slice(FrameType.HEADER_SIZE, b.limit() - FrameType.OVERHEAD))).isEqualTo(m);
    }

    private record Stream(AmqpMethod m1, ContentHeader h, AmqpMethod m2, List<Integer> splits) {}

    @Test
    void framesSurviveAnySplit() {
        Property.forAll(r -> new Stream(METHODS.next(r), HEADERS.next(r), METHODS.next(r), SPLITS.next(r)))
                .cases(200).check(s -> framesSurviveThisSplit(s.m1, s.h, s.m2, s.splits));
    }

    private static void framesSurviveThisSplit(AmqpMethod m1, ContentHeader h, AmqpMethod m2, List<Integer> splits)
            throws ProtocolException {
        byte[] body = new byte[(int) Math.floorMod(h.bodySize(), 3000L)];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i * 31);
        }
        int total = FrameEncoder.methodFrameSize(m1) + h.encodedSize() + body.length + FrameEncoder.methodFrameSize(m2)
                + 3 * FrameType.OVERHEAD; // header, body, heartbeat frames
        ByteBuffer stream = ByteBuffer.allocate(total);
        FrameEncoder.writeMethod(stream, 7, m1);
        FrameEncoder.writeHeader(stream, 7, h);
        FrameEncoder.writeBody(stream, 7, ByteBuffer.wrap(body));
        FrameEncoder.writeHeartbeat(stream);
        FrameEncoder.writeMethod(stream, 65535, m2);
        assertThat(stream.hasRemaining()).isFalse();
        stream.flip();

        int largest = Math.max(stream.limit(), 4096);
        FrameDecoder decoder = new FrameDecoder(largest);
        List<Frame> frames = new ArrayList<>();
        int k = 0;
        while (stream.hasRemaining()) {
            int n = Math.min(splits.get(k++ % splits.size()), stream.remaining());
            // Each chunk is its own buffer, reused (overwritten) after the call, as a socket read buffer would be.
            ByteBuffer chunk = ByteBuffer.allocate(n);
            chunk.put(stream.slice(stream.position(), n)).flip();
            stream.position(stream.position() + n);
            Frame f;
            while ((f = decoder.next(chunk)) != null) {
                frames.add(copy(f));
            }
            assertThat(chunk.hasRemaining()).isFalse();
            chunk.clear();
            while (chunk.hasRemaining()) {
                chunk.put((byte) 0x55);
            }
        }
        assertThat(decoder.hasPartialFrame()).isFalse();
        assertThat(frames).hasSize(5);
        assertThat(frames.get(0).type()).isEqualTo(FrameType.METHOD);
        assertThat(frames.get(0).channel()).isEqualTo(7);
        assertThat(MethodCodec.decode(frames.get(0).payload())).isEqualTo(m1);
        assertThat(frames.get(1).type()).isEqualTo(FrameType.HEADER);
        assertThat(ContentHeader.decode(frames.get(1).payload())).isEqualTo(h);
        assertThat(frames.get(2)).isEqualTo(new Frame(FrameType.BODY, 7, ByteBuffer.wrap(body)));
        assertThat(frames.get(3)).isEqualTo(new Frame(FrameType.HEARTBEAT, 0, ByteBuffer.allocate(0)));
        assertThat(frames.get(4).channel()).isEqualTo(65535);
        assertThat(frames.get(4).classId()).isEqualTo(m2.classId());
        assertThat(frames.get(4).methodId()).isEqualTo(m2.methodId());
        assertThat(MethodCodec.decode(frames.get(4).payload())).isEqualTo(m2);
        // Split payloads are copied exactly once into a buffer of payload + end octet, never more.
        assertThat(decoder.largestAllocation()).isLessThanOrEqualTo(largest - FrameType.HEADER_SIZE);
    }

    /** The payload may be a view of the caller's buffer: copy before the buffer is reused. */
    static Frame copy(Frame f) {
        ByteBuffer p = ByteBuffer.allocate(f.size());
        p.put(f.payload().duplicate()).flip();
        return new Frame(f.type(), f.channel(), p);
    }
}
