package io.warren.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.testsupport.gen.Generator;
import io.warren.testsupport.gen.Generators;
import io.warren.testsupport.gen.Property;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Hostile input: random bytes and mutated valid streams, in random splits. The decoders may only return
 * normally or throw ProtocolException, must consume input, and must never allocate beyond frame_max.
 */
class DecoderFuzzTest {
    private static final int MAX = 4096;

    private static final Generator<byte[]> NOISE = Generators.byteArrays(0, 3000);
    private static final Generator<List<Integer>> SPLITS = Gen.splits();
    private static final Generator<List<AmqpMethod>> METHODS = Gen.anyMethod().list(1, 4);

    private record Split(byte[] bytes, List<Integer> splits) {
        @Override
        public String toString() {
            return "bytes=" + HexFormat.of().formatHex(bytes) + " splits=" + splits;
        }
    }

    @Test
    void randomBytes() {
        Property.forAll(r -> new Split(NOISE.next(r), SPLITS.next(r))).cases(400).check(c -> feed(c.bytes, c.splits));
    }

    /** Plausible headers with random type, channel and (mostly small) size, then noise. */
    @Test
    void randomHeaders() {
        Generator<Integer> types = Generators.ints(0, 255);
        Generator<Integer> sizes = Generators.ints(0, 5000);
        Property.forAll(r -> {
            int type = types.next(r);
            byte[] rest = NOISE.next(r);
            int size = sizes.next(r);
            ByteBuffer b = ByteBuffer.allocate(7 + rest.length);
            b.put((byte) type).putShort((short) 1).putInt(size).put(rest);
            return new Split(b.array(), SPLITS.next(r));
        }).cases(400).check(c -> feed(c.bytes, c.splits));
    }

    private record Mutated(List<AmqpMethod> methods, List<Integer> splits, int mutations, int seed) {}

    @Test
    void mutatedValidStreams() {
        Generator<Integer> mutations = Generators.ints(1, 8);
        Generator<Integer> seeds = Generators.ints(0, Integer.MAX_VALUE);
        Property.forAll(r -> new Mutated(METHODS.next(r), SPLITS.next(r), mutations.next(r), seeds.next(r)))
                .cases(400).check(c -> {
                    int total = c.methods.stream().mapToInt(FrameEncoder::methodFrameSize).sum();
                    ByteBuffer b = ByteBuffer.allocate(total);
                    c.methods.forEach(m -> FrameEncoder.writeMethod(b, 1, m));
                    byte[] bytes = b.array();
                    Random r = new Random(c.seed);
                    for (int i = 0; i < c.mutations; i++) {
                        bytes[r.nextInt(bytes.length)] = (byte) r.nextInt(256);
                    }
                    feed(bytes, c.splits);
                });
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
    @Test
    void mutatedMethodPayloads() {
        Generator<Integer> seeds = Generators.ints(0, Integer.MAX_VALUE);
        Property.forAll(r -> new Mutated(METHODS.next(r), List.of(), 1, seeds.next(r))).cases(1000).check(c -> {
            AmqpMethod m = c.methods.get(0);
            ByteBuffer b = ByteBuffer.allocate(MethodCodec.encodedSize(m));
            MethodCodec.encode(m, b);
            byte[] bytes = b.array();
            Random r = new Random(c.seed);
            int cut = r.nextInt(bytes.length + 1);
            bytes[r.nextInt(bytes.length)] = (byte) r.nextInt(256);
            try {
                MethodCodec.decode(ByteBuffer.wrap(bytes, 0, r.nextBoolean() ? bytes.length : cut));
            } catch (ProtocolException expected) {
                assertThat(expected.replyCode()).isIn(ReplyCode.FRAME_ERROR, ReplyCode.SYNTAX_ERROR,
                        ReplyCode.NOT_IMPLEMENTED);
            }
        });
    }
}
