package io.warren.core.internal.screen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.warren.codec.BasicMethod;
import io.warren.codec.BasicProperties;
import io.warren.codec.ContentHeader;
import io.warren.codec.FrameEncoder;
import io.warren.codec.FrameType;
import io.warren.codec.ProtocolException;
import io.warren.codec.ReplyCode;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The content sequence a client must keep on one channel, with the codes and texts RabbitMQ answers breaks with. */
class ContentSequenceTest {
    private final ContentSequence sequence = new ContentSequence();

    private static ByteBuffer headerPayload(int classId, long bodySize) {
        ByteBuffer frame = ByteBuffer.allocate(256);
        FrameEncoder.writeHeader(frame, 1, ContentHeader.basic(bodySize, BasicProperties.EMPTY));
        frame.flip();
        ByteBuffer payload = frame.slice(FrameType.HEADER_SIZE, frame.limit() - FrameType.OVERHEAD);
        payload.putShort(0, (short) classId);
        return payload;
    }

    @Test
    void aMessageIsMethodHeaderAndBodiesThatAddUpToTheAnnouncedSize() throws ProtocolException {
        sequence.checkMethod(BasicMethod.Publish.CLASS_ID, BasicMethod.Publish.METHOD_ID);
        sequence.begin(BasicMethod.Publish.CLASS_ID);
        assertThat(sequence.inProgress()).isTrue();
        assertThat(sequence.expectsHeader()).isTrue();
        long size = sequence.checkHeader(headerPayload(60, 10));
        assertThat(size).isEqualTo(10);
        assertThat(sequence.headerAccepted(size)).isFalse();
        sequence.checkBody(4);
        assertThat(sequence.bodyAccepted(4)).isFalse();
        assertThat(sequence.remainingBody()).isEqualTo(6);
        sequence.checkBody(6);
        assertThat(sequence.bodyAccepted(6)).isTrue();
        sequence.reset();
        assertThat(sequence.inProgress()).isFalse();
        sequence.checkMethod(BasicMethod.Publish.CLASS_ID, BasicMethod.Publish.METHOD_ID); // between messages again
    }

    @Test
    void anEmptyBodyCompletesAtTheHeader() throws ProtocolException {
        sequence.begin(60);
        assertThat(sequence.headerAccepted(sequence.checkHeader(headerPayload(60, 0)))).isTrue();
    }

    @Test
    void aMethodWhereAHeaderOrBodyMustComeIsAnUnexpectedFrame() {
        sequence.begin(60);
        assertThatThrownBy(() -> sequence.checkMethod(60, 40)).isInstanceOfSatisfying(ProtocolException.class, e -> {
            assertThat(e.replyCode()).isEqualTo(ReplyCode.UNEXPECTED_FRAME);
            assertThat(e.getMessage()).isEqualTo(
                    "expected content header for class 60, got non content header frame instead");
            assertThat(e.classId()).isEqualTo(60);
            assertThat(e.methodId()).isEqualTo(40);
        });
        sequence.headerAccepted(5);
        assertThatThrownBy(() -> sequence.checkMethod(20, 40)).isInstanceOfSatisfying(ProtocolException.class,
                e -> assertThat(e.getMessage()).isEqualTo("expected content body, got non content body frame instead"));
    }

    @Test
    void aHeaderOutOfPlaceOrOfAnotherClassIsAnUnexpectedFrame() throws ProtocolException {
        assertThatThrownBy(() -> sequence.checkHeader(headerPayload(60, 1))).isInstanceOfSatisfying(
                ProtocolException.class, e -> {
                    assertThat(e.replyCode()).isEqualTo(ReplyCode.UNEXPECTED_FRAME);
                    assertThat(e.getMessage()).isEqualTo("expected method frame, got non method frame instead");
                });
        sequence.begin(60);
        assertThatThrownBy(() -> sequence.checkHeader(headerPayload(50, 1))).isInstanceOfSatisfying(
                ProtocolException.class, e -> assertThat(e.getMessage())
                        .isEqualTo("expected content header for class 60, got one for class 50 instead"));
        assertThat(sequence.expectsHeader()).as("a refused header moves nothing on").isTrue();
    }

    @Test
    void aBodyOutOfPlaceIsUnexpectedAndOneLargerThanWhatIsLeftIsAFrameError() throws ProtocolException {
        assertThatThrownBy(() -> sequence.checkBody(1)).isInstanceOfSatisfying(ProtocolException.class,
                e -> assertThat(e.getMessage()).isEqualTo("expected method frame, got non method frame instead"));
        sequence.begin(60);
        assertThatThrownBy(() -> sequence.checkBody(1)).isInstanceOfSatisfying(ProtocolException.class,
                e -> assertThat(e.getMessage())
                        .isEqualTo("expected content header for class 60, got non content header frame instead"));
        sequence.headerAccepted(3);
        assertThatThrownBy(() -> sequence.checkBody(4)).isInstanceOfSatisfying(ProtocolException.class, e -> {
            assertThat(e.replyCode()).isEqualTo(ReplyCode.FRAME_ERROR);
            assertThat(e.getMessage()).isEqualTo("content body frame of 4 bytes exceeds the 3 bytes the header left");
        });
        assertThat(sequence.remainingBody()).isEqualTo(3);
    }
}
