package io.warren.codec;

/**
 * The 14 content properties of the {@code basic} class, in spec (and flag-bit) order; null means absent.
 * Constructing validates what the wire can hold: shortstrs up to 255 UTF-8 bytes, octets 0..255.
 */
public record BasicProperties(String contentType, String contentEncoding, FieldTable headers, Integer deliveryMode,
                              Integer priority, String correlationId, String replyTo, String expiration,
                              String messageId, Long timestamp, String type, String userId, String appId,
                              String clusterId) {

    /** No property present. */
    public static final BasicProperties EMPTY = new BasicProperties(null, null, null, null, null, null, null, null,
            null, null, null, null, null, null);

    public BasicProperties {
        checkShortstr("contentType", contentType);
        checkShortstr("contentEncoding", contentEncoding);
        if (deliveryMode != null) {
            Wire.checkOctet("deliveryMode", deliveryMode);
        }
        if (priority != null) {
            Wire.checkOctet("priority", priority);
        }
        checkShortstr("correlationId", correlationId);
        checkShortstr("replyTo", replyTo);
        checkShortstr("expiration", expiration);
        checkShortstr("messageId", messageId);
        checkShortstr("type", type);
        checkShortstr("userId", userId);
        checkShortstr("appId", appId);
        checkShortstr("clusterId", clusterId);
    }

    private static void checkShortstr(String field, String s) {
        if (s != null) {
            Wire.checkShortstr(field, s);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.contentType = contentType;
        b.contentEncoding = contentEncoding;
        b.headers = headers;
        b.deliveryMode = deliveryMode;
        b.priority = priority;
        b.correlationId = correlationId;
        b.replyTo = replyTo;
        b.expiration = expiration;
        b.messageId = messageId;
        b.timestamp = timestamp;
        b.type = type;
        b.userId = userId;
        b.appId = appId;
        b.clusterId = clusterId;
        return b;
    }

    /** Mutable builder; every property starts absent. Not thread-safe. */
    public static final class Builder {
        private String contentType;
        private String contentEncoding;
        private FieldTable headers;
        private Integer deliveryMode;
        private Integer priority;
        private String correlationId;
        private String replyTo;
        private String expiration;
        private String messageId;
        private Long timestamp;
        private String type;
        private String userId;
        private String appId;
        private String clusterId;

        private Builder() {}

        public Builder contentType(String v) {
            contentType = v;
            return this;
        }

        public Builder contentEncoding(String v) {
            contentEncoding = v;
            return this;
        }

        public Builder headers(FieldTable v) {
            headers = v;
            return this;
        }

        public Builder deliveryMode(Integer v) {
            deliveryMode = v;
            return this;
        }

        public Builder priority(Integer v) {
            priority = v;
            return this;
        }

        public Builder correlationId(String v) {
            correlationId = v;
            return this;
        }

        public Builder replyTo(String v) {
            replyTo = v;
            return this;
        }

        public Builder expiration(String v) {
            expiration = v;
            return this;
        }

        public Builder messageId(String v) {
            messageId = v;
            return this;
        }

        public Builder timestamp(Long v) {
            timestamp = v;
            return this;
        }

        public Builder type(String v) {
            type = v;
            return this;
        }

        public Builder userId(String v) {
            userId = v;
            return this;
        }

        public Builder appId(String v) {
            appId = v;
            return this;
        }

        public Builder clusterId(String v) {
            clusterId = v;
            return this;
        }

        public BasicProperties build() {
            return new BasicProperties(contentType, contentEncoding, headers, deliveryMode, priority, correlationId,
                    replyTo, expiration, messageId, timestamp, type, userId, appId, clusterId);
        }
    }
}
