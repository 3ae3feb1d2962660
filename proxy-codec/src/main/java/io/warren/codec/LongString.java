package io.warren.codec;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An AMQP long string (tag {@code S}): up to 2^32-1 arbitrary bytes, not necessarily UTF-8.
 * Immutable, with value equality; the bytes are copied in and out.
 */
public record LongString(byte[] bytes) implements FieldValue {
    /** The empty long string. */
    public static final LongString EMPTY = new LongString(new byte[0]);

    /** Copies {@code bytes}: the caller keeps ownership of its array. */
    public LongString {
        bytes = bytes.clone();
    }

    /** The UTF-8 encoding of {@code s}. */
    public static LongString of(String s) {
        return new LongString(s.getBytes(StandardCharsets.UTF_8));
    }

    public static LongString of(byte[] bytes) {
        return new LongString(bytes);
    }

    /** A copy of the bytes. */
    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The bytes without a copy, for the encoder; never handed out of the package. */
    byte[] internalBytes() {
        return bytes;
    }

    public int length() {
        return bytes.length;
    }

    /** The bytes decoded as UTF-8 (malformed sequences become U+FFFD). */
    public String asString() {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public char tag() {
        return 'S';
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LongString other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "\"" + asString() + "\"";
    }
}
