package io.warren.transport.nio;

import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The timers of one event loop, by deadline (ties in scheduling order). Loop only, except {@link #cancelled()}.
 * Cancelled timers are removed lazily: skipped when they reach the head, and purged in bulk when they make up most
 * of the queue (heartbeat timers are rescheduled constantly, so eager O(n) removal would not pay).
 */
final class TimerQueue {
    private static final int PURGE_THRESHOLD = 1024;

    private final PriorityQueue<ScheduledTask> queue = new PriorityQueue<>();
    private final AtomicInteger cancelledCount = new AtomicInteger();
    private long nextSequence;

    /** Creates a timer; {@link #add} it on the loop. Any thread. */
    ScheduledTask newTimer(Runnable task, long deadlineNanos) {
        synchronized (this) { // guards nextSequence, the only field newTimer touches
            return new ScheduledTask(this, task, deadlineNanos, nextSequence++);
        }
    }

    void add(ScheduledTask timer) {
        if (timer.isCancelled()) {
            cancelledCount.decrementAndGet(); // it never enters the queue
        } else {
            queue.add(timer);
        }
    }

    /** Nanoseconds until the next live timer (0 if due), or {@code Long.MAX_VALUE} if there is none. */
    long nanosToNext(long now) {
        dropCancelledHead();
        ScheduledTask head = queue.peek();
        return head == null ? Long.MAX_VALUE : Math.max(0, head.deadlineNanos() - now);
    }

    /** Runs the live timers due at {@code now}; failures go to {@code onFailure}, the rest still run. */
    void runDue(long now, Consumer<Throwable> onFailure) {
        purgeIfMostlyCancelled();
        ScheduledTask head;
        while ((head = queue.peek()) != null && head.deadlineNanos() - now <= 0) {
            queue.poll();
            if (!head.start()) {
                cancelledCount.decrementAndGet();
                continue;
            }
            try {
                head.task().run();
            } catch (Throwable t) {
                onFailure.accept(t);
            }
        }
    }

    void clear() {
        queue.clear();
        cancelledCount.set(0);
    }

    int size() {
        return queue.size();
    }

    /** Called once by a pending timer when it is cancelled (it is in the queue or about to be added). Any thread. */
    void cancelled() {
        cancelledCount.incrementAndGet();
    }

    private void dropCancelledHead() {
        ScheduledTask head;
        while ((head = queue.peek()) != null && head.isCancelled()) {
            queue.poll();
            cancelledCount.decrementAndGet();
        }
    }

    private void purgeIfMostlyCancelled() {
        int cancelled = cancelledCount.get();
        if (cancelled > PURGE_THRESHOLD && cancelled > queue.size() / 2) {
            int before = queue.size();
            queue.removeIf(ScheduledTask::isCancelled);
            cancelledCount.addAndGet(-(before - queue.size()));
        }
    }
}
