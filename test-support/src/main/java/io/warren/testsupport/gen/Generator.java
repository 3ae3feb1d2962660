package io.warren.testsupport.gen;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Makes one random value from a seeded source. Everything a generator draws comes from the {@link SplittableRandom}
 * it is given, so the same seed gives the same value: that is what lets a failing case be replayed from its seed
 * ({@link Property}). A generator keeps no state of its own and may be shared between threads.
 *
 * <p>Factories for the usual values are in {@link Generators}; the methods here combine generators. A generator of a
 * record is usually a lambda: {@code r -> new Point(xs.next(r), ys.next(r))}.
 *
 * @param <T> what it makes
 */
@FunctionalInterface
public interface Generator<T> {

    /** Draws one value. */
    T next(SplittableRandom random);

    /** The values of this generator, transformed. */
    default <R> Generator<R> map(Function<? super T, ? extends R> f) {
        return r -> f.apply(next(r));
    }

    /** A generator chosen by a value of this one (a length, then an array of that length). */
    default <R> Generator<R> flatMap(Function<? super T, Generator<? extends R>> f) {
        return r -> f.apply(next(r)).next(r);
    }

    /**
     * Only the values that pass {@code keep}, by drawing again. For rare exclusions (two strings that must differ), not
     * for narrowing a range: after 10,000 rejections in a row it throws.
     */
    default Generator<T> filter(Predicate<? super T> keep) {
        return r -> {
            for (int i = 0; i < 10_000; i++) {
                T value = next(r);
                if (keep.test(value)) {
                    return value;
                }
            }
            throw new IllegalStateException("filter rejected 10,000 values in a row: narrow the generator instead");
        };
    }

    /** Lists of {@code min} to {@code max} elements of this generator (sizes near both ends are drawn more often). */
    default Generator<List<T>> list(int min, int max) {
        Generator<Integer> sizes = Generators.ints(min, max);
        return r -> {
            int n = sizes.next(r);
            List<T> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(next(r));
            }
            return out;
        };
    }

    /** This generator's values, or null with probability {@code p}. */
    default Generator<T> orNull(double p) {
        return r -> r.nextDouble() < p ? null : next(r);
    }
}
