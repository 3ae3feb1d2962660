package io.warren.core.internal.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Retry timing after consecutive failures: 100 ms doubling to 5 s; a success starts over. Time is injected. */
class BackoffTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void waitsDoubleFrom100MillisecondsToFiveSeconds() {
        assertThat(Backoff.delayNanos(1)).isEqualTo(100 * MS);
        assertThat(Backoff.delayNanos(2)).isEqualTo(200 * MS);
        assertThat(Backoff.delayNanos(6)).isEqualTo(3_200 * MS);
        assertThat(Backoff.delayNanos(7)).isEqualTo(5_000 * MS);
        assertThat(Backoff.delayNanos(100)).isEqualTo(5_000 * MS);
    }

    @Test
    void aFailureIsReportedUntilItsWaitIsOverAndASuccessForgetsIt() {
        Backoff<String> backoff = new Backoff<>();
        long t0 = 1_000_000 * MS;
        assertThat(backoff.waiting(t0)).isFalse();
        backoff.failed("refused", t0);
        assertThat(backoff.waiting(t0 + 99 * MS)).isTrue();
        assertThat(backoff.nanosLeft(t0 + 40 * MS)).isEqualTo(60 * MS);
        assertThat(backoff.lastFailure()).isEqualTo("refused");
        assertThat(backoff.waiting(t0 + 100 * MS)).isFalse();
        backoff.failed("reset", t0 + 100 * MS);
        assertThat(backoff.waiting(t0 + 299 * MS)).as("the second wait is 200 ms").isTrue();
        assertThat(backoff.lastFailure()).isEqualTo("reset");
        backoff.succeeded();
        assertThat(backoff.waiting(t0 + 101 * MS)).isFalse();
        assertThat(backoff.lastFailure()).isNull();
        backoff.failed("refused", t0 + 400 * MS);
        assertThat(backoff.waiting(t0 + 501 * MS)).as("after a success the first wait again").isFalse();
    }
}
