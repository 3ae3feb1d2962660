package io.warren.core.internal.pool;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ScrubPipelineTest {
    private static final long MS = 1_000_000L;

    /** Requests every {@code gapMs} and scrubs that take {@code scrubMs}, until the averages have settled. */
    private static ScrubPipeline settled(int max, long gapMs, long scrubMs) {
        ScrubPipeline p = new ScrubPipeline(max);
        for (int i = 0; i < 100; i++) {
            p.requested(i * gapMs * MS);
            p.scrubbed(scrubMs * MS);
        }
        return p;
    }

    @Test
    void beforeAnythingIsMeasuredTheBoundIsTheTargetAndClientsOpen() {
        ScrubPipeline p = new ScrubPipeline(256);
        assertThat(p.target()).isEqualTo(256);
        p.requested(0);
        assertThat(p.mayOpen(10, 0, 0)).isTrue();
        p.scrubbed(50 * MS); // a round trip but one request: no rate yet
        assertThat(p.target()).isEqualTo(256);
        assertThat(p.roundTripNanos()).isEqualTo(50 * MS);
    }

    @Test
    void targetIsRateTimesRoundTripWithHeadroomPlusOne() {
        // 1,000 requests a second, 50 ms scrubs: 50 in flight, x1.5 = 75, + 1.
        assertThat(settled(256, 1, 50).target()).isEqualTo(76);
        // A request every 200 ms and a 2 ms scrub: less than one in flight; one more for the next client.
        assertThat(settled(256, 200, 2).target()).isEqualTo(2);
        // Bounded by max-idle-channels-per-key.
        assertThat(settled(40, 1, 50).target()).isEqualTo(40);
    }

    @Test
    void averagesFollowAChangeGradually() {
        ScrubPipeline p = settled(256, 1, 50);
        p.scrubbed(450 * MS); // one slow scrub moves the average by an eighth of the difference
        assertThat(p.roundTripNanos()).isEqualTo(100 * MS);
    }

    @Test
    void aLongPauseCountsAsOneSecond() {
        ScrubPipeline p = new ScrubPipeline(256);
        p.requested(0);
        p.requested(3_600_000 * MS); // an hour later
        p.scrubbed(100 * MS);
        // gap 1 s, 100 ms scrubs: 0.1 x 1.5 rounds up to 1, + 1
        assertThat(p.target()).isEqualTo(2);
    }

    @Test
    void atTheTargetAClientWaits() {
        ScrubPipeline p = settled(256, 200, 2); // target 2
        long now = 100 * 200 * MS;
        assertThat(p.mayOpen(1, 0, now)).isTrue();
        assertThat(p.mayOpen(2, 0, now)).isFalse();
        assertThat(p.mayOpen(3, 0, now)).isFalse();
    }

    @Test
    void belowTheTargetAClientWaitsWhenScrubsTakeLessThanItsLongestWait() {
        long now = 100_000 * MS;
        long tenMs = 10 * MS;
        assertThat(settled(256, 1, 50).mayOpen(5, tenMs, now)).isTrue(); // 50 ms away: open one
        assertThat(settled(256, 1, 8).mayOpen(5, tenMs, now)).isFalse(); // 8 ms: wait for the scrub
        assertThat(settled(256, 1, 10).mayOpen(5, tenMs, now)).isFalse();
        assertThat(settled(256, 1, 8).mayOpen(5, 0, now)).isTrue(); // scrub-wait 0: never waits
    }

    @Test
    void opensPerRoundTripAreLimitedToAQuarterOfTheTarget() {
        ScrubPipeline p = settled(256, 1, 50); // target 76: 19 opens per 50 ms round trip
        long now = 1_000 * MS;
        int opened = 0;
        while (p.mayOpen(0, 0, now)) {
            p.opened();
            opened++;
        }
        assertThat(opened).isEqualTo(19);
        assertThat(p.mayOpen(0, 0, now + 49 * MS)).isFalse();
        assertThat(p.mayOpen(0, 0, now + 50 * MS)).isTrue(); // the next round trip
    }

    @Test
    void aSmallTargetStillAllowsTwoOpensPerRoundTrip() {
        ScrubPipeline p = settled(256, 10, 20); // target ceil(3) + 1 = 4, a quarter is 1: at least 2
        assertThat(p.target()).isEqualTo(4);
        long now = 5_000 * MS;
        assertThat(p.mayOpen(0, 0, now)).isTrue();
        p.opened();
        assertThat(p.mayOpen(0, 0, now)).isTrue();
        p.opened();
        assertThat(p.mayOpen(0, 0, now)).isFalse();
    }
}
