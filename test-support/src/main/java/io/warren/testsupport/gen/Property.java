package io.warren.testsupport.gen;

import java.lang.reflect.Array;
import java.util.HexFormat;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A property checked on random cases in a plain JUnit test:
 *
 * <pre>{@code
 * Property.forAll(Generators.byteArrays(0, 3000)).cases(400).check(bytes -> assertThat(...));
 * }</pre>
 *
 * <p>Each run checks {@link #cases} cases drawn from a fixed seed, the same on every run and machine (so CI fails on a
 * change, not on what chance happens to draw), and then {@link #runCases} more drawn from the run seed, which changes
 * with every build (so runs explore). Every case has a seed of its own, derived from the fixed or the run seed, the
 * property's name and its number; a failing case is reported with that seed, and a test run with
 * {@code -Dwarren.seed=SEED} checks only that case (pick the test with {@code -Dtest=Class#method}).
 *
 * <p>The run seed is the system property {@code warren.runSeed} (the Maven build sets it from the build's start time,
 * so all modules of one build share it), or the time the test JVM first needed it. It is printed once per test JVM
 * and named in every failure; {@code -Dwarren.runSeed=SEED} replays a whole run's random cases.
 *
 * <p>There is no shrinking: make the values' {@code toString} readable, since the failure prints the input.
 *
 * @param <T> the input of the property
 */
public final class Property<T> {
    /** System property: check only the case with this seed. */
    public static final String SEED_PROPERTY = "warren.seed";
    /** System property: the run seed (set by the build from its start time). */
    public static final String RUN_SEED_PROPERTY = "warren.runSeed";

    private static final long RUN_SEED = runSeed();
    /** The fixed seed unless one is set; each property's cases differ anyway, since its name is mixed in. */
    private static final long DEFAULT_FIXED_SEED = 20261202L;

    private final Generator<? extends T> generator;
    private final String name;
    private int cases = 100;
    private int runCases = -1;
    private long fixedSeed;

    private Property(Generator<? extends T> generator, String name) {
        this.generator = generator;
        this.name = name;
        this.fixedSeed = DEFAULT_FIXED_SEED;
    }

    /** A property of values of {@code generator}, named after the test method that calls this. */
    public static <T> Property<T> forAll(Generator<? extends T> generator) {
        return new Property<>(generator, caller());
    }

    /** How many cases to draw from the fixed seed (100 unless set). */
    public Property<T> cases(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("cases " + n);
        }
        this.cases = n;
        return this;
    }

    /** How many cases to draw from the run seed (as many as {@link #cases} unless set). */
    public Property<T> runCases(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("run cases " + n);
        }
        this.runCases = n;
        return this;
    }

    /** The fixed seed (one for all properties unless set; the property's name is mixed into each case's seed). */
    public Property<T> seed(long seed) {
        this.fixedSeed = seed;
        return this;
    }

    /** The property, for one input; it fails by throwing. */
    @FunctionalInterface
    public interface Check<T> {
        void accept(T value) throws Exception;
    }

    /** Checks every case; throws an AssertionError naming the seed of the first one that fails. */
    public void check(Check<? super T> property) {
        String only = System.getProperty(SEED_PROPERTY);
        if (only != null && !only.isBlank()) {
            long seed = Long.parseLong(only.trim());
            runCase(property, seed, "the case of -D" + SEED_PROPERTY + "=" + seed);
            System.out.printf("%s: 1 case (seed %d) passed%n", name, seed);
            return;
        }
        int fromRun = runCases < 0 ? cases : runCases;
        for (int i = 0; i < cases; i++) {
            runCase(property, caseSeed(fixedSeed, i), "case " + i + " of the fixed seed " + fixedSeed);
        }
        for (int i = 0; i < fromRun; i++) {
            runCase(property, caseSeed(RUN_SEED, i), "case " + i + " of the run seed " + RUN_SEED
                    + " (-D" + RUN_SEED_PROPERTY + "=" + RUN_SEED + " replays the run)");
        }
        System.out.printf("%s: %d cases of the fixed seed %d and %d of the run seed %d passed%n", name, cases,
                fixedSeed, fromRun, RUN_SEED);
    }

    private long caseSeed(long base, int index) {
        return mix(mix(base ^ name.hashCode()) + index);
    }

    private void runCase(Check<? super T> property, long seed, String which) {
        T value = generator.next(new SplittableRandom(seed));
        try {
            property.accept(value);
        } catch (Throwable t) {
            throw new AssertionError(name + " failed on " + which + ".\n  Check only this case: -D" + SEED_PROPERTY
                    + "=" + seed + "\n  Input: " + describe(value) + "\n  Failure: " + t, t);
        }
    }

    /** The input as the failure prints it: arrays spelled out (bytes in hex), long texts cut. */
    static String describe(Object value) {
        String s;
        if (value instanceof byte[] b) {
            s = "[" + b.length + " bytes] " + HexFormat.of().formatHex(b);
        } else if (value != null && value.getClass().isArray()) {
            StringBuilder out = new StringBuilder("[");
            for (int i = 0; i < Array.getLength(value); i++) {
                out.append(i == 0 ? "" : ", ").append(describe(Array.get(value, i)));
            }
            s = out.append(']').toString();
        } else {
            s = Objects.toString(value);
        }
        return s.length() <= 4000 ? s : s.substring(0, 4000) + "... (" + s.length() + " characters)";
    }

    /** The stack's first frame outside this class: {@code SimpleClassName#method}. */
    private static String caller() {
        return StackWalker.getInstance().walk(frames -> frames
                .filter(f -> !f.getClassName().equals(Property.class.getName()))
                .findFirst()
                .map(f -> f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "#" + f.getMethodName())
                .orElse("property"));
    }

    private static long runSeed() {
        String set = System.getProperty(RUN_SEED_PROPERTY);
        // The build passes its start time (2026-12-02T08:27:05Z): its digits are the seed.
        String text = set == null ? "" : set.trim();
        String digits = text.matches("-?\\d+") ? text : text.replaceAll("\\D", "");
        long seed = digits.isEmpty() ? System.currentTimeMillis() : Long.parseLong(digits);
        System.out.printf("Property run seed: %d (-D%s=%d replays this run's random cases)%n", seed,
                RUN_SEED_PROPERTY, seed);
        return seed;
    }

    /** SplittableRandom's own 64-bit mix (Stafford variant 13): nearby seeds give unrelated cases. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
