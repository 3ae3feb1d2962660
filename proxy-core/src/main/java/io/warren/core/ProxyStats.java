package io.warren.core;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * The engine's counters and gauges, read by the launcher's metrics endpoint. Updates come from every event loop;
 * reads are lock-free snapshots of each value.
 */
public final class ProxyStats {
    private final LongAdder clientConnections = new LongAdder();
    private final LongAdder clientConnectionsTotal = new LongAdder();
    private final LongAdder clientChannels = new LongAdder();
    private final LongAdder upstreamConnections = new LongAdder();
    private final LongAdder upstreamConnectFailures = new LongAdder();
    private final LongAdder upstreamChannels = new LongAdder();
    private final LongAdder upstreamChannelsOpenedTotal = new LongAdder();
    private final LongAdder messagesPublished = new LongAdder();
    private final LongAdder handshakesSucceeded = new LongAdder();
    private final LongAdder handshakeNanosTotal = new LongAdder();
    private final Map<String, LongAdder> handshakesFailed = new ConcurrentHashMap<>();
    private final Map<Integer, LongAdder> violations = new ConcurrentHashMap<>();
    private final LongAdder upstreamDisconnectsOrderly = new LongAdder();
    private final LongAdder upstreamDisconnectsFailed = new LongAdder();
    private final LongAdder[] handshakeBuckets = newAdders(HANDSHAKE_BUCKET_NANOS.length + 1);
    /** Index: {@link Peer#ordinal()} * 2 + {@link Direction#ordinal()}. */
    private final LongAdder[] bytes = newAdders(4);
    private final LongAdder[] frames = newAdders(4);
    private final LongAdder pooledIdleChannels = new LongAdder();
    private final LongAdder channelsLent = new LongAdder();
    private final LongAdder reuseAllowed = new LongAdder();
    private final LongAdder reuseRefused = new LongAdder();
    private final LongAdder scrubsSucceeded = new LongAdder();
    private final Map<String, LongAdder> scrubsFailed = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> upstreamLogins = new ConcurrentHashMap<>();
    /** The most bytes ever queued for one connection, right after a write to it (DESIGN.md invariant 8). */
    private final LongAccumulator peakClientWriteQueue = new LongAccumulator(Math::max, 0);
    private final LongAccumulator peakUpstreamWriteQueue = new LongAccumulator(Math::max, 0);
    private volatile long slowClientBuffered;
    private final LongAccumulator peakSlowClientBuffered = new LongAccumulator(Math::max, 0);
    /** Written under {@link MessageBudget}'s lock, read by the metrics endpoint. */
    private volatile long messageBufferBytes;
    private volatile int messageBufferWaitingClients;
    private final LongAccumulator peakMessageBuffer = new LongAccumulator(Math::max, 0);

    /**
     * Upper bounds of the handshake latency histogram buckets, in nanoseconds: 0.5 ms to 10 s. A last, implicit
     * bucket holds everything slower.
     */
    private static final long[] HANDSHAKE_BUCKET_NANOS = {
        500_000L, 1_000_000L, 2_500_000L, 5_000_000L, 10_000_000L, 25_000_000L, 50_000_000L, 100_000_000L,
        250_000_000L, 500_000_000L, 1_000_000_000L, 2_500_000_000L, 5_000_000_000L, 10_000_000_000L
    };

    /** Which side of the proxy a byte or frame counter is about. */
    public enum Peer { CLIENT, UPSTREAM }

    /** Whether Warren received the bytes or frames from that peer or sent them to it. */
    public enum Direction { RECEIVED, SENT }

    ProxyStats() {}

