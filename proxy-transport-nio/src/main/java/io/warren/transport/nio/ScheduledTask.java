package io.warren.transport.nio;

import io.warren.api.transport.EventLoop;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A timer of a {@link TimerQueue}. Cancellable from any thread; the task runs on the loop. Its state moves once, from
 * pending to either cancelled or started, so that a cancel after the run does nothing and the queue's count of
 * cancelled entries stays exact.
 */
final class ScheduledTask implements EventLoop.Cancellable, Comparable<ScheduledTask> {
    private final TimerQueue queue;
    private final Runnable task;
    private final long deadlineNanos;
    private final long sequence;
    private static final int PENDING = 0;
    private static final int CANCELLED = 1;
    private static final int STARTED = 2;

    private final AtomicInteger state = new AtomicInteger(PENDING);

    ScheduledTask(TimerQueue queue, Runnable task, long deadlineNanos, long sequence) {
        this.queue = queue;
        this.task = task;
        this.deadlineNanos = deadlineNanos;
        this.sequence = sequence;
    }

    long deadlineNanos() {
        return deadlineNanos;
    }

    boolean isCancelled() {
        return state.get() == CANCELLED;
    }

    /** Moves to started; false if it was cancelled first. Loop only. */
    boolean start() {
        return state.compareAndSet(PENDING, STARTED);
    }

    Runnable task() {
        return task;
    }

    @Override
    public void cancel() {
        if (state.compareAndSet(PENDING, CANCELLED)) {
            queue.cancelled();
        }
    }

    @Override
    public int compareTo(ScheduledTask other) {
        // deadlines are nanoTime values: compare by difference, as nanoTime may overflow
        long diff = deadlineNanos - other.deadlineNanos;
        if (diff != 0) {
            return diff < 0 ? -1 : 1;
        }
        return Long.compare(sequence, other.sequence);
    }
}
