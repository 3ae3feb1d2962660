package io.warren.core.internal.limits;

import io.warren.core.internal.stats.EngineStats;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.LongConsumer;

/**
 * The engine-wide budget ({@code message-buffer}) for published messages held until their last frame arrives.
 * Every held message reserves its exact size ({@code HeldMessage#size()}) when it becomes held and releases it once
 * it went upstream or was dropped. A reservation that does not fit waits in a FIFO queue, so a large message is not
 * starved by a stream of small ones; a release grants waiters in order, each on its own event loop.
 *
 * <p>Thread-safe: sessions of every event loop reserve and release.
 */
public final class MessageBudget {
    /** A client waiting for {@code bytes}; {@code granted} runs on {@code loop} once they are reserved for it. */
    public static final class Waiter {
        final long bytes;
        private final Executor loop;
        private final LongConsumer granted;

        private Waiter(long bytes, Executor loop, LongConsumer granted) {
            this.bytes = bytes;
            this.loop = loop;
            this.granted = granted;
        }
    }

    private volatile long capacity;
    private final EngineStats stats;
    /** Guards {@link #reserved} and {@link #waiters}; never held while a callback runs. */
    private final Object lock = new Object();
    private long reserved;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

    public MessageBudget(long capacity, EngineStats stats) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
        this.stats = stats;
    }

    public long capacity() {
        return capacity;
    }

    /**
     * A reload changed {@code message-buffer}. Reservations made stay; a larger capacity grants waiters at once. A
     * waiter that no longer fits at all is granted once nothing else is reserved, so that it is not stuck for good.
     */
    public void resize(long newCapacity) {
        if (newCapacity < 1) {
            throw new IllegalArgumentException("capacity must be positive, got " + newCapacity);
        }
        synchronized (lock) {
            capacity = newCapacity;
        }
        grantWaiters();
    }

    public long reserved() {
        synchronized (lock) {
            return reserved;
        }
    }

    public int waiting() {
        synchronized (lock) {
            return waiters.size();
        }
    }

    /**
     * Reserves {@code bytes} if they fit now. A client that holds no reservation queues behind earlier waiters
     * (FIFO); one that does ({@code holdsOther}) may not wait (it would wait on itself), so it takes what fits even
     * ahead of them: its messages then complete and release.
     */
    public boolean tryReserve(long bytes, boolean holdsOther) {
        synchronized (lock) {
            if ((holdsOther || waiters.isEmpty()) && bytes <= capacity - reserved) {
                reserved += bytes;
                publish();
                return true;
            }
            return false;
        }
    }

    /** Reserves {@code bytes} even beyond the capacity: for a message that must not be lost and cannot wait. */
    public void reserveAnyway(long bytes) {
        synchronized (lock) {
            reserved += bytes;
            publish();
        }
    }

    /**
     * Queues a reservation of {@code bytes} (at most the capacity); {@code granted} runs on {@code loop} with the
     * bytes once they are reserved, and then owns them: it must release them, also if its client is gone.
     */
    public Waiter await(long bytes, Executor loop, LongConsumer granted) {
        if (bytes > capacity) {
            throw new IllegalArgumentException(bytes + " bytes can never fit in " + capacity);
        }
        Waiter w = new Waiter(bytes, loop, granted);
        synchronized (lock) {
            waiters.add(w);
            publish();
        }
        grantWaiters();
        return w;
    }

    /** Withdraws a waiter; if it was granted meanwhile, its callback still runs (and must release). */
    public void cancel(Waiter w) {
        boolean removed;
        synchronized (lock) {
            removed = waiters.remove(w);
            publish();
        }
        if (removed) {
            grantWaiters(); // it may have blocked smaller ones behind it
        }
    }

    public void release(long bytes) {
        if (bytes <= 0) {
            return;
        }
        synchronized (lock) {
            reserved -= bytes;
            if (reserved < 0) {
                reserved = 0;
                publish();
                throw new IllegalStateException("message-buffer released more than was reserved");
            }
            publish();
        }
        grantWaiters();
    }

    private void grantWaiters() {
        List<Waiter> granted = null;
        synchronized (lock) {
            while (!waiters.isEmpty() && (waiters.peek().bytes <= capacity - reserved || reserved == 0)) {
                Waiter w = waiters.poll();
                reserved += w.bytes;
                if (granted == null) {
                    granted = new ArrayList<>(2);
                }
                granted.add(w);
            }
            publish();
        }
        if (granted != null) {
            for (Waiter w : granted) {
                w.loop.execute(() -> w.granted.accept(w.bytes));
            }
        }
    }

    private void publish() {
        stats.messageBuffer(reserved, waiters.size());
    }
}
