package io.warren.core.internal.limits;

import io.warren.api.transport.EventLoop;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Virtual hosts the operator paused: a new client of one waits at connection.open (held, with the clients waiting for
 * a node: {@code max-held-clients} together) until the vhost is resumed or its {@code upstream-hold} runs out; clients
 * already open carry on.
 *
 * <p>Thread-safe. A resume takes the vhost out of the set before it releases the held clients, and a client is held
 * only if the vhost is still paused under {@link HeldClients}' lock, so no client misses its resume.
 */
public final class VhostPauses {
    /** What a client paused at connection.open waits for. */
    private record Paused(String vhost) {}

    private final Set<String> paused = ConcurrentHashMap.newKeySet();
    private final HeldClients held;

    public VhostPauses(HeldClients held) {
        this.held = held;
    }

    /** @return false when it was paused already */
    public boolean pause(String vhost) {
        return paused.add(vhost);
    }

    /**
     * Resumes {@code vhost}: its held clients go on at once.
     *
     * @return how many clients were held for it; -1 when it was not paused
     */
    public int resume(String vhost) {
        if (!paused.remove(vhost)) {
            return -1;
        }
        return held.release(tag -> tag.equals(new Paused(vhost)));
    }

    public boolean isPaused(String vhost) {
        return !paused.isEmpty() && paused.contains(vhost);
    }

    /** The paused vhosts, sorted. */
    public Set<String> paused() {
        return new TreeSet<>(paused);
    }

    /** Clients held now for {@code vhost}. */
    public int held(String vhost) {
        return held.count(new Paused(vhost));
    }

    /**
     * Holds a client of {@code vhost} until it is resumed ({@code resumed} runs on {@code loop}) or for
     * {@code timeoutNanos} ({@code timedOut} runs there).
     *
     * @return the hold, to cancel when the client goes; null, running nothing, when the vhost is not paused (any more),
     *     the time is up or {@code max-held-clients} are held
     */
    public EventLoop.Cancellable await(EventLoop loop, String vhost, long timeoutNanos, Runnable resumed,
            Runnable timedOut) {
        return held.hold(loop, new Paused(vhost), timeoutNanos, () -> paused.contains(vhost), resumed, timedOut);
    }
}
