package io.warren.core.internal.stats;

import io.warren.core.stats.ProxyStats;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * The engine's counters and gauges: recorded from every event loop (and under the budgets' locks), read through
 * {@link ProxyStats} by the launcher's metrics endpoint as lock-free snapshots of each value.
 */
public final class EngineStats implements ProxyStats {
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
    private final LongAdder scrubWaitsServed = new LongAdder();
    private final LongAdder scrubWaitsTimedOut = new LongAdder();
    private final Map<String, LongAdder> scrubsFailed = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> upstreamLogins = new ConcurrentHashMap<>();
    /** The most bytes ever queued for one connection, right after a write to it (DESIGN.md invariant 8). */
    private final LongAccumulator peakClientWriteQueue = new LongAccumulator(Math::max, 0);
    private final LongAccumulator peakUpstreamWriteQueue = new LongAccumulator(Math::max, 0);
    private volatile long slowClientBuffered;
    private final LongAccumulator peakSlowClientBuffered = new LongAccumulator(Math::max, 0);
    /** Written under {@code MessageBudget}'s lock, read by the metrics endpoint. */
    private volatile long messageBufferBytes;
    private volatile int messageBufferWaitingClients;
    private final LongAccumulator peakMessageBuffer = new LongAccumulator(Math::max, 0);
    /** Written under the cluster's hold lock. */
    private volatile int heldClients;

    private static final long[] HANDSHAKE_BUCKET_NANOS = ProxyStats.handshakeLatencyBucketNanos();

    public EngineStats() {}

