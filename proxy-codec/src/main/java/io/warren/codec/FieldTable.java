package io.warren.codec;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An AMQP field table: an immutable, insertion-ordered map from short-string keys (at most 255 UTF-8
 * bytes) to {@link FieldValue}s. When a decoded table repeats a key, the last value wins (at the first
 * key's position).
 */
public record FieldTable(Map<String, FieldValue> entries) {
    public static final FieldTable EMPTY = new FieldTable(Map.of());

    /** Copies {@code entries}, keeping its iteration order; rejects null keys or values and over-long keys. */
    public FieldTable {
        if (entries instanceof DecodedEntries decoded) {
            // Built by the decoder from checked keys and values: no second copy.
            entries = Collections.unmodifiableMap(decoded);
        } else {
            entries = copyChecked(entries);
        }
    }

    /** The decoder's entry map: its keys are decoded shortstrs and its values non-null, so no copy is needed. */
    static final class DecodedEntries extends LinkedHashMap<String, FieldValue> {
        DecodedEntries() {
            super(8);
        }
    }

    private static Map<String, FieldValue> copyChecked(Map<String, FieldValue> entries) {
        LinkedHashMap<String, FieldValue> copy = new LinkedHashMap<>(Math.max(4, entries.size() * 2));
        for (Map.Entry<String, FieldValue> e : entries.entrySet()) {
            String key = Objects.requireNonNull(e.getKey(), "table key");
            Wire.checkShortstr("table key", key);
            copy.put(key, Objects.requireNonNull(e.getValue(), "table value"));
        }
        return Collections.unmodifiableMap(copy);
    }

    public static FieldTable of(String k1, FieldValue v1) {
        return builder().put(k1, v1).build();
    }

    public static FieldTable of(String k1, FieldValue v1, String k2, FieldValue v2) {
        return builder().put(k1, v1).put(k2, v2).build();
    }

    public static FieldTable of(String k1, FieldValue v1, String k2, FieldValue v2, String k3, FieldValue v3) {
        return builder().put(k1, v1).put(k2, v2).put(k3, v3).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Decodes a field table (its 4-byte length, then the entries) from {@code in} at its position, which advances
     * past the table. Used for table-shaped data outside a method, such as RabbitMQ's AMQPLAIN SASL response.
     */
    public static FieldTable decode(java.nio.ByteBuffer in) throws ProtocolException {
        Reader r = new Reader(in, in.position(), in.limit());
        FieldTable t = r.table();
        in.position(r.position());
        return t;
    }

    public Optional<FieldValue> get(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    public int size() {
        return entries.size();
    }

    /** The boolean at {@code key}, or {@code dflt} when absent or not a boolean. */
    public boolean getBoolean(String key, boolean dflt) {
        return entries.get(key) instanceof FieldValue.Bool b ? b.value() : dflt;
    }

    /** The long string at {@code key} decoded as UTF-8, if present and a long string. */
    public Optional<String> getString(String key) {
        return entries.get(key) instanceof LongString s ? Optional.of(s.asString()) : Optional.empty();
    }

    /** The nested table at {@code key}, if present and a table. */
    public Optional<FieldTable> getTable(String key) {
        return entries.get(key) instanceof FieldValue.Table t ? Optional.of(t.table()) : Optional.empty();
    }

    /** Collects entries in order; a repeated key replaces the earlier value. Not thread-safe. */
    public static final class Builder {
        private final LinkedHashMap<String, FieldValue> entries = new LinkedHashMap<>();

        private Builder() {}

        public Builder put(String key, FieldValue value) {
            entries.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** Puts a long string (UTF-8). */
        public Builder put(String key, String value) {
            return put(key, LongString.of(value));
        }

        public Builder put(String key, boolean value) {
            return put(key, FieldValue.Bool.of(value));
        }

        /** Puts a signed 32-bit integer ({@code I}). */
        public Builder put(String key, int value) {
            return put(key, new FieldValue.SignedInt(value));
        }

        /** Puts a signed 64-bit integer ({@code l}). */
        public Builder put(String key, long value) {
            return put(key, new FieldValue.SignedLong(value));
        }

        public Builder put(String key, FieldTable value) {
            return put(key, new FieldValue.Table(value));
        }

        public FieldTable build() {
            return new FieldTable(entries);
        }
    }
}
