package io.warren.codec;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A content header frame payload: {@code class-id weight body-size property-flags property-list}.
 * Only the {@code basic} class (60) carries content in AMQP 0-9-1.
 *
 * <p>Property flags: one 16-bit word, bit 15 = contentType down to bit 2 = clusterId. Bit 0 is the
 * continuation bit; like RabbitMQ (rabbit_binary_parser:parse_properties reads exactly
 * ceil(14/15) = 1 flag word for basic) it is ignored, as is bit 1. Bytes after the last present
 * property are ignored, as the RabbitMQ Java client's property reader does.
 */
public record ContentHeader(int classId, int weight, long bodySize, BasicProperties properties) {
    /** Bytes before the property flags: class-id(2) weight(2) body-size(8). */
    static final int FIXED_SIZE = 12;

    public ContentHeader {
        Wire.checkShort("classId", classId);
        Wire.checkShort("weight", weight);
        Objects.requireNonNull(properties, "properties");
    }

    /** A basic-class header with weight 0. */
    public static ContentHeader basic(long bodySize, BasicProperties properties) {
        return new ContentHeader(BasicMethod.Publish.CLASS_ID, 0, bodySize, properties);
    }

    /** The body-size field (unsigned 64-bit, as a long) of a header payload at {@code payloadStart}; allocation-free. */
    public static long peekBodySize(ByteBuffer payload, int payloadStart) {
        return Wire.i64(payload, payloadStart + 4);
    }

