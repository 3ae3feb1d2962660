package io.warren.core.internal.limits;

import java.time.Duration;

/**
 * When to try again after consecutive failures: 100 ms after the first, doubling up to 5 s, and the failure to
 * report meanwhile. One per thing retried (a pool key's dials, a login's attempts).
 *
 * <p>Not thread-safe: guarded by the lock of whoever holds it.
 *
 * @param <F> what a failure is reported as
 */
public final class Backoff<F> {
    /** The wait after the first failure. */
    public static final Duration FIRST = Duration.ofMillis(100);
    /** The longest wait, reached after the seventh failure in a row. */
    public static final Duration MAX = Duration.ofSeconds(5);
    private static final int MAX_DOUBLINGS = 6;

    private int failures;
    private long retryAtNanos;
    private F lastFailure;

    /** The wait after {@code failures} consecutive failures (at least 1), in nanoseconds. */
    public static long delayNanos(int failures) {
        return Math.min(MAX.toNanos(), FIRST.toNanos() << Math.min(failures - 1, MAX_DOUBLINGS));
    }

    /** Records a failure at {@code nowNanos}: the next attempt waits longer than the last one did. */
    public void failed(F failure, long nowNanos) {
        failures++;
        retryAtNanos = nowNanos + delayNanos(failures);
        lastFailure = failure;
    }

    /** An attempt succeeded: the next failure waits the shortest time again. */
    public void succeeded() {
        failures = 0;
        lastFailure = null;
    }

    /** Whether an attempt must wait at {@code nowNanos}. */
    public boolean waiting(long nowNanos) {
        return lastFailure != null && nowNanos < retryAtNanos;
    }

    /** Nanoseconds from {@code nowNanos} until the next attempt may be made. */
    public long nanosLeft(long nowNanos) {
        return retryAtNanos - nowNanos;
    }

    /** The last failure since the last success, or null. */
    public F lastFailure() {
        return lastFailure;
    }
}
