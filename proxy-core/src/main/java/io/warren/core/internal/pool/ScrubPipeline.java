package io.warren.core.internal.pool;

/**
 * How many of a key's channels should be on their way back to its clients (idle, or being scrubbed) so that a client
 * finds one ready: the arrival rate of channel requests times the scrub's round trip, with room for bursts. A client
 * that finds none idle opens a new channel while the key holds fewer than that (channel.open is pipelined: it costs
 * the client nothing), unless the scrub round trip is within the client's longest wait (a broker on loopback:
 * waiting a fraction of a millisecond is cheaper than one more channel on the broker); once the key has them all it
 * waits for the next scrub. Opens are also limited per round trip, because they travel on the connection
 * that carries the scrub barriers: a flood of them delays every scrub behind it, which would make more clients find
 * none ready (docs/benchmarks.md, section 8, "the scrub pipeline").
 *
 * <p>Pure arithmetic on the caller's clock; not thread-safe (its {@link KeyPool}'s lock guards it).
 */
final class ScrubPipeline {
    /** Weight of a new sample in the moving averages: 1/8, as TCP's smoothed round trip. */
    private static final double WEIGHT = 0.125;
    /** Headroom over rate x round trip, for arrivals that bunch. */
    private static final double HEADROOM = 1.5;
    /** A pause longer than this counts as this long, so one quiet minute does not hide the rate that follows. */
    private static final long LONGEST_GAP_NANOS = 1_000_000_000L;
    /** Opens allowed per round trip at least, whatever the size. */
    private static final int MIN_OPENS_PER_ROUND_TRIP = 2;

    private final int maxChannels;
    private long lastRequestNanos;
    private boolean requested;
    /** Smoothed gap between channel requests; 0 until two have come. */
    private double gapNanos;
    /** Smoothed time from a scrub's start to its channel being ready; 0 until one has finished. */
    private double roundTripNanos;
    private long windowStartNanos;
    private int opensInWindow;

    /** @param maxChannels the key's bound on idle channels ({@code max-idle-channels-per-key}) */
    ScrubPipeline(int maxChannels) {
        this.maxChannels = Math.max(1, maxChannels);
    }

    /** A client asked for a channel. */
    void requested(long nowNanos) {
        if (requested) {
            long gap = Math.min(Math.max(0, nowNanos - lastRequestNanos), LONGEST_GAP_NANOS);
            gapNanos = smoothed(gapNanos, gap);
        }
        requested = true;
        lastRequestNanos = nowNanos;
    }

    /** A scrub finished: its channel is ready {@code tookNanos} after the barrier left. */
    void scrubbed(long tookNanos) {
        long took = Math.max(0, tookNanos);
        roundTripNanos = smoothed(roundTripNanos, took);
    }

    /**
     * Channels the key should have idle or in scrub: ceil(rate x round trip x headroom) + 1, at most the pool's
     * bound. Before the first scrub has finished or two requests have come there is nothing to size by: the bound.
     */
    int target() {
        if (roundTripNanos == 0 || gapNanos == 0) {
            return maxChannels;
        }
        double inFlight = roundTripNanos / Math.max(1.0, gapNanos) * HEADROOM;
        return (int) Math.min(maxChannels, Math.ceil(inFlight) + 1);
    }

    /**
     * Whether a client that found no channel idle opens a new one now rather than wait for a scrub.
     *
     * @param onTheirWay the key's channels idle or being scrubbed
     * @param maxWaitNanos the longest a client waits for a scrub ({@code scrub-wait})
     */
    boolean mayOpen(int onTheirWay, long maxWaitNanos, long nowNanos) {
        if (onTheirWay >= target()) {
            return false;
        }
        if (roundTripNanos == 0) {
            return true;
        }
        if (roundTripNanos <= maxWaitNanos) {
            // A broker close by (loopback): a scrub is back sooner than the client would give up on it, so waiting
            // costs it less than one more channel costs the broker, and the pool stays as small as it was.
            return false;
        }
        if (nowNanos - windowStartNanos >= (long) roundTripNanos) {
            windowStartNanos = nowNanos;
            opensInWindow = 0;
        }
        return opensInWindow < Math.max(MIN_OPENS_PER_ROUND_TRIP, target() / 4);
    }

    /** A client opens a new channel (after {@link #mayOpen}, or after waiting for a scrub in vain). */
    void opened() {
        opensInWindow++;
    }

    /** {@code average} moved towards {@code sample} by {@link #WEIGHT}; the sample itself while there is none (0). */
    private static double smoothed(double average, long sample) {
        return average == 0 ? sample : average + WEIGHT * (sample - average);
    }

    /** The smoothed scrub round trip in nanoseconds; 0 before the first scrub finished. */
    long roundTripNanos() {
        return (long) roundTripNanos;
    }
}
