package io.warren.core.stats;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The engine's counters and gauges, as the launcher's metrics endpoint reads them: lock-free snapshots of each
 * value, callable from any thread. Only the engine records them.
 */
public interface ProxyStats {
    /** Which side of the proxy a byte or frame counter is about. */
    enum Peer { CLIENT, UPSTREAM }

    /** Whether Warren received the bytes or frames from that peer or sent them to it. */
    enum Direction { RECEIVED, SENT }

    /**
     * Upper bounds of the handshake latency histogram buckets, in nanoseconds: 0.5 ms to 10 s, ascending. A last,
     * implicit bucket holds everything slower. A new array each call.
     */
    static long[] handshakeLatencyBucketNanos() {
        return new long[] {
            500_000L, 1_000_000L, 2_500_000L, 5_000_000L, 10_000_000L, 25_000_000L, 50_000_000L, 100_000_000L,
            250_000_000L, 500_000_000L, 1_000_000_000L, 2_500_000_000L, 5_000_000_000L, 10_000_000_000L
        };
    }

    /** Upper bounds of the handshake latency buckets, in seconds, ascending; the last bucket (+Inf) is implicit. */
    static double[] handshakeLatencyBucketBounds() {
        long[] nanos = handshakeLatencyBucketNanos();
        double[] out = new double[nanos.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = nanos[i] / (double) TimeUnit.SECONDS.toNanos(1);
        }
        return out;
    }

    /** Client connections open now. */
    long clientConnections();

    /** Client connections accepted since start. */
    long clientConnectionsTotal();

    /** Client channels open now. */
    long clientChannels();

    /** Upstream connections open (authenticated) now. */
    long upstreamConnections();

    long upstreamConnectFailures();

    /** Upstream channels allocated now. */
    long upstreamChannels();

    /** Upstream channels opened since start (channel.open sent to the broker). */
    long upstreamChannelsOpenedTotal();

    /** Whole messages clients published through Warren. */
    long messagesPublished();

    long handshakesSucceeded();

    /** Sum of successful handshake durations, in nanoseconds. */
    long handshakeNanosTotal();

    /** Failed handshakes by reason (access_refused, timeout, bad_protocol_header...). */
    Map<String, Long> handshakesFailed();

    /** Clients closed for a protocol violation, by the reply code they were given. */
    Map<Integer, Long> violations();

    /** Upstream connections that ended with an orderly close since start. */
    long upstreamDisconnectsOrderly();

    /** Upstream connections that ended any other way (broker error, socket error, heartbeat timeout). */
    long upstreamDisconnectsFailed();

    /**
     * Successful handshakes per latency bucket (not cumulative): one more entry than
     * {@link #handshakeLatencyBucketBounds()}, the last for handshakes slower than every bound.
     */
    long[] handshakeLatencyBucketCounts();

    /** Bytes exchanged with clients or upstreams since start, each way. */
    long bytes(Peer peer, Direction direction);

    /** Frames exchanged with clients or upstreams since start, each way. */
    long frames(Peer peer, Direction direction);

    /** Scrubbed upstream channels waiting in the pools now. */
    long pooledIdleChannels();

    /** Client channels served by lending a pooled upstream channel, since start. */
    long channelsLent();

    /** Reuse policy verdicts since start: channels the policy allowed to be reused. */
    long reuseAllowed();

    /** Reuse policy verdicts since start: channels the policy refused to reuse. */
    long reuseRefused();

    /** Returned channels scrubbed successfully (and pooled) since start. */
    long scrubsSucceeded();

    /** Scrubs that ended with the channel closed instead of pooled, by reason. */
    Map<String, Long> scrubsFailed();

    /**
     * Clients that waited for a scrub to finish (their key had all the channels it needed on their way back, none
     * idle), by outcome: {@code served} (a scrubbed channel came in time), {@code timed_out} (after scrub-wait the
     * client opened a new one).
     */
    Map<String, Long> scrubWaits();

    /** Upstream logins started to prove client credentials, by kind ({@code client}, {@code refresh}). */
    Map<String, Long> upstreamLogins();

    /**
     * The largest write queue any one client connection had since start, in bytes: what a client that does not
     * read can make Warren hold for it (high-water mark plus what was in flight when its upstream reads paused).
     */
    long peakClientWriteQueueBytes();

    /** The largest write queue any one upstream connection had since start, in bytes. */
    long peakUpstreamWriteQueueBytes();

    /** Bytes Warren buffers now for clients whose stall ran out, all together (bounded by slow-client-buffer-total). */
    long slowClientBufferedBytes();

    /** The most bytes Warren ever buffered for slow clients at once, all together, since start. */
    long peakSlowClientBufferedBytes();

    /**
     * Bytes reserved now by messages held until their last frame arrives ({@code message-buffer}): the exact size
     * of each held message's buffer.
     */
    long messageBufferBytes();

    /** Clients whose reading is paused until the {@code message-buffer} has room for their message. */
    int messageBufferWaitingClients();

    /** The most bytes ever reserved by held messages at once, since start. */
    long peakMessageBufferBytes();

    /** Clients in the handshake waiting for an upstream node to come up ({@code upstream-hold}). */
    int heldClients();
}
