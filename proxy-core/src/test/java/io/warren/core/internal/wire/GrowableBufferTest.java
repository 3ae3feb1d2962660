package io.warren.core.internal.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class GrowableBufferTest {
    private static ByteBuffer bytes(int n, int value) {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            b.put((byte) value);
        }
        return b.flip();
    }

    @Test
    void withoutASourceTheFirstArrayHasTheInitialCapacity() {
        GrowableBuffer out = new GrowableBuffer(4096);
        out.append(bytes(10, 1));
        assertThat(out.take().capacity()).isEqualTo(4096);
    }

    @Test
    void aNewArrayIsSizedByTheFirstWriteAndWhatIsLeftOfTheSource() {
        GrowableBuffer out = new GrowableBuffer(4096);
        ByteBuffer read = bytes(134, 7);
        out.sizeBy(read, 64);
        read.position(20); // the first frame was decoded from the read
        out.append(bytes(20, 1));
        ByteBuffer taken = out.take();
        assertThat(taken.capacity()).isEqualTo(20 + 114 + 64);
        assertThat(taken.remaining()).isEqualTo(20);
        assertThat(read.position()).isEqualTo(20); // the source is never moved
        read.position(100); // after a flush in the middle of the read: sized by what is left then
        out.append(bytes(30, 2));
        assertThat(out.take().capacity()).isEqualTo(30 + 34 + 64);
    }

    @Test
    void aLargeSourceNeverTakesMoreThanTheInitialCapacityOrTheFirstWrite() {
        GrowableBuffer out = new GrowableBuffer(4096);
        ByteBuffer read = bytes(65536, 0);
        out.sizeBy(read, 64);
        out.append(bytes(20, 1));
        assertThat(out.take().capacity()).isEqualTo(4096); // then doubles, as without a source
        out.append(bytes(10000, 2));
        assertThat(out.take().capacity()).isEqualTo(10000);
    }

    @Test
    void moreThanTheSourceAnnouncedStillGrowsAndKeepsEveryByte() {
        GrowableBuffer out = new GrowableBuffer(4096);
        ByteBuffer read = bytes(8, 0);
        read.position(read.limit());
        out.sizeBy(read, 4);
        out.append(bytes(5, 1));
        out.append(bytes(100, 2));
        out.append(bytes(3, 3));
        ByteBuffer taken = out.take();
        assertThat(taken.remaining()).isEqualTo(108);
        for (int i = 0; i < 108; i++) {
            assertThat(taken.get(i)).isEqualTo((byte) (i < 5 ? 1 : i < 105 ? 2 : 3));
        }
    }

    @Test
    void aNullSourceRestoresTheInitialCapacity() {
        GrowableBuffer out = new GrowableBuffer(4096);
        out.sizeBy(bytes(10, 0), 64);
        out.sizeBy(null, 64);
        out.append(bytes(10, 1));
        assertThat(out.take().capacity()).isEqualTo(4096);
    }
}
