package io.warren.codec;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;

/**
 * Coverage-guided fuzzing of {@link ContentHeader#decode} with Jazzer (docs/fuzzing.md): the input is a header frame's
 * payload, read from the middle of a larger buffer. Decoding either fails with FRAME_ERROR, UNEXPECTED_FRAME or
 * SYNTAX_ERROR, or gives a header whose body size is what peekBodySize reads, whose headers table RabbitMQ can parse,
 * and whose encoding has the size encodedSize says and decodes back to it.
 */
class ContentHeaderFuzzer {

    @FuzzTest
    void decode(byte[] payload) throws ProtocolException {
        ByteBuffer in = FieldTableFuzzer.inTheMiddle(payload);
        ContentHeader h;
        try {
            h = ContentHeader.decode(in);
        } catch (ProtocolException e) {
            assertThat(e.replyCode()).as(e.toString())
                    .isIn(ReplyCode.FRAME_ERROR, ReplyCode.UNEXPECTED_FRAME, ReplyCode.SYNTAX_ERROR);
            return;
        }
        assertThat(in.position()).as("decode does not move the position").isEqualTo(3);
        assertThat(ContentHeader.peekBodySize(in, in.position())).isEqualTo(h.bodySize());
        if (h.properties().headers() != null) {
            FieldTableFuzzer.assertRabbitCanParse(h.properties().headers());
        }
        ByteBuffer out = ByteBuffer.allocate(h.encodedSize());
        h.encode(out);
        assertThat(out.hasRemaining()).as("encodedSize of %s", h).isFalse();
        assertThat(ContentHeader.decode(out.flip())).isEqualTo(h);
    }
}
