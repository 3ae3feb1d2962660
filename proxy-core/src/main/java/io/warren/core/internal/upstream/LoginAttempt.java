package io.warren.core.internal.upstream;

/** Whoever waits for a connection dialed only to prove a login (the pool layer's clients). */
public interface LoginAttempt {
    /**
     * The login ended: proven, with the connection parked before its virtual host (until {@link
     * UpstreamConnection#adopt}ed or {@link UpstreamConnection#abandon}ed), or refused or failed with {@code error}.
     * Called on the connection's loop.
     *
     * @param nodeFault with an error: whether it took the connection's node down (then another node may be asked)
     */
    void finished(UpstreamConnection parked, UpstreamError error, boolean nodeFault);
}
