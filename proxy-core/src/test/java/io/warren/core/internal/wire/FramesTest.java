package io.warren.core.internal.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.codec.FrameType;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The copies on the forward path: from a source's position to its limit, which stay as they were. */
class FramesTest {
    /** Bytes 0..n-1 of a larger buffer, seen from {@code from} to {@code to}: a frame in the middle of a read. */
    private static ByteBuffer window(ByteBuffer whole, int from, int to) {
        for (int i = 0; i < whole.capacity(); i++) {
            whole.put(i, (byte) i);
        }
        return whole.limit(to).position(from);
    }

    @Test
    void copyFrameTakesThePayloadFromItsPositionAfterWhatIsGathered() {
        GrowableBuffer out = new GrowableBuffer(64);
        out.append(ByteBuffer.wrap(new byte[] {9, 9, 9}));
        ByteBuffer payload = window(ByteBuffer.allocate(40), 0, 40).slice(10, 5); // bytes 10-14, array offset 10
        payload.limit(4).position(2); // 12 and 13

        Frames.copyFrame(FrameType.BODY, 0x0102, payload, out);

        assertThat(payload.position()).isEqualTo(2);
        assertThat(payload.limit()).isEqualTo(4);
        byte[] expected = {9, 9, 9, FrameType.BODY, 1, 2, 0, 0, 0, 2, 12, 13, (byte) FrameType.FRAME_END};
        ByteBuffer taken = out.take();
        byte[] got = new byte[taken.remaining()];
        taken.get(got);
        assertThat(got).isEqualTo(expected);
    }

    @Test
    void appendCopiesReadOnlyAndDirectSourcesFromTheirPosition() {
        for (ByteBuffer whole : new ByteBuffer[] {ByteBuffer.allocate(16), ByteBuffer.allocateDirect(16)}) {
            ByteBuffer src = window(whole, 4, 7);
            GrowableBuffer out = new GrowableBuffer(2); // grows: the copy goes to the new array
            out.append(ByteBuffer.wrap(new byte[] {1}));
            out.append(src.asReadOnlyBuffer());
            out.append(src);

            assertThat(src.position()).isEqualTo(4);
            ByteBuffer taken = out.take();
            byte[] got = new byte[taken.remaining()];
            taken.get(got);
            assertThat(got).isEqualTo(new byte[] {1, 4, 5, 6, 4, 5, 6});
        }
    }
}
