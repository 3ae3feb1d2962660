package io.warren.codec;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Coverage-guided fuzzing of {@link FrameDecoder} with Jazzer (docs/fuzzing.md). The first input byte picks frame_max,
 * the second how the rest, the byte stream, is cut into reads. The stream is decoded twice, whole and cut, and both
 * must give the same frames and end the same way: only ProtocolException with a connection-level code, all input
 * consumed, no frame beyond frame_max, no buffer beyond one frame. Method and header frames are decoded further.
 */
class FrameDecoderFuzzer {
    private static final int[] FRAME_MAXES = {4096, 8192, 131072};

    @FuzzTest
    void decode(byte[] input) {
        if (input.length < 2) {
            return;
        }
        int frameMax = FRAME_MAXES[(input[0] & 0xFF) % FRAME_MAXES.length];
        int cut = input[1] & 0xFF;
        byte[] stream = new byte[input.length - 2];
        System.arraycopy(input, 2, stream, 0, stream.length);
        List<String> whole = decodeAll(stream, frameMax, Integer.MAX_VALUE);
        List<String> cutUp = decodeAll(stream, frameMax, cut == 0 ? 1 : cut);
        assertThat(cutUp).as("the same stream read in pieces of %d", cut).isEqualTo(whole);
    }

    /** What the decoder made of the stream read {@code chunk} bytes at a time: one line per frame, then how it ended. */
    private static List<String> decodeAll(byte[] stream, int frameMax, int chunk) {
        FrameDecoder d = new FrameDecoder(frameMax);
        List<String> out = new ArrayList<>();
        int pos = 0;
        try {
            while (pos < stream.length) {
                int n = Math.min(chunk, stream.length - pos);
                // each read in a buffer of its own, overwritten afterwards as a socket read buffer would be
                ByteBuffer read = ByteBuffer.allocate(n);
                read.put(stream, pos, n).flip();
                pos += n;
                Frame f;
                while ((f = d.next(read)) != null) {
                    assertThat(f.size()).isLessThanOrEqualTo(frameMax - FrameType.OVERHEAD);
                    assertThat(d.holdsAssemblyBuffer()).as("buffer dropped once the frame is out").isFalse();
                    out.add(describe(f));
                }
                assertThat(read.hasRemaining()).as("the decoder consumes its input").isFalse();
                read.clear();
                while (read.hasRemaining()) {
                    read.put((byte) 0x55);
                }
            }
            out.add(d.hasPartialFrame() ? "partial frame" : "end");
        } catch (ProtocolException e) {
            assertThat(e.replyCode().isHardError()).as(e.toString()).isTrue();
            assertThat(d.failed()).isTrue();
            out.add("failed " + e.replyCode());
        }
        assertThat(d.largestAllocation()).isLessThanOrEqualTo(frameMax - FrameType.HEADER_SIZE);
        return out;
    }

    private static String describe(Frame f) {
        byte[] payload = new byte[f.size()];
        f.payload().duplicate().get(payload);
        String decoded = "";
        try {
            if (f.type() == FrameType.METHOD) {
                decoded = " " + MethodCodec.decode(f.payload());
            } else if (f.type() == FrameType.HEADER) {
                decoded = " " + ContentHeader.decode(f.payload());
            }
        } catch (ProtocolException e) {
            assertThat(e.replyCode().isHardError()).as(e.toString()).isTrue();
            decoded = " undecodable " + e.replyCode();
        }
        return f.type() + "/" + f.channel() + " " + HexFormat.of().formatHex(payload) + decoded;
    }
}
