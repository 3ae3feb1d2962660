package io.warren.codec;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/** jqwik generators for codec values; method records are built from the method table, so none is missed. */
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

    static Arbitrary<AmqpMethod> anyMethod() {
        List<Arbitrary<AmqpMethod>> all = new ArrayList<>();
        for (MethodInfo info : MethodCodec.methodTable()) {
            all.add(method(info));
        }
        return Arbitraries.oneOf(all);
    }

    static Arbitrary<AmqpMethod> method(MethodInfo info) {
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
        if (info.fields().isEmpty()) {
            return Arbitraries.just(newInstance(ctor, new Object[0]));
        }
        List<Arbitrary<Object>> fields = new ArrayList<>();
        for (MethodInfo.Field f : info.fields()) {
            fields.add(field(f.type()));
        }
        return Combinators.combine(fields).as(values -> newInstance(ctor, values.toArray()));
    }

    private static AmqpMethod newInstance(Constructor<?> ctor, Object[] args) {
        try {
            return (AmqpMethod) ctor.newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    static Arbitrary<Object> field(String type) {
        switch (type) {
            case "octet":
                return Arbitraries.integers().between(0, 255).asGeneric();
            case "short":
                return Arbitraries.integers().between(0, 65535).edgeCases(c -> c.includeOnly(0, 65535)).asGeneric();
            case "long":
                return Arbitraries.longs().between(0, 0xFFFF_FFFFL).asGeneric();
            case "longlong":
            case "timestamp":
                return Arbitraries.longs().asGeneric();
            case "bit":
                return Arbitraries.of(true, false).asGeneric();
            case "shortstr":
                return shortstr().asGeneric();
            case "longstr":
                return longstr().asGeneric();
            case "table":
                return table(2).asGeneric();
            default:
                throw new AssertionError(type);
        }
    }

    /** Strings whose UTF-8 form fits a shortstr, including multi-byte characters and the 255-byte edge. */
    static Arbitrary<String> shortstr() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.strings().alpha().numeric().withChars(".-_:/").ofMaxLength(30)),
                net.jqwik.api.Tuple.of(3, Arbitraries.strings().withCharRange('\u0000', '\uD7FF').ofMaxLength(80)),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().ascii().ofLength(255)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just("\uD83D\uDC07 warren")));
    }

    static Arbitrary<LongString> longstr() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(300).map(LongString::of);
    }

    static Arbitrary<FieldTable> table(int depth) {
        return Arbitraries.maps(shortstr(), value(depth)).ofMaxSize(depth > 0 ? 5 : 3).map(FieldTable::new);
    }

    static Arbitrary<FieldValue> value(int depth) {
        List<Arbitrary<? extends FieldValue>> choices = new ArrayList<>(scalars());
        if (depth > 0) {
            choices.add(table(depth - 1).map(FieldValue.Table::new));
            choices.add(value(depth - 1).list().ofMaxSize(4).map(FieldValue.Array::new));
        }
        return Arbitraries.oneOf(choices);
    }

    static List<Arbitrary<? extends FieldValue>> scalars() {
        return List.of(
                Arbitraries.of(true, false).map(FieldValue.Bool::of),
                Arbitraries.bytes().map(FieldValue.SignedByte::new),
                Arbitraries.integers().between(0, 255).map(FieldValue.UnsignedByte::new),
                Arbitraries.shorts().map(FieldValue.SignedShort::new),
                Arbitraries.integers().between(0, 65535).map(FieldValue.UnsignedShort::new),
                Arbitraries.integers().map(FieldValue.SignedInt::new),
                Arbitraries.longs().between(0, 0xFFFF_FFFFL).map(FieldValue.UnsignedInt::new),
                Arbitraries.longs().map(FieldValue.SignedLong::new),
                Arbitraries.floats().map(FieldValue.Float32::new),
                Arbitraries.doubles().map(FieldValue.Float64::new),
                Combinators.combine(Arbitraries.integers().between(0, 255), Arbitraries.integers())
                        .as(FieldValue.Decimal::new),
                longstr(),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(20).map(FieldValue.ByteArray::new),
                Arbitraries.longs().map(FieldValue.Timestamp::new),
                Arbitraries.just(FieldValue.Void.INSTANCE));
    }

    static Arbitrary<BasicProperties> properties() {
        Arbitrary<String> s = shortstr().injectNull(0.3);
        Arbitrary<Integer> octet = Arbitraries.integers().between(0, 255).injectNull(0.3);
        Arbitrary<BasicProperties.Builder> a = Combinators.combine(s, s, table(2).injectNull(0.3), octet, octet, s, s)
                .as((ct, ce, h, dm, pr, cid, rt) -> BasicProperties.builder().contentType(ct).contentEncoding(ce)
                        .headers(h).deliveryMode(dm).priority(pr).correlationId(cid).replyTo(rt));
        return Combinators.combine(a, s, s, Arbitraries.longs().injectNull(0.3), s, s, s, s)
                .as((b, exp, mid, ts, type, uid, app, cluster) -> b.expiration(exp).messageId(mid).timestamp(ts)
                        .type(type).userId(uid).appId(app).clusterId(cluster).build());
    }

    static Arbitrary<ContentHeader> contentHeader() {
        return Combinators.combine(Arbitraries.integers().between(0, 65535), Arbitraries.longs(), properties())
                .as((w, size, p) -> new ContentHeader(60, w, size, p));
    }

    /** Sizes in which to cut a byte stream: often 1, sometimes large. */
    static Arbitrary<List<Integer>> splits() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(2, Arbitraries.just(1)),
                net.jqwik.api.Tuple.of(5, Arbitraries.integers().between(1, 16)),
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(1, 5000))).list().ofMinSize(1).ofMaxSize(50);
    }
}
