package io.warren.core.internal.upstream;

import java.util.List;

/**
 * The pool an upstream connection belongs to, as the connection and its returned channels see it. The pool layer
 * implements it; the upstream layer never imports that layer. Calls come from the connection's loop (or a scrubber's)
 * and take the pool's lock; the pool hands its own callbacks to their loops, never running them under the lock.
 */
public interface UpstreamPool {
    /** The connection opened its virtual host: it may serve clients. */
    void connectionReady(UpstreamConnection connection);

    /** The connection is finished; {@code wasReady} when it had served clients (else it never opened). */
    void connectionFailed(UpstreamConnection connection, UpstreamError error, boolean wasReady);

    /** Takes the idle channels of {@code connection} that waited longer than the idle channel timeout. */
    List<Scrubber> expireIdle(UpstreamConnection connection, long nowNanos);

    /**
     * Whether a connection without channels may close now; if so it has left the pool.
     *
     * @param idleExpired whether it has had no channel for the idle connection timeout
     */
    boolean mayCloseIdle(UpstreamConnection connection, boolean idleExpired);

    /** The connection is closing: its idle channels may no longer be lent. */
    void dropIdle(UpstreamConnection connection);

    /** A returned channel is being scrubbed: one is usually about to come back. */
    void scrubStarted(Scrubber scrubber);

    /** The scrub ended without the channel coming back. */
    void scrubEnded(Scrubber scrubber);

    /**
     * A scrubbed channel, ready to lend: to a client waiting for one, or into the idle pool.
     *
     * @return false when the pool is full or the connection is going: the scrubber closes the channel instead
     */
    boolean offerIdle(Scrubber scrubber);
}
