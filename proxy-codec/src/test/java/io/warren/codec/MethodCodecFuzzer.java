package io.warren.codec;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;

/**
 * Coverage-guided fuzzing of {@link MethodCodec#decode} with Jazzer (docs/fuzzing.md): the input is a method frame's
 * payload, read from the middle of a larger buffer. Decoding either fails with one of its three codes or gives a method
 * whose tables RabbitMQ can parse, whose encoding has the size encodedSize says, and which decodes back to itself.
 */
class MethodCodecFuzzer {

    @FuzzTest
    void decode(byte[] payload) throws ProtocolException {
        AmqpMethod m;
        try {
            m = MethodCodec.decode(FieldTableFuzzer.inTheMiddle(payload));
        } catch (ProtocolException e) {
            assertThat(e.replyCode()).as(e.toString())
                    .isIn(ReplyCode.FRAME_ERROR, ReplyCode.SYNTAX_ERROR, ReplyCode.NOT_IMPLEMENTED);
            return;
        }
        for (var c : m.getClass().getRecordComponents()) {
            if (c.getType() == FieldTable.class) {
                try {
                    FieldTableFuzzer.assertRabbitCanParse((FieldTable) c.getAccessor().invoke(m));
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError(e);
                }
            }
        }
        ByteBuffer out = ByteBuffer.allocate(MethodCodec.encodedSize(m));
        MethodCodec.encode(m, out);
        assertThat(out.hasRemaining()).as("encodedSize of %s", m).isFalse();
        assertThat(MethodCodec.decode(out.flip())).isEqualTo(m);
    }
}