    /**
     * Decodes from the payload's position to its limit without moving the position.
     *
     * @throws ProtocolException FRAME_ERROR if truncated, UNEXPECTED_FRAME for a class other than basic,
     *     SYNTAX_ERROR for malformed header table contents
     */
    public static ContentHeader decode(ByteBuffer payload) throws ProtocolException {
        Reader r = new Reader(payload, payload.position(), payload.limit());
        // RabbitMQ analyze_frame needs 12 bytes for a header frame, else frame_error unknown_frame (501);
        // a missing flag word fails the property layout below, also FRAME_ERROR
        if (r.remaining() < FIXED_SIZE) {
            throw new ProtocolException(ReplyCode.FRAME_ERROR, "content header of " + r.remaining() + " bytes");
        }
        int classId = r.shortUint();
        int weight = r.shortUint();
        long bodySize = r.longlong();
        if (classId != BasicMethod.Publish.CLASS_ID) {
            // RabbitMQ command assembler: a header for another class than the method's is unexpected_frame (505)
            throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, "content header for class " + classId);
        }
        int flags = r.shortUint();
        String contentType = (flags & 0x8000) != 0 ? r.shortstr() : null;
        String contentEncoding = (flags & 0x4000) != 0 ? r.shortstr() : null;
        FieldTable headers = (flags & 0x2000) != 0 ? r.table() : null;
        Integer deliveryMode = (flags & 0x1000) != 0 ? r.octet() : null;
        Integer priority = (flags & 0x0800) != 0 ? r.octet() : null;
        String correlationId = (flags & 0x0400) != 0 ? r.shortstr() : null;
        String replyTo = (flags & 0x0200) != 0 ? r.shortstr() : null;
        String expiration = (flags & 0x0100) != 0 ? r.shortstr() : null;
        String messageId = (flags & 0x0080) != 0 ? r.shortstr() : null;
        Long timestamp = (flags & 0x0040) != 0 ? r.longlong() : null;
        String type = (flags & 0x0020) != 0 ? r.shortstr() : null;
        String userId = (flags & 0x0010) != 0 ? r.shortstr() : null;
        String appId = (flags & 0x0008) != 0 ? r.shortstr() : null;
        String clusterId = (flags & 0x0004) != 0 ? r.shortstr() : null;
        return new ContentHeader(classId, weight, bodySize, new BasicProperties(contentType, contentEncoding, headers,
                deliveryMode, priority, correlationId, replyTo, expiration, messageId, timestamp, type, userId,
                appId, clusterId));
    }

    /** Payload bytes {@link #encode} writes. */
    public int encodedSize() {
        BasicProperties p = properties;
        int n = FIXED_SIZE + 2;
        n += p.contentType() != null ? Wire.shortstrSize(p.contentType()) : 0;
        n += p.contentEncoding() != null ? Wire.shortstrSize(p.contentEncoding()) : 0;
        n += p.headers() != null ? Wire.tableSize(p.headers()) : 0;
        n += p.deliveryMode() != null ? 1 : 0;
        n += p.priority() != null ? 1 : 0;
        n += p.correlationId() != null ? Wire.shortstrSize(p.correlationId()) : 0;
        n += p.replyTo() != null ? Wire.shortstrSize(p.replyTo()) : 0;
        n += p.expiration() != null ? Wire.shortstrSize(p.expiration()) : 0;
        n += p.messageId() != null ? Wire.shortstrSize(p.messageId()) : 0;
        n += p.timestamp() != null ? 8 : 0;
        n += p.type() != null ? Wire.shortstrSize(p.type()) : 0;
        n += p.userId() != null ? Wire.shortstrSize(p.userId()) : 0;
        n += p.appId() != null ? Wire.shortstrSize(p.appId()) : 0;
        n += p.clusterId() != null ? Wire.shortstrSize(p.clusterId()) : 0;
        return n;
    }

    /**
     * Writes the header payload (not the frame) at {@code out}'s position.
     *
     * @throws BufferOverflowException if it does not fit; nothing is written then
     */
    public void encode(ByteBuffer out) {
        if (out.remaining() < encodedSize()) {
            throw new BufferOverflowException();
        }
        encodeUnchecked(out);
    }

    void encodeUnchecked(ByteBuffer out) {
        BasicProperties p = properties;
        Wire.putShort(out, classId);
        Wire.putShort(out, weight);
        Wire.putLong(out, bodySize);
        int flags = (p.contentType() != null ? 0x8000 : 0) | (p.contentEncoding() != null ? 0x4000 : 0)
                | (p.headers() != null ? 0x2000 : 0) | (p.deliveryMode() != null ? 0x1000 : 0)
                | (p.priority() != null ? 0x0800 : 0) | (p.correlationId() != null ? 0x0400 : 0)
                | (p.replyTo() != null ? 0x0200 : 0) | (p.expiration() != null ? 0x0100 : 0)
                | (p.messageId() != null ? 0x0080 : 0) | (p.timestamp() != null ? 0x0040 : 0)
                | (p.type() != null ? 0x0020 : 0) | (p.userId() != null ? 0x0010 : 0)
                | (p.appId() != null ? 0x0008 : 0) | (p.clusterId() != null ? 0x0004 : 0);
        Wire.putShort(out, flags);
        if (p.contentType() != null) {
            Wire.putShortstr(out, p.contentType());
        }
        if (p.contentEncoding() != null) {
            Wire.putShortstr(out, p.contentEncoding());
        }
        if (p.headers() != null) {
            Wire.putTable(out, p.headers());
        }
        if (p.deliveryMode() != null) {
            Wire.putOctet(out, p.deliveryMode());
        }
        if (p.priority() != null) {
            Wire.putOctet(out, p.priority());
        }
        if (p.correlationId() != null) {
            Wire.putShortstr(out, p.correlationId());
        }
        if (p.replyTo() != null) {
            Wire.putShortstr(out, p.replyTo());
        }
        if (p.expiration() != null) {
            Wire.putShortstr(out, p.expiration());
        }
        if (p.messageId() != null) {
            Wire.putShortstr(out, p.messageId());
        }
        if (p.timestamp() != null) {
            Wire.putLong(out, p.timestamp());
        }
        if (p.type() != null) {
            Wire.putShortstr(out, p.type());
        }
        if (p.userId() != null) {
            Wire.putShortstr(out, p.userId());
        }
        if (p.appId() != null) {
            Wire.putShortstr(out, p.appId());
        }
        if (p.clusterId() != null) {
            Wire.putShortstr(out, p.clusterId());
        }
    }
}
