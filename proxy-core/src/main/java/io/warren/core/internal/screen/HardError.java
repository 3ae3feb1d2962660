package io.warren.core.internal.screen;

import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ReplyCode;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A connection-level (hard) error exactly as RabbitMQ 3.10 would send it in connection.close: reply code,
 * reply text, and the class and method ids of the failing method (0/0 when RabbitMQ names none).
 *
 * <p>RabbitMQ builds the text as {@code <CONSTANT> - <explanation>} (rabbit_binary_generator
 * amqp_exception_explanation) and, when that exceeds 255 bytes, keeps the first 252 bytes and appends
 * {@code "..."}. {@link #of} does the same; RabbitMQ cuts at a byte, this cuts at the last whole UTF-8
 * character at or before byte 252 (a Java String cannot hold half a character). See docs/hard-errors.md.
 */
public record HardError(ReplyCode code, String text, int classId, int methodId) {

    /** Longest reply text (a shortstr). */
    public static final int MAX_TEXT_BYTES = 255;
    /** Bytes RabbitMQ keeps of an over-long text before appending "...". */
    public static final int TRUNCATED_BYTES = 252;

    public HardError {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(text, "text");
        if (!code.isHardError()) {
            throw new IllegalArgumentException(code + " is not a connection-level reply code");
        }
        if (text.getBytes(StandardCharsets.UTF_8).length > MAX_TEXT_BYTES) {
            throw new IllegalArgumentException("reply text longer than " + MAX_TEXT_BYTES + " bytes");
        }
    }

    /** RabbitMQ's text for {@code rabbit_misc:protocol_error(Name, Explanation, ...)}. */
    public static HardError of(ReplyCode code, String explanation, int classId, int methodId) {
        return new HardError(code, truncate(code.name() + " - " + explanation), classId, methodId);
    }

    // ---- errors that depend on per-channel state the caller tracks (see docs/hard-errors.md) ----

    /** basic.consume with a consumer tag already active on this channel (rabbit_channel, 530). */
    public static HardError consumerTagReuse(String consumerTag) {
        return of(ReplyCode.NOT_ALLOWED, "attempt to reuse consumer tag '" + consumerTag + "'",
                BasicMethod.Consume.CLASS_ID, BasicMethod.Consume.METHOD_ID);
    }

    /** Any method but channel.close sent after tx.commit and before tx.commit-ok (rabbit_channel, 504). */
    public static HardError txCommitInProgress(int classId, int methodId) {
        return of(ReplyCode.CHANNEL_ERROR, "unexpected command while processing 'tx.commit'", classId, methodId);
    }

    /** channel.open on a channel that is already open (rabbit_channel, 504). */
    public static HardError secondChannelOpen() {
        return of(ReplyCode.CHANNEL_ERROR, "second 'channel.open' seen", ChannelMethod.Open.CLASS_ID,
                ChannelMethod.Open.METHOD_ID);
    }

    /** Any method but channel.open on a channel that was never opened (rabbit_channel, 504). */
    public static HardError expectedChannelOpen(int classId, int methodId) {
        return of(ReplyCode.CHANNEL_ERROR, "expected 'channel.open'", classId, methodId);
    }

    /** A method RabbitMQ's channel has no clause for, e.g. channel.close-ok when not closing (503). */
    public static HardError unimplementedMethod(int classId, int methodId) {
        return of(ReplyCode.COMMAND_INVALID, "unimplemented method", classId, methodId);
    }

    /** RabbitMQ's assert_utf8 on the shortstr fields it validates (rabbit_binary_parser, 501, no method). */
    public static HardError malformedUtf8InShortstr() {
        return of(ReplyCode.FRAME_ERROR, "Malformed UTF-8 in shortstr", 0, 0);
    }

    /**
     * A basic content header whose property list does not decode: the channel process crashes and the
     * reader closes the connection with a bare {@code INTERNAL_ERROR} (no explanation, no method).
     */
    public static HardError undecodableContentProperties() {
        return bareInternalError();
    }

    /** What the reader sends when a channel process crashes: {@code INTERNAL_ERROR}, no explanation, no method. */
    public static HardError bareInternalError() {
        return new HardError(ReplyCode.INTERNAL_ERROR, ReplyCode.INTERNAL_ERROR.name(), 0, 0);
    }

    /** RabbitMQ's truncation: more than 255 bytes becomes the first 252 bytes followed by "...". */
    public static String truncate(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= MAX_TEXT_BYTES) {
            return text;
        }
        int end = TRUNCATED_BYTES;
        while (end > 0 && (utf8[end] & 0xC0) == 0x80) { // do not split a character
            end--;
        }
        return new String(utf8, 0, end, StandardCharsets.UTF_8) + "...";
    }
}
