package io.warren.codec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Primitive AMQP encodings. The result never depends on a caller's {@link ByteBuffer#order()}: writes assemble
 * bytes by hand, and reads take a whole field in one access and reverse it for a little-endian buffer (one
 * access instead of one per byte is most of a short-lived frame's decoding cost without C2). Writes are
 * relative, reads absolute.
 */
final class Wire {
    private Wire() {}

    // ---- absolute big-endian reads

    static int u16(ByteBuffer b, int i) {
        short v = b.getShort(i);
        return Short.toUnsignedInt(b.order() == ByteOrder.BIG_ENDIAN ? v : Short.reverseBytes(v));
    }

    static int i32(ByteBuffer b, int i) {
        int v = b.getInt(i);
        return b.order() == ByteOrder.BIG_ENDIAN ? v : Integer.reverseBytes(v);
    }

    static long i64(ByteBuffer b, int i) {
        long v = b.getLong(i);
        return b.order() == ByteOrder.BIG_ENDIAN ? v : Long.reverseBytes(v);
    }

    // ---- validation (IllegalArgumentException naming the field)

    static void checkOctet(String field, int v) {
        if (v < 0 || v > 0xFF) {
            throw new IllegalArgumentException(field + " must be an octet 0..255: " + v);
        }
    }

    static void checkShort(String field, int v) {
        if (v < 0 || v > 0xFFFF) {
            throw new IllegalArgumentException(field + " must be a short 0..65535: " + v);
        }
    }

    static void checkLong(String field, long v) {
        if (v < 0 || v > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(field + " must be a long 0..4294967295: " + v);
        }
    }

    static void checkShortstr(String field, String s) {
        if (s == null) {
            throw new NullPointerException(field);
        }
        int n = utf8Length(s, field);
        if (n > 255) {
            throw new IllegalArgumentException(field + " is " + n + " UTF-8 bytes, a shortstr holds at most 255");
        }
    }

    /**
     * UTF-8 length of {@code s}. Rejects unpaired surrogates: they cannot be encoded faithfully (Java would
     * write '?'), so a value that contains one would not survive a round trip.
     */
    static int utf8Length(String s, String field) {
        int n = 0;
        for (int i = 0, len = s.length(); i < len; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(field + " contains an unpaired surrogate at index " + i);
            } else {
                n += 3;
            }
        }
        return n;
    }

    // ---- sizes

    static int shortstrSize(String s) {
        return 1 + utf8Length(s, "shortstr");
    }

    static int longstrSize(LongString s) {
        return 4 + s.length();
    }

    static int tableSize(FieldTable t) {
        return 4 + tableContentSize(t);
    }

    private static int tableContentSize(FieldTable t) {
        int n = 0;
        for (Map.Entry<String, FieldValue> e : t.entries().entrySet()) {
            n += shortstrSize(e.getKey()) + 1 + valueSize(e.getValue());
        }
        return n;
    }

    /** Size of a field value without its tag. */
    static int valueSize(FieldValue v) {
        switch (v.tag()) {
            case 't': case 'b': case 'B':
                return 1;
            case 's': case 'u':
                return 2;
            case 'I': case 'i': case 'f':
                return 4;
            case 'l': case 'd': case 'T':
                return 8;
            case 'D':
                return 5;
            case 'S':
                return 4 + ((LongString) v).length();
            case 'x':
                return 4 + ((FieldValue.ByteArray) v).length();
            case 'A': {
                int n = 4;
                for (FieldValue e : ((FieldValue.Array) v).values()) {
                    n += 1 + valueSize(e);
                }
                return n;
            }
            case 'F':
                return tableSize(((FieldValue.Table) v).table());
            case 'V':
                return 0;
            default:
                throw new AssertionError(v);
        }
    }

    // ---- relative writes

    static void putOctet(ByteBuffer out, int v) {
        out.put((byte) v);
    }

    static void putShort(ByteBuffer out, int v) {
        out.put((byte) (v >>> 8)).put((byte) v);
    }

    static void putInt(ByteBuffer out, long v) {
        out.put((byte) (v >>> 24)).put((byte) (v >>> 16)).put((byte) (v >>> 8)).put((byte) v);
    }

    static void putLong(ByteBuffer out, long v) {
        putInt(out, v >>> 32);
        putInt(out, v);
    }

    static void putShortstr(ByteBuffer out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.put((byte) b.length).put(b);
    }

    static void putLongstr(ByteBuffer out, LongString s) {
        byte[] b = s.internalBytes();
        putInt(out, b.length);
        out.put(b);
    }

    /** Writes the length, then the entries; the length is back-patched so nested tables are walked once. */
    static void putTable(ByteBuffer out, FieldTable t) {
        int lengthAt = out.position();
        putInt(out, 0);
        for (Map.Entry<String, FieldValue> e : t.entries().entrySet()) {
            putShortstr(out, e.getKey());
            putValue(out, e.getValue());
        }
        patchLength(out, lengthAt);
    }

    private static void patchLength(ByteBuffer out, int lengthAt) {
        int len = out.position() - lengthAt - 4;
        out.put(lengthAt, (byte) (len >>> 24));
        out.put(lengthAt + 1, (byte) (len >>> 16));
        out.put(lengthAt + 2, (byte) (len >>> 8));
        out.put(lengthAt + 3, (byte) len);
    }

    /** Writes tag and value. */
    static void putValue(ByteBuffer out, FieldValue v) {
        out.put((byte) v.tag());
        if (v instanceof FieldValue.Bool x) {
            putOctet(out, x.value() ? 1 : 0);
        } else if (v instanceof FieldValue.SignedByte x) {
            putOctet(out, x.value());
        } else if (v instanceof FieldValue.UnsignedByte x) {
            putOctet(out, x.value());
        } else if (v instanceof FieldValue.SignedShort x) {
            putShort(out, x.value());
        } else if (v instanceof FieldValue.UnsignedShort x) {
            putShort(out, x.value());
        } else if (v instanceof FieldValue.SignedInt x) {
            putInt(out, x.value());
        } else if (v instanceof FieldValue.UnsignedInt x) {
            putInt(out, x.value());
        } else if (v instanceof FieldValue.SignedLong x) {
            putLong(out, x.value());
        } else if (v instanceof FieldValue.Float32 x) {
            putInt(out, Float.floatToRawIntBits(x.value()));
        } else if (v instanceof FieldValue.Float64 x) {
            putLong(out, Double.doubleToRawLongBits(x.value()));
        } else if (v instanceof FieldValue.Decimal x) {
            putOctet(out, x.scale());
            putInt(out, x.unscaled());
        } else if (v instanceof LongString x) {
            putLongstr(out, x);
        } else if (v instanceof FieldValue.ByteArray x) {
            byte[] b = x.internalBytes();
            putInt(out, b.length);
            out.put(b);
        } else if (v instanceof FieldValue.Array x) {
            int lengthAt = out.position();
            putInt(out, 0);
            List<FieldValue> values = x.values();
            for (FieldValue e : values) {
                putValue(out, e);
            }
            patchLength(out, lengthAt);
        } else if (v instanceof FieldValue.Timestamp x) {
            putLong(out, x.seconds());
        } else if (v instanceof FieldValue.Table x) {
            putTable(out, x.table());
        } else if (!(v instanceof FieldValue.Void)) {
            throw new AssertionError(v);
        }
    }
}
