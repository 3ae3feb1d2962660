package io.warren.codec;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import io.warren.testsupport.gen.Generator;
import io.warren.testsupport.gen.Generators;

/** Generators of codec values (test-support's seeded generators); method records are built from the method table, so none is missed. */
final class Gen {
    private Gen() {}

    /** Every method record class, keyed by (classId << 16 | methodId). */
    static Map<Integer, Class<?>> methodClasses() {
        Map<Integer, Class<?>> out = new LinkedHashMap<>();
        for (Class<?> iface : AmqpMethod.class.getPermittedSubclasses()) {
            for (Class<?> rec : iface.getPermittedSubclasses()) {
                try {
                    int c = rec.getField("CLASS_ID").getInt(null);
                    int m = rec.getField("METHOD_ID").getInt(null);
                    out.put(c << 16 | m, rec);
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return out;
    }

    static Class<?> recordFor(MethodInfo info) {
        return methodClasses().get(info.classId() << 16 | info.methodId());
    }

    static Generator<AmqpMethod> anyMethod() {
        List<Generator<AmqpMethod>> all = new ArrayList<>();
        for (MethodInfo info : MethodCodec.methodTable()) {
            all.add(method(info));
        }
        return Generators.oneOf(all);
    }

    static Generator<AmqpMethod> method(MethodInfo info) {
        Class<?> rec = recordFor(info);
        RecordComponent[] comps = rec.getRecordComponents();
        Class<?>[] types = new Class<?>[comps.length];
        for (int i = 0; i < comps.length; i++) {
            types[i] = comps[i].getType();
        }
        Constructor<?> ctor;
        try {
            ctor = rec.getDeclaredConstructor(types);
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
        List<Generator<Object>> fields = new ArrayList<>();
        for (MethodInfo.Field f : info.fields()) {
            fields.add(field(f.type()));
        }
        return Generators.sequence(fields).map(values -> newInstance(ctor, values.toArray()));
    }

    private static AmqpMethod newInstance(Constructor<?> ctor, Object[] args) {
        try {
            return (AmqpMethod) ctor.newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    static Generator<Object> field(String type) {
        Generator<?> g = switch (type) {
            case "octet" -> Generators.ints(0, 255);
            case "short" -> Generators.ints(0, 65535);
            case "long" -> Generators.longs(0, 0xFFFF_FFFFL);
            case "longlong", "timestamp" -> Generators.longs();
            case "bit" -> Generators.booleans();
            case "shortstr" -> shortstr();
            case "longstr" -> longstr();
            case "table" -> table(2);
            default -> throw new AssertionError(type);
        };
        return g::next;
    }

    /** Strings whose UTF-8 form fits a shortstr, including multi-byte characters and the 255-byte edge. */
    static Generator<String> shortstr() {
        return Generators.<String>weighted(6, Generators.strings(Generators.charsOf(
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:/"), 0, 30))
                .or(3, Generators.strings(Generators.chars('\u0000', '\uD7FF'), 0, 80))
                .or(1, Generators.strings(Generators.chars('\u0000', '\u007F'), 255, 255))
                .or(1, Generators.constant("\uD83D\uDC07 warren"));
    }

    static Generator<LongString> longstr() {
        return Generators.byteArrays(0, 300).map(LongString::of);
    }

    static Generator<FieldTable> table(int depth) {
        return Generators.maps(shortstr(), value(depth), 0, depth > 0 ? 5 : 3).map(FieldTable::new);
    }

    static Generator<FieldValue> value(int depth) {
        List<Generator<? extends FieldValue>> choices = new ArrayList<>(scalars());
        if (depth > 0) {
            choices.add(table(depth - 1).map(FieldValue.Table::new));
            choices.add(value(depth - 1).list(0, 4).map(FieldValue.Array::new));
        }
        return Generators.oneOf(choices);
    }

    static List<Generator<? extends FieldValue>> scalars() {
        return List.of(
                Generators.booleans().map(FieldValue.Bool::of),
                Generators.bytes().map(FieldValue.SignedByte::new),
                Generators.ints(0, 255).map(FieldValue.UnsignedByte::new),
                Generators.shorts().map(FieldValue.SignedShort::new),
                Generators.ints(0, 65535).map(FieldValue.UnsignedShort::new),
                Generators.ints().map(FieldValue.SignedInt::new),
                Generators.longs(0, 0xFFFF_FFFFL).map(FieldValue.UnsignedInt::new),
                Generators.longs().map(FieldValue.SignedLong::new),
                // finite only: the decoder refuses the others, as RabbitMQ's does (MethodCodecTest)
                Generators.floats().filter(Float::isFinite).map(FieldValue.Float32::new),
                Generators.doubles().filter(Double::isFinite).map(FieldValue.Float64::new),
                decimal(),
                longstr(),
                Generators.byteArrays(0, 20).map(FieldValue.ByteArray::new),
                Generators.longs().map(FieldValue.Timestamp::new),
                Generators.constant(FieldValue.Void.INSTANCE));
    }

    static Generator<FieldValue.Decimal> decimal() {
        Generator<Integer> scales = Generators.ints(0, 255);
        Generator<Integer> values = Generators.ints();
        return r -> new FieldValue.Decimal(scales.next(r), values.next(r));
    }

    static Generator<BasicProperties> properties() {
        Generator<String> s = shortstr().orNull(0.3);
        Generator<Integer> octet = Generators.ints(0, 255).orNull(0.3);
        Generator<FieldTable> headers = table(2).orNull(0.3);
        Generator<Long> timestamps = Generators.longs().orNull(0.3);
        return r -> BasicProperties.builder().contentType(s.next(r)).contentEncoding(s.next(r))
                .headers(headers.next(r)).deliveryMode(octet.next(r)).priority(octet.next(r))
                .correlationId(s.next(r)).replyTo(s.next(r)).expiration(s.next(r)).messageId(s.next(r))
                .timestamp(timestamps.next(r)).type(s.next(r)).userId(s.next(r)).appId(s.next(r))
                .clusterId(s.next(r)).build();
    }

    static Generator<ContentHeader> contentHeader() {
        Generator<Integer> weights = Generators.ints(0, 65535);
        Generator<Long> sizes = Generators.longs();
        Generator<BasicProperties> properties = properties();
        return r -> new ContentHeader(60, weights.next(r), sizes.next(r), properties.next(r));
    }

    /** Sizes in which to cut a byte stream: often 1, sometimes large. */
    static Generator<List<Integer>> splits() {
        return Generators.<Integer>weighted(2, Generators.constant(1))
                .or(5, Generators.ints(1, 16))
                .or(3, Generators.ints(1, 5000)).list(1, 50);
    }

}
