package io.warren.codec;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * A bounds-checked cursor over {@code [pos, limit)} of a buffer, using absolute reads so the buffer's
 * position is never moved. One instance decodes one payload on one thread.
 *
 * <p>Reply codes: a payload that does not fit the method's field layout (truncated, trailing bytes,
 * table length past the end, malformed UTF-8 in a shortstr) is FRAME_ERROR, because RabbitMQ's generated
 * decode_method_fields falls through to rabbit_misc:frame_error ("cannot decode") and its assert_utf8
 * raises frame_error. Malformed table contents (unknown tag, inner lengths, depth, a float that is not
 * finite) are SYNTAX_ERROR: RabbitMQ's rabbit_binary_parser:parse_table has no clause for them and drops
 * the connection without a code, and 502 is the spec's code for illegal field values.
 */
final class Reader {
    /** Deepest nesting of tables and arrays accepted, so hostile input cannot exhaust the stack. */
    static final int MAX_DEPTH = 64;

    private final ByteBuffer b;
    private final int limit;
    private int pos;
    private int classId;
    private int methodId;

    Reader(ByteBuffer b, int pos, int limit) {
        this.b = b;
        this.pos = pos;
        this.limit = limit;
    }

    /** Names the method being decoded in error reports. */
    void method(int classId, int methodId) {
        this.classId = classId;
        this.methodId = methodId;
    }

    int position() {
        return pos;
    }

    int remaining() {
        return limit - pos;
    }

    ProtocolException error(ReplyCode code, String message) {
        return new ProtocolException(code, message, classId, methodId);
    }

    private void need(int n) throws ProtocolException {
        if (limit - pos < n) {
            // RabbitMQ: the method's binary pattern does not match -> rabbit_misc:frame_error (501)
            throw error(ReplyCode.FRAME_ERROR, "truncated: need " + n + " bytes at offset " + pos + ", have "
                    + (limit - pos));
        }
    }

    void expectEnd() throws ProtocolException {
        if (pos != limit) {
            // RabbitMQ: generated patterns have no trailing /binary, so extra bytes -> frame_error (501)
            throw error(ReplyCode.FRAME_ERROR, (limit - pos) + " unexpected trailing bytes");
        }
    }

    int octet() throws ProtocolException {
        need(1);
        return b.get(pos++) & 0xFF;
    }

    int shortUint() throws ProtocolException {
        need(2);
        int v = Wire.u16(b, pos);
        pos += 2;
        return v;
    }

    long longUint() throws ProtocolException {
        need(4);
        long v = Wire.i32(b, pos) & 0xFFFF_FFFFL;
        pos += 4;
        return v;
    }

    long longlong() throws ProtocolException {
        need(8);
        long v = Wire.i64(b, pos);
        pos += 8;
        return v;
    }

    String shortstr() throws ProtocolException {
        int n = octet();
        need(n);
        String s = utf8(n);
        if (s == null) {
            // RabbitMQ rabbit_binary_parser:assert_utf8: "Malformed UTF-8 in shortstr" is a frame_error (501)
            throw error(ReplyCode.FRAME_ERROR, "malformed UTF-8 in shortstr at offset " + (pos - 1));
        }
        return s;
    }

    LongString longstr() throws ProtocolException {
        int n = length();
        return LongString.of(bytes(n));
    }

    /** A 32-bit length that must fit in what is left. */
    private int length() throws ProtocolException {
        long n = longUint();
        need((int) Math.min(n, Integer.MAX_VALUE));
        return (int) n;
    }

    private byte[] bytes(int n) {
        byte[] a = new byte[n];
        b.get(pos, a);
        pos += n;
        return a;
    }

