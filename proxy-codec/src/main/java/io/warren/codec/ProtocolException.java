package io.warren.codec;

import java.util.Objects;

/**
 * Malformed or unacceptable AMQP input. The {@link #replyCode()} is the code the broker would send
 * when closing for the same fault; {@link #classId()} and {@link #methodId()} name the method being
 * decoded, or are 0 when the fault is not tied to a method.
 */
public final class ProtocolException extends Exception {
    private static final long serialVersionUID = 1L;

    private final ReplyCode replyCode;
    private final int classId;
    private final int methodId;

    public ProtocolException(ReplyCode code, String message) {
        this(code, message, 0, 0);
    }

    public ProtocolException(ReplyCode code, String message, int classId, int methodId) {
        super(message);
        this.replyCode = Objects.requireNonNull(code, "code");
        this.classId = classId;
        this.methodId = methodId;
    }

    public ReplyCode replyCode() {
        return replyCode;
    }

    /** Class id of the method at fault, 0 when not applicable. */
    public int classId() {
        return classId;
    }

    /** Method id of the method at fault, 0 when not applicable. */
    public int methodId() {
        return methodId;
    }
}