    private static LongAdder[] newAdders(int n) {
        LongAdder[] out = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            out[i] = new LongAdder();
        }
        return out;
    }

    public void clientConnected() {
        clientConnections.increment();
        clientConnectionsTotal.increment();
    }

    public void clientDisconnected() {
        clientConnections.decrement();
    }

    public void clientChannelOpened() {
        clientChannels.increment();
    }

    public void clientChannelClosed() {
        clientChannels.decrement();
    }

    public void upstreamConnected() {
        upstreamConnections.increment();
    }

    public void upstreamDisconnected(boolean orderly) {
        upstreamConnections.decrement();
        (orderly ? upstreamDisconnectsOrderly : upstreamDisconnectsFailed).increment();
    }

    public void upstreamConnectFailed() {
        upstreamConnectFailures.increment();
    }

    public void upstreamChannelOpened() {
        upstreamChannels.increment();
        upstreamChannelsOpenedTotal.increment();
    }

    public void upstreamChannelClosed() {
        upstreamChannels.decrement();
    }

    /** {@code n} whole messages published (counted per read). */
    public void messagesPublished(int n) {
        add(messagesPublished, n);
    }

    public void handshakeSucceeded(long nanos) {
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
    public void clientBytesReceived(long n) {
        bytes[index(Peer.CLIENT, Direction.RECEIVED)].add(n);
    }

    /** {@code n} bytes handed to a client connection for writing. */
    public void clientBytesSent(long n) {
        bytes[index(Peer.CLIENT, Direction.SENT)].add(n);
    }

    /** {@code n} bytes read from an upstream socket. */
    public void upstreamBytesReceived(long n) {
        bytes[index(Peer.UPSTREAM, Direction.RECEIVED)].add(n);
    }

    /** {@code n} bytes handed to an upstream connection for writing. */
    public void upstreamBytesSent(long n) {
        bytes[index(Peer.UPSTREAM, Direction.SENT)].add(n);
    }

    /**
     * {@code n} whole frames (any type, heartbeats included) parsed from a client. The traffic counters are added to
     * once per read, not per frame: a striped add per frame was a measurable share of the per-message cost.
     */
    public void clientFramesReceived(int n) {
        add(frames[index(Peer.CLIENT, Direction.RECEIVED)], n);
    }

    /** A frame written to a client (forwarded or generated by Warren). */
    public void clientFramesSent(int n) {
        frames[index(Peer.CLIENT, Direction.SENT)].add(n);
    }

    public void clientFrameSent() {
        frames[index(Peer.CLIENT, Direction.SENT)].increment();
    }

    /** {@code n} whole frames parsed from an upstream connection. */
    public void upstreamFramesReceived(int n) {
        add(frames[index(Peer.UPSTREAM, Direction.RECEIVED)], n);
    }

    /** A frame written to an upstream connection (forwarded or generated by Warren). */
    public void upstreamFrameSent() {
        frames[index(Peer.UPSTREAM, Direction.SENT)].increment();
    }

    /** {@code n} frames for upstream connections, counted over one client read. */
    public void upstreamFramesSent(int n) {
        add(frames[index(Peer.UPSTREAM, Direction.SENT)], n);
    }

    private static int index(Peer peer, Direction direction) {
        return peer.ordinal() * 2 + direction.ordinal();
    }

    /** Reads that count nothing (a partial frame) leave the adder untouched. */
    private static void add(LongAdder adder, int n) {
        if (n != 0) {
            adder.add(n);
        }
    }

    // ---------------------------------------------------------------- channel reuse (to be called by the engine)

    /** The policy's tracker was asked {@code mayReuse()} for a channel its client is done with. */
    public void reuseDecided(boolean allowed) {
        (allowed ? reuseAllowed : reuseRefused).increment();
    }

    /** A scrubbed channel entered a key's idle pool. */
    public void idleChannelPooled() {
        pooledIdleChannels.increment();
    }

    /** A channel left a key's idle pool: lent to a client, expired or lost with its connection. */
    public void idleChannelUnpooled() {
        pooledIdleChannels.decrement();
    }

    /** A pooled channel was lent to a client instead of opening a new upstream channel. */
    public void channelLent() {
        channelsLent.increment();
    }

    public void scrubSucceeded() {
        scrubsSucceeded.increment();
    }

    /** A client's wait for a scrub ended: {@code served} with a scrubbed channel, or not (it opens one). */
    public void scrubWaitEnded(boolean served) {
        (served ? scrubWaitsServed : scrubWaitsTimedOut).increment();
    }

    public void scrubFailed(String reason) {
        scrubsFailed.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    /**
     * An upstream login started to prove credentials: {@code client} when a client waits for it, {@code refresh}
     * when an active login is proven again in the background before its proof expires.
     */
    public void upstreamLoginStarted(String kind) {
        upstreamLogins.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    public void handshakeFailed(String reason) {
        handshakesFailed.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    public void clientViolation(int replyCode) {
        violations.computeIfAbsent(replyCode, r -> new LongAdder()).increment();
    }

    @Override
    public long clientConnections() {
        return clientConnections.sum();
    }

    @Override
    public long clientConnectionsTotal() {
        return clientConnectionsTotal.sum();
    }

    @Override
    public long clientChannels() {
        return clientChannels.sum();
    }

    @Override
    public long upstreamConnections() {
        return upstreamConnections.sum();
    }

    @Override
    public long upstreamConnectFailures() {
        return upstreamConnectFailures.sum();
    }

    @Override
    public long upstreamChannels() {
        return upstreamChannels.sum();
    }

    @Override
    public long upstreamChannelsOpenedTotal() {
        return upstreamChannelsOpenedTotal.sum();
    }

    @Override
    public long messagesPublished() {
        return messagesPublished.sum();
    }

    @Override
    public long handshakesSucceeded() {
        return handshakesSucceeded.sum();
    }

    @Override
    public long handshakeNanosTotal() {
        return handshakeNanosTotal.sum();
    }

    @Override
    public Map<String, Long> handshakesFailed() {
        Map<String, Long> out = new TreeMap<>();
        handshakesFailed.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    @Override
    public Map<Integer, Long> violations() {
        Map<Integer, Long> out = new TreeMap<>();
        violations.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    @Override
    public long upstreamDisconnectsOrderly() {
        return upstreamDisconnectsOrderly.sum();
    }

    @Override
    public long upstreamDisconnectsFailed() {
        return upstreamDisconnectsFailed.sum();
    }

    @Override
    public long[] handshakeLatencyBucketCounts() {
        long[] out = new long[handshakeBuckets.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = handshakeBuckets[i].sum();
        }
        return out;
    }

    @Override
    public long bytes(Peer peer, Direction direction) {
        return bytes[index(peer, direction)].sum();
    }

    @Override
    public long frames(Peer peer, Direction direction) {
        return frames[index(peer, direction)].sum();
    }

    @Override
    public long pooledIdleChannels() {
        return pooledIdleChannels.sum();
    }

    @Override
    public long channelsLent() {
        return channelsLent.sum();
    }

    @Override
    public long reuseAllowed() {
        return reuseAllowed.sum();
    }

    @Override
    public long reuseRefused() {
        return reuseRefused.sum();
    }

    @Override
    public long scrubsSucceeded() {
        return scrubsSucceeded.sum();
    }

    @Override
    public Map<String, Long> scrubWaits() {
        return Map.of("served", scrubWaitsServed.sum(), "timed_out", scrubWaitsTimedOut.sum());
    }

    @Override
    public Map<String, Long> scrubsFailed() {
        Map<String, Long> out = new TreeMap<>();
        scrubsFailed.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    @Override
    public Map<String, Long> upstreamLogins() {
        Map<String, Long> out = new TreeMap<>(Map.of("client", 0L, "refresh", 0L));
        upstreamLogins.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** Bytes queued for a client connection after a write to it. */
    public void clientWriteQueued(long queued) {
        peakClientWriteQueue.accumulate(queued);
    }

    /** Bytes queued for an upstream connection after a write to it. */
    public void upstreamWriteQueued(long queued) {
        peakUpstreamWriteQueue.accumulate(queued);
    }

    @Override
    public long peakClientWriteQueueBytes() {
        return peakClientWriteQueue.get();
    }

    @Override
    public long peakUpstreamWriteQueueBytes() {
        return peakUpstreamWriteQueue.get();
    }

    /** What Warren buffers for slow clients, all together, after a change of it (slow-client-buffer-total). */
    public void slowClientBuffered(long total) {
        slowClientBuffered = total;
        peakSlowClientBuffered.accumulate(total);
    }

    @Override
    public long slowClientBufferedBytes() {
        return slowClientBuffered;
    }

    @Override
    public long peakSlowClientBufferedBytes() {
        return peakSlowClientBuffered.get();
    }

    /** The held-message budget's state after a change (called under its lock). */
    public void messageBuffer(long reservedBytes, int waitingClients) {
        messageBufferBytes = reservedBytes;
        messageBufferWaitingClients = waitingClients;
        peakMessageBuffer.accumulate(reservedBytes);
    }

    @Override
    public long messageBufferBytes() {
        return messageBufferBytes;
    }

    @Override
    public int messageBufferWaitingClients() {
        return messageBufferWaitingClients;
    }

    @Override
    public long peakMessageBufferBytes() {
        return peakMessageBuffer.get();
    }

    /** Clients in the handshake waiting for an upstream node to come up, after a change. */
    public void heldClients(int n) {
        heldClients = n;
    }

    @Override
    public int heldClients() {
        return heldClients;
    }
}
