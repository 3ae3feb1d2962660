package io.warren.core;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
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

    ProxyStats() {}

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

    void upstreamConnecting() {}

    void upstreamConnected() {
        upstreamConnections.increment();
    }

    void upstreamDisconnected(boolean orderly) {
        upstreamConnections.decrement();
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
}
