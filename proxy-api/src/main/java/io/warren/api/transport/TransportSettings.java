package io.warren.api.transport;

import java.time.Duration;

/**
 * Settings every transport honours.
 *
 * @param eventLoops number of event-loop threads (0: one per available processor)
 * @param writeHighWaterMark bytes queued for one connection above which {@link Connection#write} reports the
 *     connection as not writable
 * @param writeLowWaterMark bytes queued below which a connection that was not writable is reported writable again
 *     through {@link ConnectionHandler#onWritable}
 * @param acceptBacklog listen backlog: connections the kernel completes and queues before they are accepted; the
 *     default holds a storm of 10,000 clients connecting at once (Linux caps it at net.core.somaxconn)
 * @param connectTimeout how long an upstream connect may take
 */
public record TransportSettings(
        int eventLoops, int writeHighWaterMark, int writeLowWaterMark, int acceptBacklog, Duration connectTimeout) {

    public static TransportSettings defaults() {
        return new TransportSettings(0, 256 * 1024, 64 * 1024, 16384, Duration.ofSeconds(10));
    }

    public TransportSettings {
        if (eventLoops < 0) {
            throw new IllegalArgumentException("eventLoops must be >= 0, got " + eventLoops);
        }
        if (writeLowWaterMark <= 0 || writeHighWaterMark < writeLowWaterMark) {
            throw new IllegalArgumentException("need 0 < writeLowWaterMark <= writeHighWaterMark, got "
                    + writeLowWaterMark + " and " + writeHighWaterMark);
        }
        if (acceptBacklog <= 0) {
            throw new IllegalArgumentException("acceptBacklog must be > 0, got " + acceptBacklog);
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout must be positive, got " + connectTimeout);
        }
    }
}
