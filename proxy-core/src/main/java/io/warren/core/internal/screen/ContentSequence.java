package io.warren.core.internal.screen;

import io.warren.codec.ContentHeader;
import io.warren.codec.ProtocolException;
import io.warren.codec.ReplyCode;
import java.nio.ByteBuffer;

/**
 * One channel's content sequence as a client sends it: a content method (basic.publish), its content header, then
 * body frames that add up to the size the header announced. Anything else in between is the frame error RabbitMQ
 * would answer (505 UNEXPECTED_FRAME, 501 FRAME_ERROR, with RabbitMQ's texts), which the client is closed for:
 * forwarded, it would close the shared upstream connection (DESIGN.md invariant 5).
 *
 * <p>Each {@code check} method only looks; the matching {@code accepted} method moves the sequence on, so the caller
 * can refuse a well-formed frame for its own reasons (a message too large) in between. Not thread-safe: owned by the
 * channel's event loop.
 */
public final class ContentSequence {
    private enum Phase { IDLE, EXPECT_HEADER, EXPECT_BODY }

    private Phase phase = Phase.IDLE;
    private int contentClass;
    private long remainingBody;

    /** Whether a message is under way (its method arrived, its last body frame not yet). */
    public boolean inProgress() {
        return phase != Phase.IDLE;
    }

    /** Whether the message under way waits for its content header. */
    public boolean expectsHeader() {
        return phase == Phase.EXPECT_HEADER;
    }

    /** Body bytes the header announced that have not arrived yet. */
    public long remainingBody() {
        return remainingBody;
    }

    /** A method frame with these ids: only allowed between messages. */
    public void checkMethod(int classId, int methodId) throws ProtocolException {
        if (phase != Phase.IDLE) {
            throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, phase == Phase.EXPECT_HEADER
                    ? "expected content header for class " + contentClass + ", got non content header frame instead"
                    : "expected content body, got non content body frame instead", classId, methodId);
        }
    }

    /** A content method of {@code classId} was accepted: its header comes next. */
    public void begin(int classId) {
        phase = Phase.EXPECT_HEADER;
        contentClass = classId;
        remainingBody = 0;
    }

    /**
     * A content header frame (its payload, position to limit): checks its place and class.
     *
     * @return the body size it announces
     */
    public long checkHeader(ByteBuffer payload) throws ProtocolException {
        if (phase != Phase.EXPECT_HEADER) {
            throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, "expected method frame, got non method frame instead");
        }
        int headerClass = payload.remaining() >= 2 ? payload.getShort(payload.position()) & 0xFFFF : -1;
        if (headerClass != contentClass) {
            throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, "expected content header for class "
                    + contentClass + ", got one for class " + headerClass + " instead");
        }
        return ContentHeader.peekBodySize(payload, payload.position());
    }

    /**
     * The header was accepted: {@code bodySize} body bytes follow.
     *
     * @return whether the message is complete already (an empty body)
     */
    public boolean headerAccepted(long bodySize) {
        remainingBody = bodySize;
        phase = Phase.EXPECT_BODY;
        return bodySize == 0;
    }

    /** A content body frame of {@code size} payload bytes: checks its place and that it fits what is left. */
    public void checkBody(int size) throws ProtocolException {
        if (phase != Phase.EXPECT_BODY) {
            throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, phase == Phase.EXPECT_HEADER
                    ? "expected content header for class " + contentClass + ", got non content header frame instead"
                    : "expected method frame, got non method frame instead");
        }
        if (size > remainingBody) {
            throw new ProtocolException(ReplyCode.FRAME_ERROR, "content body frame of " + size
                    + " bytes exceeds the " + remainingBody + " bytes the header left");
        }
    }

    /**
     * The body frame was accepted.
     *
     * @return whether it completed the message
     */
    public boolean bodyAccepted(int size) {
        remainingBody -= size;
        return remainingBody == 0;
    }

    /** Back to between messages: the message completed, or was dropped. */
    public void reset() {
        phase = Phase.IDLE;
        remainingBody = 0;
    }
}
