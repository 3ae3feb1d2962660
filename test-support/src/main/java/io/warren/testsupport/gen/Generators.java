package io.warren.testsupport.gen;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Generators of the usual values. Numbers in a range are drawn uniformly, except that about one draw in ten is an edge
 * of the range (its ends, and 0 and ±1 where they lie inside it), where off-by-one bugs live.
 */
public final class Generators {
    private Generators() {}

    /** One in this many numbers drawn from a range is one of its edges. */
    private static final int EDGE_ODDS = 10;

    /** Always {@code value}. */
    public static <T> Generator<T> constant(T value) {
        return r -> value;
    }

    /** {@code min} to {@code max}, both included. */
    public static Generator<Integer> ints(int min, int max) {
        Generator<Long> longs = longs(min, max);
        return r -> (int) (long) longs.next(r);
    }

    /** Any int. */
    public static Generator<Integer> ints() {
        return ints(Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    /** {@code min} to {@code max}, both included. */
    public static Generator<Long> longs(long min, long max) {
        if (min > max) {
            throw new IllegalArgumentException("empty range " + min + ".." + max);
        }
        long[] edges = Arrays.stream(new long[] {min, max, 0, 1, -1}).filter(v -> v >= min && v <= max).distinct()
                .toArray();
        return r -> {
            if (r.nextInt(EDGE_ODDS) == 0) {
                return edges[r.nextInt(edges.length)];
            }
            if (min == Long.MIN_VALUE && max == Long.MAX_VALUE) {
                return r.nextLong();
            }
            if (max - min >= 0 && max - min < Long.MAX_VALUE) { // the span fits: nextLong's bound is exclusive
                return min + r.nextLong(max - min + 1);
            }
            long v;
            do {
                v = r.nextLong();
            } while (v < min || v > max);
            return v;
        };
    }

    /** Any long. */
    public static Generator<Long> longs() {
        return longs(Long.MIN_VALUE, Long.MAX_VALUE);
    }

    /** Any short. */
    public static Generator<Short> shorts() {
        return ints(Short.MIN_VALUE, Short.MAX_VALUE).map(Integer::shortValue);
    }

    /** Any byte. */
    public static Generator<Byte> bytes() {
        return ints(Byte.MIN_VALUE, Byte.MAX_VALUE).map(Integer::byteValue);
    }

    /** True or false, even odds. */
    public static Generator<Boolean> booleans() {
        return SplittableRandom::nextBoolean;
    }

    /** Any float bit pattern, with NaN, the infinities, ±0 and the extremes drawn more often. */
    public static Generator<Float> floats() {
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE,
            Float.MAX_VALUE, -Float.MAX_VALUE, 1f, -1f};
        return r -> r.nextInt(EDGE_ODDS) == 0 ? special[r.nextInt(special.length)] : Float.intBitsToFloat(r.nextInt());
    }

    /** Any double bit pattern, with NaN, the infinities, ±0 and the extremes drawn more often. */
    public static Generator<Double> doubles() {
        double[] special = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0d, -0d, Double.MIN_VALUE,
            Double.MAX_VALUE, -Double.MAX_VALUE, 1d, -1d};
        return r -> r.nextInt(EDGE_ODDS) == 0 ? special[r.nextInt(special.length)]
                : Double.longBitsToDouble(r.nextLong());
    }

    /** Byte arrays of {@code min} to {@code max} random bytes. */
    public static Generator<byte[]> byteArrays(int min, int max) {
        Generator<Integer> sizes = ints(min, max);
        return r -> {
            byte[] b = new byte[sizes.next(r)];
            r.nextBytes(b);
            return b;
        };
    }

    /** One of {@code values}, even odds. */
    @SafeVarargs
    public static <T> Generator<T> elements(T... values) {
        return elements(List.of(values));
    }

    /** One of {@code values}, even odds. */
    public static <T> Generator<T> elements(List<? extends T> values) {
        List<? extends T> copy = List.copyOf(values);
        if (copy.isEmpty()) {
            throw new IllegalArgumentException("no values to choose from");
        }
        return r -> copy.get(r.nextInt(copy.size()));
    }

    /** A value of one of {@code choices}, even odds. */
    @SafeVarargs
    public static <T> Generator<T> oneOf(Generator<? extends T>... choices) {
        return oneOf(List.of(choices));
    }

