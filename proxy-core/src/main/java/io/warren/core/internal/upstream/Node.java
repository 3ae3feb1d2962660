package io.warren.core.internal.upstream;

import io.warren.api.transport.TlsClientSettings;
import io.warren.core.config.UpstreamNode;
import io.warren.core.internal.limits.Backoff;
import io.warren.core.stats.NodeStatus;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One node of the upstream cluster and its health. A node is up until a failure that is not a client's fault (refused,
 * reset, a TLS handshake refused, a dropped or shut-down connection, missed heartbeats) takes it down; then no client
 * is sent to it, and {@link Cluster} probes it in the background with backoff until a full AMQP handshake succeeds.
 *
 * <p>Thread-safe: connections of every loop report to it; its state is guarded by this object's lock.
 */
public final class Node {
    /** Whether the node answers; whether it takes new connections also depends on {@link #draining()}. */
    public enum State { UP, DOWN }

    private final UpstreamNode config;
    private final Optional<TlsClientSettings> tls;
    private final AtomicInteger connections = new AtomicInteger();
    private final LongAdder connectFailures = new LongAdder();
    private final LongAdder failovers = new LongAdder();
    // Guarded by this.
    private State state = State.UP;
    private String reason = "not connected yet";
    private Instant since = Instant.now();
    /** The failure that took it down, as clients are told while no node is up. */
    private UpstreamError downError;
    private final Backoff<UpstreamError> probes = new Backoff<>();
    /** Whether a probe is scheduled or running: one at a time. */
    private boolean probing;
    /** Whether anything (the check at start, a connection) has told whether it is up. */
    private boolean checked;
    /** Drained by the operator, or removed by a reload: no new connections; idle ones close, busy ones finish. */
    private boolean draining;
    /** Removed from the configuration by a reload: forgotten once its last connection is gone. */
    private boolean removed;

    /**
     * @param tls the upstream's TLS settings, if amqps
     * @param ownServerName whether this node's host, not the settings' server name, is what its certificate must
     *     name (one node of several; a single broker keeps the configured name)
     */
    Node(UpstreamNode config, Optional<TlsClientSettings> tls, boolean ownServerName) {
        this.config = config;
        this.tls = ownServerName ? tls.map(t -> t.withServerName(config.host())) : tls;
    }

    public String name() {
        return config.name();
    }

    public UpstreamNode config() {
        return config;
    }

    /** TLS towards this node, its host the server name; empty for amqp://. */
    Optional<TlsClientSettings> tls() {
        return tls;
    }

    public synchronized State state() {
        return state;
    }

    /** Whether new connections may go to it: it is up and not draining. */
    public synchronized boolean acceptsConnections() {
        return state == State.UP && !draining;
    }

    /** Whether it is draining (no new connections; idle ones close, busy ones finish). */
    public synchronized boolean draining() {
        return draining;
    }

    /**
     * Starts (true) or ends (false) draining by the operator's word.
     *
     * @return whether that changed anything
     */
    synchronized boolean drain(boolean on) {
        if (draining == on || removed) {
            return false;
        }
        draining = on;
        since = Instant.now();
        return true;
    }

    /** A reload removed it: it drains, then is forgotten. */
    synchronized void removed() {
        removed = true;
        draining = true;
        since = Instant.now();
    }

    /** A reload named it again before it was forgotten: it is a node like the others again. */
    synchronized void restored() {
        removed = false;
        draining = false;
        since = Instant.now();
    }

    synchronized boolean isRemoved() {
        return removed;
    }

    int connections() {
        return connections.get();
    }

    void connectionStarted() {
        connections.incrementAndGet();
    }

    void connectionEnded() {
        connections.decrementAndGet();
    }

    void connectFailed() {
        connectFailures.increment();
    }

    /**
     * A failure that is not a client's fault.
     *
     * @return whether the node went down with it (it was up)
     */
    synchronized boolean failed(UpstreamError error, long nowNanos) {
        checked = true;
        notifyAll();
        downError = error;
        if (state == State.DOWN) {
            return false;
        }
        state = State.DOWN;
        reason = error.text();
        since = Instant.now();
        failovers.increment();
        probes.succeeded();
        probes.failed(error, nowNanos);
        return true;
    }

    /** A probe failed: the next one waits longer. Returns the wait in nanoseconds. */
    synchronized long probeFailed(UpstreamError error, long nowNanos) {
        downError = error;
        probes.failed(error, nowNanos);
        return probes.nanosLeft(nowNanos);
    }

    /** Nanoseconds until the next probe may run. */
    synchronized long nanosToNextProbe(long nowNanos) {
        return Math.max(0, probes.nanosLeft(nowNanos));
    }

    /**
     * A full handshake succeeded (a probe's).
     *
     * @return whether the node came back with it (it was down)
     */
    synchronized boolean succeeded(String how) {
        checked = true;
        notifyAll();
        if (state != State.DOWN) {
            if (state == State.UP) {
                reason = how;
            }
            return false;
        }
        state = State.UP;
        reason = how;
        since = Instant.now();
        downError = null;
        probes.succeeded();
        return true;
    }

    /** Waits until something told whether it is up, at most until {@code deadlineNanos}. */
    synchronized void awaitChecked(long deadlineNanos) throws InterruptedException {
        long left;
        while (!checked && (left = deadlineNanos - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    /** Takes the right to probe it; false while another probe is scheduled or running. */
    synchronized boolean claimProbe() {
        if (probing) {
            return false;
        }
        probing = true;
        return true;
    }

    /** The probe is over. */
    synchronized void probeDone() {
        probing = false;
    }

    /** The failure that took it down, with when the next attempt comes; null while it is up. */
    synchronized UpstreamError downError(long nowNanos) {
        return downError == null || state != State.DOWN ? null
                : downError.backingOff(Math.max(1, probes.nanosLeft(nowNanos)));
    }

    public synchronized NodeStatus status() {
        if (draining) {
            String why = removed ? "removed from the configuration" : "drained by the operator";
            return new NodeStatus(name(), "draining", state == State.DOWN ? why + "; also down: " + reason : why,
                    since, connections.get(), connectFailures.sum(), failovers.sum());
        }
        return new NodeStatus(name(), state.name().toLowerCase(Locale.ROOT), reason, since, connections.get(),
                connectFailures.sum(), failovers.sum());
    }

    @Override
    public String toString() {
        return name();
    }
}
