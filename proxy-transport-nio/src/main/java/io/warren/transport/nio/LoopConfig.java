package io.warren.transport.nio;

import java.time.Duration;

/**
 * Internal tuning of the event loops, not part of the operator-visible {@link io.warren.api.transport.TransportSettings}.
 * Tests use it as a seam: a small {@code readSizeCap} makes every socket read short, which forces the buffered paths
 * of the handlers above; a short {@code closeFlushTimeout} makes the close bound testable.
 *
 * @param readBufferSize size of each loop's shared read buffer
 * @param readSizeCap at most this many bytes per socket read (at most {@code readBufferSize})
 * @param readsPerWakeup at most this many reads for one connection per selector wakeup (fairness)
 * @param acceptsPerWakeup at most this many accepts per listener per selector wakeup (fairness)
 * @param gatherLimit at most this many buffers in one gathering write
 * @param closeFlushTimeout how long {@code close()} waits for queued bytes to drain before aborting
 * @param acceptRetryDelay how long a listener stops accepting after accept() failed (for instance out of files)
 */
record LoopConfig(
        int readBufferSize,
        int readSizeCap,
        int readsPerWakeup,
        int acceptsPerWakeup,
        int gatherLimit,
        Duration closeFlushTimeout,
        Duration acceptRetryDelay) {

    static final LoopConfig DEFAULT =
            new LoopConfig(64 * 1024, 64 * 1024, 16, 64, 64, Duration.ofSeconds(30), Duration.ofSeconds(1));

    LoopConfig {
        if (readBufferSize <= 0 || readSizeCap <= 0 || readSizeCap > readBufferSize) {
            throw new IllegalArgumentException(
                    "need 0 < readSizeCap <= readBufferSize, got " + readSizeCap + " and " + readBufferSize);
        }
        if (readsPerWakeup <= 0 || acceptsPerWakeup <= 0 || gatherLimit <= 0) {
            throw new IllegalArgumentException("per-wakeup budgets and gatherLimit must be positive");
        }
        if (closeFlushTimeout.isNegative() || closeFlushTimeout.isZero()) {
            throw new IllegalArgumentException("closeFlushTimeout must be positive, got " + closeFlushTimeout);
        }
        if (acceptRetryDelay.isNegative()) {
            throw new IllegalArgumentException("acceptRetryDelay must not be negative, got " + acceptRetryDelay);
        }
    }

    LoopConfig withReadSizeCap(int cap) {
        return new LoopConfig(readBufferSize, cap, readsPerWakeup, acceptsPerWakeup, gatherLimit, closeFlushTimeout,
                acceptRetryDelay);
    }

    LoopConfig withCloseFlushTimeout(Duration timeout) {
        return new LoopConfig(readBufferSize, readSizeCap, readsPerWakeup, acceptsPerWakeup, gatherLimit, timeout,
                acceptRetryDelay);
    }
}
