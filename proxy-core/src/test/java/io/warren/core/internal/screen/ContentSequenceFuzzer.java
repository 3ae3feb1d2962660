package io.warren.core.internal.screen;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.warren.codec.ProtocolException;
import io.warren.codec.ReplyCode;
import java.nio.ByteBuffer;

/**
 * Coverage-guided fuzzing of {@link ContentSequence} with Jazzer (docs/fuzzing.md): the input is a sequence of
 * frames as a client might send them on one channel (each step a byte: method with or without content, header of
 * some class with some body size, body of some size), checked against a model of the sequence. A step the model
 * allows is accepted; one it forbids is refused with 505 UNEXPECTED_FRAME or 501 FRAME_ERROR and changes nothing;
 * the body accepted never exceeds what the header announced, and the message completes exactly when it is all in.
 */
class ContentSequenceFuzzer {

    @FuzzTest
    void sequence(byte[] input) {
        ContentSequence seq = new ContentSequence();
        ByteBuffer in = ByteBuffer.wrap(input);
        // The model: 0 between messages, 1 waiting for a header of contentClass, 2 in the body.
        int phase = 0;
        int contentClass = 0;
        long left = 0;
        while (in.remaining() >= 3) {
            int op = in.get() & 3;
            int arg = in.getShort() & 0xFFFF;
            try {
                switch (op) {
                    case 0 -> { // a method frame, with content when arg is odd
                        seq.checkMethod(60, 40);
                        assertThat(phase).as("a method mid-message was accepted").isZero();
                        if ((arg & 1) != 0) {
                            contentClass = (arg & 2) != 0 ? 60 : 50;
                            seq.begin(contentClass);
                            phase = 1;
                        }
                    }
                    case 1 -> { // a header of class 60 or 50 with a body of up to 255 bytes
                        int cls = (arg & 0x100) != 0 ? 50 : 60;
                        long size = arg & 0xFF;
                        long announced = seq.checkHeader(header(cls, size));
                        assertThat(phase).as("a header out of place was accepted").isEqualTo(1);
                        assertThat(cls).isEqualTo(contentClass);
                        assertThat(announced).isEqualTo(size);
                        boolean complete = seq.headerAccepted(size);
                        assertThat(complete).isEqualTo(size == 0);
                        phase = complete ? 0 : 2;
                        left = size;
                        if (complete) {
                            seq.reset();
                        }
                    }
                    case 2 -> { // a body frame of up to 255 bytes
                        int size = arg & 0xFF;
                        seq.checkBody(size);
                        assertThat(phase).as("a body out of place was accepted").isEqualTo(2);
                        assertThat((long) size).isLessThanOrEqualTo(left);
                        boolean complete = seq.bodyAccepted(size);
                        left -= size;
                        assertThat(complete).isEqualTo(left == 0);
                        assertThat(seq.remainingBody()).isEqualTo(left);
                        if (complete) {
                            seq.reset();
                            phase = 0;
                        }
                    }
                    default -> { // the message is dropped (its channel closed)
                        seq.reset();
                        phase = 0;
                    }
                }
            } catch (ProtocolException e) {
                assertThat(e.replyCode()).isIn(ReplyCode.UNEXPECTED_FRAME, ReplyCode.FRAME_ERROR);
                assertThat(seq.inProgress()).as("a refused frame moves nothing").isEqualTo(phase != 0);
                assertThat(seq.expectsHeader()).isEqualTo(phase == 1);
            }
        }
    }

    /** A content header payload: class, weight 0, body size, no properties. */
    private static ByteBuffer header(int classId, long bodySize) {
        ByteBuffer b = ByteBuffer.allocate(14);
        b.putShort((short) classId).putShort((short) 0).putLong(bodySize).putShort((short) 0).flip();
        return b;
    }
}
