package io.warren.core.internal.limits;

import io.warren.api.transport.EventLoop;
import io.warren.core.internal.stats.EngineStats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Predicate;

/**
 * Clients in the handshake that wait, unread, for something outside them: an upstream node to come up, or an operator
 * to resume their virtual host. Each waits at most its own time; together they are at most {@code max-held-clients}
 * (read at each hold, so a reload applies to the next one). Each waiter is tagged with what it waits for, and a
 * release names the tags it ends.
 *
 * <p>Thread-safe: guarded by this object's lock, never held while a waiter's callback runs (callbacks run on the
 * waiter's loop).
 */
public final class HeldClients {
    /** One client waiting. */
    private static final class Hold {
        final EventLoop loop;
        final Object tag;
        final Runnable released;
        EventLoop.Cancellable timer;
        boolean done;

        Hold(EventLoop loop, Object tag, Runnable released) {
            this.loop = loop;
            this.tag = tag;
            this.released = released;
        }
    }

    private final IntSupplier max;
    private final EngineStats stats;
    private final List<Hold> holds = new ArrayList<>();

    public HeldClients(IntSupplier max, EngineStats stats) {
        this.max = max;
        this.stats = stats;
    }

    /**
     * Holds a client until a {@link #release} names {@code tag} (then {@code released} runs on {@code loop}) or for
     * {@code timeoutNanos} (then {@code timedOut} runs there).
     *
     * @param stillNeeded checked under the lock, so that a release that has just happened is not missed: false means
     *     there is nothing to wait for (any more)
     * @return the hold, to cancel when the client goes; null, running nothing, when {@code max-held-clients} are held
     *     already, the time is up, or {@code stillNeeded} says no
     */
    public EventLoop.Cancellable hold(EventLoop loop, Object tag, long timeoutNanos, BooleanSupplier stillNeeded,
            Runnable released, Runnable timedOut) {
        Hold hold = new Hold(loop, tag, released);
        synchronized (this) {
            if (holds.size() >= max.getAsInt() || timeoutNanos <= 0 || !stillNeeded.getAsBoolean()) {
                return null;
            }
            holds.add(hold);
            stats.heldClients(holds.size());
            hold.timer = loop.schedule(() -> {
                if (take(hold)) {
                    timedOut.run();
                }
            }, Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)), TimeUnit.MILLISECONDS);
        }
        return () -> {
            if (take(hold)) {
                hold.timer.cancel();
            }
        };
    }

    private synchronized boolean take(Hold hold) {
        if (hold.done) {
            return false;
        }
        hold.done = true;
        holds.remove(hold);
        stats.heldClients(holds.size());
        return true;
    }

    /**
     * Ends the wait of every client whose tag {@code which} accepts: each one's {@code released} runs on its loop.
     *
     * @return how many were released
     */
    public int release(Predicate<Object> which) {
        List<Hold> released = new ArrayList<>();
        synchronized (this) {
            holds.removeIf(h -> {
                if (which.test(h.tag)) {
                    h.done = true;
                    released.add(h);
                    return true;
                }
                return false;
            });
            stats.heldClients(holds.size());
        }
        for (Hold h : released) {
            h.timer.cancel();
            h.loop.execute(h.released);
        }
        return released.size();
    }

    /** Clients held now for {@code tag}. */
    public synchronized int count(Object tag) {
        int n = 0;
        for (Hold h : holds) {
            n += h.tag.equals(tag) ? 1 : 0;
        }
        return n;
    }
}