    /** A value of one of {@code choices}, even odds. */
    public static <T> Generator<T> oneOf(List<? extends Generator<? extends T>> choices) {
        List<? extends Generator<? extends T>> copy = List.copyOf(choices);
        if (copy.isEmpty()) {
            throw new IllegalArgumentException("no generators to choose from");
        }
        return r -> copy.get(r.nextInt(copy.size())).next(r);
    }

    /** A value of {@code first} with odds {@code weight} against those of the choices added with {@link Weighted#or}. */
    public static <T> Weighted<T> weighted(int weight, Generator<? extends T> first) {
        return new Weighted<T>().or(weight, first);
    }

    /** One value of each generator, in order. */
    public static <T> Generator<List<T>> sequence(List<? extends Generator<? extends T>> generators) {
        List<? extends Generator<? extends T>> copy = List.copyOf(generators);
        return r -> {
            List<T> out = new ArrayList<>(copy.size());
            for (Generator<? extends T> g : copy) {
                out.add(g.next(r));
            }
            return out;
        };
    }

    /** Characters {@code from} to {@code to}, both included. */
    public static Generator<Character> chars(char from, char to) {
        return ints(from, to).map(i -> (char) (int) i);
    }

    /** One of the characters of {@code alphabet}. */
    public static Generator<Character> charsOf(String alphabet) {
        return elements(alphabet.chars().mapToObj(c -> (char) c).toList());
    }

    /** Strings of {@code min} to {@code max} characters of {@code chars}. */
    public static Generator<String> strings(Generator<Character> chars, int min, int max) {
        Generator<Integer> lengths = ints(min, max);
        return r -> {
            int n = lengths.next(r);
            StringBuilder b = new StringBuilder(n);
            for (int i = 0; i < n; i++) {
                b.append(chars.next(r));
            }
            return b.toString();
        };
    }

    /**
     * Strings of {@code min} to {@code max} Unicode code points (so no lone surrogate: every string has exactly one
     * UTF-8 form): mostly from the Basic Multilingual Plane, some beyond it, control characters and NUL included.
     */
    public static Generator<String> unicodeStrings(int min, int max) {
        Generator<Integer> lengths = ints(min, max);
        Generator<Integer> codePoints = weighted(6, ints(0, 0x7F))
                .or(6, ints(0x80, 0xD7FF))
                .or(2, ints(0xE000, 0xFFFD))
                .or(1, ints(0x10000, Character.MAX_CODE_POINT));
        return r -> {
            int n = lengths.next(r);
            StringBuilder b = new StringBuilder(n);
            for (int i = 0; i < n; i++) {
                b.appendCodePoint(codePoints.next(r));
            }
            return b.toString();
        };
    }

    /**
     * Maps of {@code min} to {@code max} entries (fewer when the keys run out: duplicate keys are drawn again a few
     * times, then given up), in the order drawn.
     */
    public static <K, V> Generator<Map<K, V>> maps(Generator<? extends K> keys, Generator<? extends V> values, int min,
            int max) {
        Generator<Integer> sizes = ints(min, max);
        return r -> {
            int n = sizes.next(r);
            Map<K, V> out = new LinkedHashMap<>();
            for (int attempts = 0; out.size() < n && attempts < 4 * n; attempts++) {
                K k = keys.next(r);
                if (!out.containsKey(k)) {
                    out.put(k, values.next(r));
                }
            }
            return out;
        };
    }

    /** Choices with odds: {@code weighted(6, common).or(1, rare)} draws {@code common} six times in seven. */
    public static final class Weighted<T> implements Generator<T> {
        private final List<Generator<? extends T>> choices = new ArrayList<>();
        private final List<Integer> cumulative = new ArrayList<>();
        private int total;

        private Weighted() {}

        /** Adds a choice with these odds; returns this. */
        public Weighted<T> or(int weight, Generator<? extends T> choice) {
            if (weight <= 0) {
                throw new IllegalArgumentException("weight " + weight + " must be positive");
            }
            total += weight;
            choices.add(choice);
            cumulative.add(total);
            return this;
        }

        @Override
        public T next(SplittableRandom random) {
            int x = random.nextInt(total);
            int i = 0;
            while (cumulative.get(i) <= x) {
                i++;
            }
            return choices.get(i).next(random);
        }
    }
}
