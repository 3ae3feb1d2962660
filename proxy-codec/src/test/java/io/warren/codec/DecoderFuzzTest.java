package io.warren.codec;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Hostile input: random bytes and mutated valid streams, in random splits. The decoders may only return
 * normally or throw ProtocolException, must consume input, and must never allocate beyond frame_max.
 */
class DecoderFuzzTest {
    private static final int MAX = 4096;

    @Provide
    Arbitrary<byte[]> noise() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(3000);
    }

    @Provide
    Arbitrary<List<Integer>> splits() {
        return Gen.splits();
    }

    @Provide
    Arbitrary<List<AmqpMethod>> methods() {
        return Gen.anyMethod().list().ofMinSize(1).ofMaxSize(4);
    }

    @Property(tries = 400)
    void randomBytes(@ForAll("noise") byte[] bytes, @ForAll("splits") List<Integer> splits) {
        feed(bytes, splits);
    }

    /** Plausible headers with random type, channel and (mostly small) size, then noise. */
    @Property(tries = 400)
    void randomHeaders(@ForAll @IntRange(min = 0, max = 255) int type, @ForAll("noise") byte[] rest,
                       @ForAll @IntRange(min = 0, max = 5000) int size, @ForAll("splits") List<Integer> splits) {
        ByteBuffer b = ByteBuffer.allocate(7 + rest.length);
        b.put((byte) type).putShort((short) 1).putInt(size).put(rest);
        feed(b.array(), splits);
    }

    @Property(tries = 400)
    void mutatedValidStreams(@ForAll("methods") List<AmqpMethod> methods, @ForAll("splits") List<Integer> splits,
                             @ForAll @IntRange(min = 1, max = 8) int mutations,
                             @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int seed) {
        int total = methods.stream().mapToInt(FrameEncoder::methodFrameSize).sum();
        ByteBuffer b = ByteBuffer.allocate(total);
        methods.forEach(m -> FrameEncoder.writeMethod(b, 1, m));
        byte[] bytes = b.array();
        java.util.Random r = new java.util.Random(seed);
        for (int i = 0; i < mutations; i++) {
            bytes[r.nextInt(bytes.length)] = (byte) r.nextInt(256);
        }
        feed(bytes, splits);
    }

    /** Feeds bytes in chunks; decodes every method and header frame too. */
    private static void feed(byte[] bytes, List<Integer> splits) {
        FrameDecoder d = new FrameDecoder(MAX);
        int pos = 0;
        int k = 0;
        try {
            while (pos < bytes.length) {
                int n = Math.min(splits.get(k++ % splits.size()), bytes.length - pos);
                ByteBuffer chunk = ByteBuffer.wrap(bytes, pos, n).slice();
                pos += n;
                Frame f;
                while ((f = d.next(chunk)) != null) {
                    assertThat(f.size()).isLessThanOrEqualTo(MAX - FrameType.OVERHEAD);
                    assertThat(d.holdsAssemblyBuffer()).as("buffer dropped once the frame is out").isFalse();
                    decodeContents(f);
                }
                assertThat(chunk.hasRemaining()).as("decoder must consume its input").isFalse();
            }
        } catch (ProtocolException expected) {
            assertThat(expected.replyCode().isHardError()).isTrue();
        }
        assertThat(d.largestAllocation()).isLessThanOrEqualTo(MAX - FrameType.HEADER_SIZE);
    }

    private static void decodeContents(Frame f) {
        try {
            if (f.type() == FrameType.METHOD) {
                MethodCodec.decode(f.payload());
            } else if (f.type() == FrameType.HEADER) {
                ContentHeader.decode(f.payload());
            }
        } catch (ProtocolException expected) {
            assertThat(expected.replyCode().isHardError()).isTrue();
        }
    }

    /** Mutations of method payloads alone (no framing): only ProtocolException or a value. */
    @Property(tries = 1000)
    void mutatedMethodPayloads(@ForAll("methods") List<AmqpMethod> methods,
                               @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int seed) {
        AmqpMethod m = methods.get(0);
        ByteBuffer b = ByteBuffer.allocate(MethodCodec.encodedSize(m));
        MethodCodec.encode(m, b);
        byte[] bytes = b.array();
        java.util.Random r = new java.util.Random(seed);
        int cut = r.nextInt(bytes.length + 1);
        bytes[r.nextInt(bytes.length)] = (byte) r.nextInt(256);
        try {
            MethodCodec.decode(ByteBuffer.wrap(bytes, 0, r.nextBoolean() ? bytes.length : cut));
        } catch (ProtocolException expected) {
            assertThat(expected.replyCode()).isIn(ReplyCode.FRAME_ERROR, ReplyCode.SYNTAX_ERROR,
                    ReplyCode.NOT_IMPLEMENTED);
        }
    }
}
