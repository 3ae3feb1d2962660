package io.warren.codec;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;

/**
 * Coverage-guided fuzzing of field-table decoding ({@link FieldTable#decode}) with Jazzer (docs/fuzzing.md): the input
 * is a table with its length prefix, read from the middle of a larger buffer. Decoding either fails with FRAME_ERROR
 * (the length does not fit) or SYNTAX_ERROR (contents), or gives a table RabbitMQ can parse, read to exactly its end,
 * that encodes to the size tableSize says and decodes back to itself.
 */
class FieldTableFuzzer {

    @FuzzTest
    void decode(byte[] input) throws ProtocolException {
        ByteBuffer in = inTheMiddle(input);
        int start = in.position();
        FieldTable t;
        try {
            t = FieldTable.decode(in);
        } catch (ProtocolException e) {
            assertThat(e.replyCode()).as(e.toString()).isIn(ReplyCode.FRAME_ERROR, ReplyCode.SYNTAX_ERROR);
            return;
        }
        assertThat(in.position() - start).as("bytes read").isEqualTo(4 + Wire.i32(in, start));
        assertRabbitCanParse(t);
        ByteBuffer out = ByteBuffer.allocate(Wire.tableSize(t));
        Wire.putTable(out, t);
        assertThat(out.hasRemaining()).as("tableSize of %s", t).isFalse();
        assertThat(FieldTable.decode(out.flip())).isEqualTo(t);
    }

    /** {@code bytes} at position 3 of a buffer with 3 other bytes on either side, the limit at their end. */
    static ByteBuffer inTheMiddle(byte[] bytes) {
        ByteBuffer b = ByteBuffer.allocate(bytes.length + 6);
        b.put(new byte[] {0x11, 0x22, 0x33}).put(bytes).put(new byte[] {0x44, 0x55, 0x66});
        return b.position(3).limit(3 + bytes.length);
    }

    /** No value that RabbitMQ 3.10's parse_table has no clause for (it crashes the reader): floats are finite. */
    static void assertRabbitCanParse(FieldTable t) {
        t.entries().values().forEach(FieldTableFuzzer::assertRabbitCanParse);
    }

    private static void assertRabbitCanParse(FieldValue v) {
        if (v instanceof FieldValue.Float32 f) {
            assertThat(Float.isFinite(f.value())).as("a float RabbitMQ cannot parse: %s", f).isTrue();
        } else if (v instanceof FieldValue.Float64 d) {
            assertThat(Double.isFinite(d.value())).as("a double RabbitMQ cannot parse: %s", d).isTrue();
        } else if (v instanceof FieldValue.Table nested) {
            assertRabbitCanParse(nested.table());
        } else if (v instanceof FieldValue.Array a) {
            a.values().forEach(FieldTableFuzzer::assertRabbitCanParse);
        }
    }
}