    private static LongAdder[] newAdders(int n) {
        LongAdder[] out = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            out[i] = new LongAdder();
        }
        return out;
    }

    void clientConnected() {
        clientConnections.increment();
        clientConnectionsTotal.increment();
    }

    void clientDisconnected() {
        clientConnections.decrement();
    }

    void clientChannelOpened() {
        clientChannels.increment();
    }

    void clientChannelClosed() {
        clientChannels.decrement();
    }

    void upstreamConnected() {
        upstreamConnections.increment();
    }

    void upstreamDisconnected(boolean orderly) {
        upstreamConnections.decrement();
        (orderly ? upstreamDisconnectsOrderly : upstreamDisconnectsFailed).increment();
    }

    void upstreamConnectFailed() {
        upstreamConnectFailures.increment();
    }

    void upstreamChannelOpened() {
        upstreamChannels.increment();
        upstreamChannelsOpenedTotal.increment();
    }

    void upstreamChannelClosed() {
        upstreamChannels.decrement();
    }

    void messagePublished() {
        messagesPublished.increment();
    }

    void handshakeSucceeded(long nanos) {
        handshakesSucceeded.increment();
        handshakeNanosTotal.add(nanos);
        int bucket = 0;
        while (bucket < HANDSHAKE_BUCKET_NANOS.length && nanos > HANDSHAKE_BUCKET_NANOS[bucket]) {
            bucket++;
        }
        handshakeBuckets[bucket].increment();
    }

    // ---------------------------------------------------------------- traffic (to be called by the engine)

    /** {@code n} bytes read from a client socket (call with what each read returned). */
    void clientBytesReceived(long n) {
        bytes[index(Peer.CLIENT, Direction.RECEIVED)].add(n);
    }

    /** {@code n} bytes handed to a client connection for writing. */
    void clientBytesSent(long n) {
        bytes[index(Peer.CLIENT, Direction.SENT)].add(n);
    }

    /** {@code n} bytes read from an upstream socket. */
    void upstreamBytesReceived(long n) {
        bytes[index(Peer.UPSTREAM, Direction.RECEIVED)].add(n);
    }

    /** {@code n} bytes handed to an upstream connection for writing. */
    void upstreamBytesSent(long n) {
        bytes[index(Peer.UPSTREAM, Direction.SENT)].add(n);
    }

    /** A whole frame (any type, heartbeats included) parsed from a client. */
    void clientFrameReceived() {
        frames[index(Peer.CLIENT, Direction.RECEIVED)].increment();
    }

    /** A frame written to a client (forwarded or generated by Warren). */
    void clientFramesSent(int n) {
        frames[index(Peer.CLIENT, Direction.SENT)].add(n);
    }

    void clientFrameSent() {
        frames[index(Peer.CLIENT, Direction.SENT)].increment();
    }

    /** A whole frame parsed from an upstream connection. */
    void upstreamFrameReceived() {
        frames[index(Peer.UPSTREAM, Direction.RECEIVED)].increment();
    }

    /** A frame written to an upstream connection (forwarded or generated by Warren). */
    void upstreamFrameSent() {
        frames[index(Peer.UPSTREAM, Direction.SENT)].increment();
    }

    private static int index(Peer peer, Direction direction) {
        return peer.ordinal() * 2 + direction.ordinal();
    }

    // ---------------------------------------------------------------- channel reuse (to be called by the engine)

    /** The policy's tracker was asked {@code mayReuse()} for a channel its client is done with. */
    void reuseDecided(boolean allowed) {
        (allowed ? reuseAllowed : reuseRefused).increment();
    }

    /** A scrubbed channel entered a key's idle pool. */
    void idleChannelPooled() {
        pooledIdleChannels.increment();
    }

    /** A channel left a key's idle pool: lent to a client, expired or lost with its connection. */
    void idleChannelUnpooled() {
        pooledIdleChannels.decrement();
    }

    /** A pooled channel was lent to a client instead of opening a new upstream channel. */
    void channelLent() {
        channelsLent.increment();
    }

    void scrubSucceeded() {
        scrubsSucceeded.increment();
    }

    void scrubFailed(String reason) {
        scrubsFailed.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    /**
     * An upstream login started to prove credentials: {@code client} when a client waits for it, {@code refresh}
     * when an active login is proven again in the background before its proof expires.
     */
    void upstreamLoginStarted(String kind) {
        upstreamLogins.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    void handshakeFailed(String reason) {
        handshakesFailed.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    void clientViolation(int replyCode) {
        violations.computeIfAbsent(replyCode, r -> new LongAdder()).increment();
    }

    /** Client connections open now. */
    public long clientConnections() {
        return clientConnections.sum();
    }

    /** Client connections accepted since start. */
    public long clientConnectionsTotal() {
        return clientConnectionsTotal.sum();
    }

    /** Client channels open now. */
    public long clientChannels() {
        return clientChannels.sum();
    }

    /** Upstream connections open (authenticated) now. */
    public long upstreamConnections() {
        return upstreamConnections.sum();
    }

    public long upstreamConnectFailures() {
        return upstreamConnectFailures.sum();
    }

    /** Upstream channels allocated now. */
    public long upstreamChannels() {
        return upstreamChannels.sum();
    }

    /** Upstream channels opened since start (channel.open sent to the broker). */
    public long upstreamChannelsOpenedTotal() {
        return upstreamChannelsOpenedTotal.sum();
    }

    /** Whole messages clients published through Warren. */
    public long messagesPublished() {
        return messagesPublished.sum();
    }

    public long handshakesSucceeded() {
        return handshakesSucceeded.sum();
    }

    /** Sum of successful handshake durations, in nanoseconds. */
    public long handshakeNanosTotal() {
        return handshakeNanosTotal.sum();
    }

    /** Failed handshakes by reason (access_refused, timeout, bad_protocol_header...). */
    public Map<String, Long> handshakesFailed() {
        Map<String, Long> out = new TreeMap<>();
        handshakesFailed.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** Clients closed for a protocol violation, by the reply code they were given. */
    public Map<Integer, Long> violations() {
        Map<Integer, Long> out = new TreeMap<>();
        violations.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** Upstream connections that ended with an orderly close since start. */
    public long upstreamDisconnectsOrderly() {
        return upstreamDisconnectsOrderly.sum();
    }

    /** Upstream connections that ended any other way (broker error, socket error, heartbeat timeout). */
    public long upstreamDisconnectsFailed() {
        return upstreamDisconnectsFailed.sum();
    }

    /** Upper bounds of the handshake latency buckets, in seconds, ascending; the last bucket (+Inf) is implicit. */
    public static double[] handshakeLatencyBucketBounds() {
        double[] out = new double[HANDSHAKE_BUCKET_NANOS.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = HANDSHAKE_BUCKET_NANOS[i] / (double) TimeUnit.SECONDS.toNanos(1);
        }
        return out;
    }

    /**
     * Successful handshakes per latency bucket (not cumulative): one more entry than
     * {@link #handshakeLatencyBucketBounds()}, the last for handshakes slower than every bound.
     */
    public long[] handshakeLatencyBucketCounts() {
        long[] out = new long[handshakeBuckets.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = handshakeBuckets[i].sum();
        }
        return out;
    }

    /** Bytes exchanged with clients or upstreams since start, each way. */
    public long bytes(Peer peer, Direction direction) {
        return bytes[index(peer, direction)].sum();
    }

    /** Frames exchanged with clients or upstreams since start, each way. */
    public long frames(Peer peer, Direction direction) {
        return frames[index(peer, direction)].sum();
    }

    /** Scrubbed upstream channels waiting in the pools now. */
    public long pooledIdleChannels() {
        return pooledIdleChannels.sum();
    }

    /** Client channels served by lending a pooled upstream channel, since start. */
    public long channelsLent() {
        return channelsLent.sum();
    }

    /** Reuse policy verdicts since start: channels the policy allowed to be reused. */
    public long reuseAllowed() {
        return reuseAllowed.sum();
    }

    /** Reuse policy verdicts since start: channels the policy refused to reuse. */
    public long reuseRefused() {
        return reuseRefused.sum();
    }

    /** Returned channels scrubbed successfully (and pooled) since start. */
    public long scrubsSucceeded() {
        return scrubsSucceeded.sum();
    }

    /** Scrubs that ended with the channel closed instead of pooled, by reason. */
    public Map<String, Long> scrubsFailed() {
        Map<String, Long> out = new TreeMap<>();
        scrubsFailed.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** Upstream logins started to prove client credentials, by kind ({@code client}, {@code refresh}). */
    public Map<String, Long> upstreamLogins() {
        Map<String, Long> out = new TreeMap<>(Map.of("client", 0L, "refresh", 0L));
        upstreamLogins.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** Bytes queued for a client connection after a write to it. */
    void clientWriteQueued(long queued) {
        peakClientWriteQueue.accumulate(queued);
    }

    /** Bytes queued for an upstream connection after a write to it. */
    void upstreamWriteQueued(long queued) {
        peakUpstreamWriteQueue.accumulate(queued);
    }

    /**
     * The largest write queue any one client connection had since start, in bytes: what a client that does not
     * read can make Warren hold for it (high-water mark plus what was in flight when its upstream reads paused).
     */
    public long peakClientWriteQueueBytes() {
        return peakClientWriteQueue.get();
    }

    /** The largest write queue any one upstream connection had since start, in bytes. */
    public long peakUpstreamWriteQueueBytes() {
        return peakUpstreamWriteQueue.get();
    }

    /** What Warren buffers for slow clients, all together, after a change of it (slow-client-buffer-total). */
    void slowClientBuffered(long total) {
        slowClientBuffered = total;
        peakSlowClientBuffered.accumulate(total);
    }

    /** Bytes Warren buffers now for clients whose stall ran out, all together (bounded by slow-client-buffer-total). */
    public long slowClientBufferedBytes() {
        return slowClientBuffered;
    }

    /** The most bytes Warren ever buffered for slow clients at once, all together, since start. */
    public long peakSlowClientBufferedBytes() {
        return peakSlowClientBuffered.get();
    }

    /** The held-message budget's state after a change (called under its lock). */
    void messageBuffer(long reservedBytes, int waitingClients) {
        messageBufferBytes = reservedBytes;
        messageBufferWaitingClients = waitingClients;
        peakMessageBuffer.accumulate(reservedBytes);
    }

    /**
     * Bytes reserved now by messages held until their last frame arrives ({@code message-buffer}): the exact size
     * of each held message's buffer.
     */
    public long messageBufferBytes() {
        return messageBufferBytes;
    }

    /** Clients whose reading is paused until the {@code message-buffer} has room for their message. */
    public int messageBufferWaitingClients() {
        return messageBufferWaitingClients;
    }

    /** The most bytes ever reserved by held messages at once, since start. */
    public long peakMessageBufferBytes() {
        return peakMessageBuffer.get();
    }
}
