package io.warren.codec;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * A typed value of an AMQP field table or field array, one record per type tag RabbitMQ reads and
 * writes (rabbit_binary_parser / rabbit_binary_generator). The tag set is RabbitMQ's, not the 0-9-1
 * spec's: it follows the errata ({@code s} signed short, {@code l} signed long, {@code x} byte array).
 * On decoding, {@code L} is accepted as a synonym of {@code l} as RabbitMQ does; it is written back
 * as {@code l}.
 */
public sealed interface FieldValue
        permits FieldValue.Bool, FieldValue.SignedByte, FieldValue.UnsignedByte, FieldValue.SignedShort,
                FieldValue.UnsignedShort, FieldValue.SignedInt, FieldValue.UnsignedInt, FieldValue.SignedLong,
                FieldValue.Float32, FieldValue.Float64, FieldValue.Decimal, LongString, FieldValue.ByteArray,
                FieldValue.Array, FieldValue.Timestamp, FieldValue.Table, FieldValue.Void {

    /** The type tag octet, e.g. {@code 'S'}. */
    char tag();

    /** {@code t}: boolean octet. */
    record Bool(boolean value) implements FieldValue {
        public static final Bool TRUE = new Bool(true);
        public static final Bool FALSE = new Bool(false);

        public static Bool of(boolean value) {
            return value ? TRUE : FALSE;
        }

        @Override
        public char tag() {
            return 't';
        }
    }

    /** {@code b}: signed 8-bit. */
    record SignedByte(byte value) implements FieldValue {
        @Override
        public char tag() {
            return 'b';
        }
    }

    /** {@code B}: unsigned 8-bit, 0..255. */
    record UnsignedByte(int value) implements FieldValue {
        public UnsignedByte {
            Wire.checkOctet("value", value);
        }

        @Override
        public char tag() {
            return 'B';
        }
    }

    /** {@code s}: signed 16-bit. */
    record SignedShort(short value) implements FieldValue {
        @Override
        public char tag() {
            return 's';
        }
    }

    /** {@code u}: unsigned 16-bit, 0..65535. */
    record UnsignedShort(int value) implements FieldValue {
        public UnsignedShort {
            Wire.checkShort("value", value);
        }

        @Override
        public char tag() {
            return 'u';
        }
    }

    /** {@code I}: signed 32-bit. */
    record SignedInt(int value) implements FieldValue {
        @Override
        public char tag() {
            return 'I';
        }
    }

    /** {@code i}: unsigned 32-bit, 0..2^32-1. */
    record UnsignedInt(long value) implements FieldValue {
        public UnsignedInt {
            Wire.checkLong("value", value);
        }

        @Override
        public char tag() {
            return 'i';
        }
    }

    /** {@code l}: signed 64-bit. */
    record SignedLong(long value) implements FieldValue {
        @Override
        public char tag() {
            return 'l';
        }
    }

    /** {@code f}: IEEE 754 single. */
    record Float32(float value) implements FieldValue {
        @Override
        public char tag() {
            return 'f';
        }
    }

    /** {@code d}: IEEE 754 double. */
    record Float64(double value) implements FieldValue {
        @Override
        public char tag() {
            return 'd';
        }
    }

    /**
     * {@code D}: decimal, a scale octet (0..255) and a 32-bit unscaled value, kept as the raw signed
     * 32 bits as the RabbitMQ Java client reads them.
     */
    record Decimal(int scale, int unscaled) implements FieldValue {
        public Decimal {
            Wire.checkOctet("scale", scale);
        }

        /** Converts; throws IllegalArgumentException if the value needs a scale outside 0..255 or more than 32 bits. */
        public static Decimal of(BigDecimal value) {
            BigInteger unscaled = value.unscaledValue();
            if (value.scale() < 0 || unscaled.bitLength() > 31) {
                throw new IllegalArgumentException("decimal not representable in AMQP: " + value);
            }
            return new Decimal(value.scale(), unscaled.intValueExact());
        }

        public BigDecimal toBigDecimal() {
            return BigDecimal.valueOf(unscaled, scale);
        }

        @Override
        public char tag() {
            return 'D';
        }
    }

    /** {@code x}: byte array (RabbitMQ extension). Immutable, value equality; bytes copied in and out. */
    record ByteArray(byte[] bytes) implements FieldValue {
        public ByteArray {
            bytes = bytes.clone();
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        byte[] internalBytes() {
            return bytes;
        }

        public int length() {
            return bytes.length;
        }

        @Override
        public char tag() {
            return 'x';
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ByteArray other && Arrays.equals(bytes, other.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "ByteArray[" + HexFormat.of().formatHex(bytes) + "]";
        }
    }

    /** {@code A}: field array; an immutable list of values. */
    record Array(List<FieldValue> values) implements FieldValue {
        public Array {
            values = List.copyOf(values);
        }

        public static Array of(FieldValue... values) {
            return new Array(List.of(values));
        }

        @Override
        public char tag() {
            return 'A';
        }
    }

    /** {@code T}: timestamp, seconds since the epoch (64-bit). */
    record Timestamp(long seconds) implements FieldValue {
        @Override
        public char tag() {
            return 'T';
        }
    }

    /** {@code F}: nested field table. */
    record Table(FieldTable table) implements FieldValue {
        public Table {
            Objects.requireNonNull(table, "table");
        }

        @Override
        public char tag() {
            return 'F';
        }
    }

    /** {@code V}: no value. */
    record Void() implements FieldValue {
        public static final Void INSTANCE = new Void();

        @Override
        public char tag() {
            return 'V';
        }
    }
}
