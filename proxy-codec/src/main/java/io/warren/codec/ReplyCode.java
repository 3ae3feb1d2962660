package io.warren.codec;

import java.util.Optional;

/** AMQP 0-9-1 reply codes (spec constants), as carried by connection.close and channel.close. */
public enum ReplyCode {
    REPLY_SUCCESS(200, false),
    CONTENT_TOO_LARGE(311, false),
    NO_ROUTE(312, false),
    NO_CONSUMERS(313, false),
    CONNECTION_FORCED(320, true),
    INVALID_PATH(402, true),
    ACCESS_REFUSED(403, false),
    NOT_FOUND(404, false),
    RESOURCE_LOCKED(405, false),
    PRECONDITION_FAILED(406, false),
    FRAME_ERROR(501, true),
    SYNTAX_ERROR(502, true),
    COMMAND_INVALID(503, true),
    CHANNEL_ERROR(504, true),
    UNEXPECTED_FRAME(505, true),
    RESOURCE_ERROR(506, true),
    NOT_ALLOWED(530, true),
    NOT_IMPLEMENTED(540, true),
    INTERNAL_ERROR(541, true);

    private final int code;
    private final boolean hardError;

    ReplyCode(int code, boolean hardError) {
        this.code = code;
        this.hardError = hardError;
    }

    /** The numeric code sent on the wire. */
    public int code() {
        return code;
    }

    /** True for connection-level ("hard-error" class in the spec) codes, false for channel-level ("soft") ones. */
    public boolean isHardError() {
        return hardError;
    }

    /** The AMQP constant name, e.g. {@code FRAME_ERROR}, as RabbitMQ prefixes its reply texts. */
    public String text() {
        return name();
    }

    /** The reply code with this numeric value, if the spec defines one. */
    public static Optional<ReplyCode> of(int code) {
        for (ReplyCode c : values()) {
            if (c.code == code) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }
}