    /** Decodes n bytes at pos as strict UTF-8 and advances; null (position unchanged) when malformed. */
    private String utf8(int n) {
        // One bulk read (or the heap buffer's own array), then the scan: a get per byte costs a call each without C2.
        byte[] a;
        int from;
        if (b.hasArray()) {
            a = b.array();
            from = b.arrayOffset() + pos;
        } else {
            a = new byte[n];
            b.get(pos, a);
            from = 0;
        }
        String s;
        if (isAscii(a, from, n)) {
            s = new String(a, from, n, StandardCharsets.ISO_8859_1); // the common case: no decoding work
        } else {
            try {
                CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(a, from, n));
                s = chars.toString();
            } catch (CharacterCodingException e) {
                return null;
            }
        }
        pos += n;
        return s;
    }

    private static boolean isAscii(byte[] a, int from, int n) {
        for (int i = from, end = from + n; i < end; i++) {
            if (a[i] < 0) {
                return false;
            }
        }
        return true;
    }

    /** A table argument: its length is part of the method layout, its contents are table syntax. */
    FieldTable table() throws ProtocolException {
        int n = length();
        int end = pos + n;
        FieldTable t = tableContent(end, 1);
        pos = end;
        return t;
    }

    private ProtocolException syntax(String message) {
        // RabbitMQ: no parse_table/parse_array clause matches -> connection dropped; 502 = illegal field values
        return error(ReplyCode.SYNTAX_ERROR, message);
    }

    /**
     * An infinite or NaN float: Erlang has no such values, so RabbitMQ's parse_table (a {@code V:32/float} or
     * {@code V:64/float} match) has no clause for it and its reader crashes, resetting the connection of every client
     * sharing it. Refusing it here makes Warren close only the client that sent it.
     */
    private ProtocolException notFinite(double v) {
        return syntax("field table float " + v + " at offset " + (pos - 1) + " is not finite");
    }

    private void needIn(int end, int n) throws ProtocolException {
        if (end - pos < n) {
            throw syntax("field table value truncated at offset " + pos);
        }
    }

    private FieldTable tableContent(int end, int depth) throws ProtocolException {
        if (depth > MAX_DEPTH) {
            throw syntax("field tables/arrays nested deeper than " + MAX_DEPTH);
        }
        FieldTable.DecodedEntries entries = new FieldTable.DecodedEntries();
        while (pos < end) {
            int keyLen = b.get(pos) & 0xFF;
            needIn(end, 1 + keyLen);
            pos++;
            String key = utf8(keyLen);
            if (key == null) {
                throw syntax("malformed UTF-8 in field table key at offset " + pos);
            }
            entries.put(key, value(end, depth));
        }
        return new FieldTable(entries);
    }

    private List<FieldValue> arrayContent(int end, int depth) throws ProtocolException {
        if (depth > MAX_DEPTH) {
            throw syntax("field tables/arrays nested deeper than " + MAX_DEPTH);
        }
        List<FieldValue> values = new ArrayList<>();
        while (pos < end) {
            values.add(value(end, depth));
        }
        return values;
    }

    private int innerLength(int end) throws ProtocolException {
        needIn(end, 4);
        long n = Wire.i32(b, pos) & 0xFFFF_FFFFL;
        pos += 4;
        if (n > end - pos) {
            throw syntax("field length " + n + " exceeds the enclosing table at offset " + (pos - 4));
        }
        return (int) n;
    }

    private FieldValue value(int end, int depth) throws ProtocolException {
        needIn(end, 1);
        char tag = (char) (b.get(pos++) & 0xFF);
        switch (tag) {
            case 't':
                needIn(end, 1);
                return FieldValue.Bool.of(b.get(pos++) != 0);
            case 'b':
                needIn(end, 1);
                return new FieldValue.SignedByte(b.get(pos++));
            case 'B':
                needIn(end, 1);
                return new FieldValue.UnsignedByte(b.get(pos++) & 0xFF);
            case 's': {
                needIn(end, 2);
                short v = (short) Wire.u16(b, pos);
                pos += 2;
                return new FieldValue.SignedShort(v);
            }
            case 'u': {
                needIn(end, 2);
                int v = Wire.u16(b, pos);
                pos += 2;
                return new FieldValue.UnsignedShort(v);
            }
            case 'I': {
                needIn(end, 4);
                int v = Wire.i32(b, pos);
                pos += 4;
                return new FieldValue.SignedInt(v);
            }
            case 'i': {
                needIn(end, 4);
                long v = Wire.i32(b, pos) & 0xFFFF_FFFFL;
                pos += 4;
                return new FieldValue.UnsignedInt(v);
            }
            case 'l':
            case 'L': { // RabbitMQ reads both as signed 64-bit (rabbit_binary_parser, issue 1093)
                needIn(end, 8);
                long v = Wire.i64(b, pos);
                pos += 8;
                return new FieldValue.SignedLong(v);
            }
            case 'f': {
                needIn(end, 4);
                float v = Float.intBitsToFloat(Wire.i32(b, pos));
                if (!Float.isFinite(v)) {
                    throw notFinite(v);
                }
                pos += 4;
                return new FieldValue.Float32(v);
            }
            case 'd': {
                needIn(end, 8);
                double v = Double.longBitsToDouble(Wire.i64(b, pos));
                if (!Double.isFinite(v)) {
                    throw notFinite(v);
                }
                pos += 8;
                return new FieldValue.Float64(v);
            }
            case 'D': {
                needIn(end, 5);
                int scale = b.get(pos) & 0xFF;
                int unscaled = Wire.i32(b, pos + 1);
                pos += 5;
                return new FieldValue.Decimal(scale, unscaled);
            }
            case 'T': {
                needIn(end, 8);
                long v = Wire.i64(b, pos);
                pos += 8;
                return new FieldValue.Timestamp(v);
            }
            case 'S':
                return LongString.of(bytes(innerLength(end)));
            case 'x':
                return new FieldValue.ByteArray(bytes(innerLength(end)));
            case 'F': {
                int n = innerLength(end);
                int innerEnd = pos + n;
                return new FieldValue.Table(tableContent(innerEnd, depth + 1));
            }
            case 'A': {
                int n = innerLength(end);
                int innerEnd = pos + n;
                return new FieldValue.Array(arrayContent(innerEnd, depth + 1));
            }
            case 'V':
                return FieldValue.Void.INSTANCE;
            default:
                throw syntax("unknown field value type tag 0x" + Integer.toHexString(tag) + " at offset " + (pos - 1));
        }
    }
}
