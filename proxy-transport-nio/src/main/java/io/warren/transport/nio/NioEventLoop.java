package io.warren.transport.nio;

import io.warren.api.transport.EventLoop;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One selector thread. It owns the connections and listeners registered with its selector, a task queue (any thread
 * may {@link #execute}), a {@link TimerQueue}, one read buffer shared by all its connections and one scratch array
 * for gathering writes.
 *
 * <p>Each iteration: select (without blocking when tasks are queued; otherwise until the next timer), dispatching
 * each ready key from inside the select call (a failure closes that connection only), run due timers, run queued
 * tasks (a bounded number, so that a task that re-queues itself cannot starve the sockets).
 *
 * <p>Wakeups: a thread that queues a task calls {@link Selector#wakeup()} only when the loop is (about to be) blocked
 * in select, signalled by the {@code sleeping} flag; the loop checks the task queue after raising the flag, so a
 * task is never left waiting for the next timer.
 */
final class NioEventLoop implements EventLoop, Runnable {
    private static final Logger log = LoggerFactory.getLogger(NioEventLoop.class);
    private static final int MAX_TASKS_PER_ITERATION = 1024;

    private enum State { RUNNING, SHUTTING_DOWN, TERMINATED }

    private final String name;
    private final LoopConfig config;
    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean sleeping = new AtomicBoolean();
    private final Consumer<SelectionKey> dispatch = this::dispatch; // one instance, not one per select
    private final TimerQueue timers = new TimerQueue(); // loop only, except ScheduledTask.cancel
    /** Made once: a capturing lambda per loop iteration is an allocation each without C2's escape analysis. */
    private final Consumer<Throwable> timerFailed = t -> log.error("{}: timer task failed", name(), t);
    private final ByteBuffer readBuffer; // loop only: lent to one handler at a time, during onRead
    private final ByteBuffer[] gatherScratch; // loop only: the argument of gathering writes
    private final TlsBufferPool tlsBuffers = new TlsBufferPool(); // loop only
    private final Set<NioConnection> withBufferedBytes = new LinkedHashSet<>(); // loop only: TLS bytes decrypted
    private volatile State state = State.RUNNING;
    /** Accepted connections assigned to this loop and not yet closed: what the listener spreads new ones by. */
    private final AtomicInteger acceptedOpen = new AtomicInteger();

    NioEventLoop(int index, LoopConfig config) throws IOException {
        this.name = "warren-loop-" + index;
        this.config = config;
        this.selector = Selector.open();
        this.readBuffer = ByteBuffer.allocateDirect(config.readBufferSize());
        this.gatherScratch = new ByteBuffer[config.gatherLimit()];
        this.thread = new Thread(this, name);
        this.thread.setDaemon(false);
    }

    void start() {
        thread.start();
    }

    /** Accepted connections assigned to this loop and not closed yet (any thread). */
    int acceptedOpen() {
        return acceptedOpen.get();
    }

    /** An accepted connection was assigned to this loop (by the acceptor loop, before handing it over). */
    void acceptedAssigned() {
        acceptedOpen.incrementAndGet();
    }

    /** One of this loop's accepted connections closed. */
    void acceptedReleased() {
        acceptedOpen.decrementAndGet();
    }

    /** Releases the selector of a loop whose thread was never started. */
    void closeUnstarted() {
        state = State.TERMINATED;
        try {
            selector.close();
        } catch (IOException e) {
            log.warn("{}: closing the selector failed", name, e);
        }
    }

    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        tasks.offer(task);
        // the loop drains the queue once more after TERMINATED (including what it queues itself): a task queued by
        // another thread that this last drain could miss is still in the queue here
        if (state == State.TERMINATED && !inEventLoop() && tasks.remove(task)) {
            throw new RejectedExecutionException(name + " is shut down");
        }
        if (!inEventLoop()) {
            wakeupIfSleeping();
        }
    }

    @Override
    public EventLoop.Cancellable schedule(Runnable task, long delay, TimeUnit unit) {
        Objects.requireNonNull(task, "task");
        long deadline = System.nanoTime() + Math.max(0, unit.toNanos(delay));
        ScheduledTask timer = timers.newTimer(task, deadline);
        if (inEventLoop()) {
            timers.add(timer);
        } else {
            execute(() -> timers.add(timer));
        }
        return timer;
    }

    @Override
    public boolean inEventLoop() {
        return Thread.currentThread() == thread;
    }

    @Override
    public String toString() {
        return name;
    }

    String name() {
        return name;
    }

    LoopConfig config() {
        return config;
    }

    Selector selector() {
        assert inEventLoop();
        return selector;
    }

    ByteBuffer readBuffer() {
        assert inEventLoop();
        return readBuffer;
    }

    /** Whether {@code buffer} is this loop's read buffer (which a handler must never hand to write()). */
    boolean isReadBuffer(ByteBuffer buffer) {
        return buffer == readBuffer;
    }

    /** The TLS buffer pool of this loop's connections (handed to a connection's layer; used on the loop only). */
    TlsBufferPool tlsBuffers() {
        return tlsBuffers;
    }

    /**
     * Marks (or unmarks) a connection whose TLS layer holds decrypted bytes that the socket will not signal: while any
     * is marked the loop selects without waiting and serves them after the selected keys. Loop only.
     */
    void setBuffered(NioConnection connection, boolean buffered) {
        assert inEventLoop();
        if (buffered) {
            withBufferedBytes.add(connection);
        } else if (!withBufferedBytes.isEmpty()) {
            withBufferedBytes.remove(connection);
        }
    }

    ByteBuffer[] gatherScratch() {
        assert inEventLoop();
        return gatherScratch;
    }

    /** True once shutdown has begun: new connections must not be registered. */
    boolean isShuttingDown() {
        return state != State.RUNNING;
    }

    boolean isTerminated() {
        return state == State.TERMINATED;
    }

    /** Asks the loop to close everything it owns and stop. Any thread; idempotent. */
    void shutdown() {
        if (state == State.RUNNING) {
            state = State.SHUTTING_DOWN;
            selector.wakeup();
        }
    }

    /** Waits for the thread to end; false if it did not end within {@code millis}. */
    boolean awaitTermination(long millis) throws InterruptedException {
        thread.join(millis);
        return !thread.isAlive();
    }

    @Override
    public void run() {
        log.debug("{} started", name);
        try {
            while (state == State.RUNNING) {
                runOnce();
            }
        } catch (Throwable t) {
            log.error("{} failed; closing its connections", name, t);
        } finally {
            closeEverything();
            log.debug("{} stopped", name);
        }
    }

    private void runOnce() {
        try {
            select();
        } catch (IOException e) {
            log.warn("{}: select failed", name, e);
        }
        processBufferedBytes();
        timers.runDue(System.nanoTime(), timerFailed);
        runTasks(MAX_TASKS_PER_ITERATION);
    }

    /** Selects and dispatches the ready keys from inside the select call: no selected-key set, no iterator. */
    private void select() throws IOException {
        if (!tasks.isEmpty() || !withBufferedBytes.isEmpty()) {
            selector.selectNow(dispatch);
            return;
        }
        long timeoutNanos = timers.nanosToNext(System.nanoTime());
        sleeping.set(true);
        try {
            if (!tasks.isEmpty() || state != State.RUNNING || timeoutNanos == 0) {
                selector.selectNow(dispatch);
            } else if (timeoutNanos == Long.MAX_VALUE) {
                selector.select(dispatch, 0); // 0: no timeout
            } else {
                selector.select(dispatch, Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos + 999_999)));
            }
        } finally {
            sleeping.set(false);
        }
    }

    private void wakeupIfSleeping() {
        if (sleeping.compareAndSet(true, false)) {
            selector.wakeup();
        }
    }

    /**
     * One ready key, called by the selector once the wait is over. The loop is awake from the first key on: clearing
     * {@code sleeping} here, as the end of select did before, spares other threads a wake-up that would only make the
     * next select return at once (tasks they queue now run after the keys). Never throws: a failure closes its key's
     * target only, and an exception out of the action would drop the rest of the batch.
     */
    private void dispatch(SelectionKey key) {
        if (sleeping.get()) {
            sleeping.set(false);
        }
        Selectable target = (Selectable) key.attachment();
        int readyOps;
        try {
            readyOps = key.readyOps();
        } catch (CancelledKeyException e) {
            return; // closed by an earlier key's handler in this same batch
        }
        try {
            target.onSelected(readyOps);
        } catch (Throwable t) {
            failSafely(target, t);
        }
    }

    private void processBufferedBytes() {
        if (withBufferedBytes.isEmpty()) {
            return;
        }
        for (NioConnection c : withBufferedBytes.toArray(new NioConnection[0])) {
            try {
                c.onBufferedBytes();
            } catch (Throwable t) {
                failSafely(c, t);
            }
        }
    }

    private void failSafely(Selectable target, Throwable t) {
        try {
            target.onFailure(t);
        } catch (Throwable again) {
            log.error("{}: closing {} after a failure failed", name, target, again);
        }
    }

    /** Runs at most {@code max} queued tasks; returns how many ran. */
    private int runTasks(int max) {
        int ran = 0;
        Runnable task;
        while (ran < max && (task = tasks.poll()) != null) {
            ran++;
            try {
                task.run();
            } catch (Throwable t) {
                log.error("{}: task failed", name, t);
            }
        }
        return ran;
    }

    /** Runs queued tasks, and the tasks they queue, a bounded number of rounds (a task may re-queue itself forever). */
    private void drainTasksAtShutdown() {
        for (int round = 0; round < 16 && runTasks(Integer.MAX_VALUE) > 0; round++) {
            // keep going while tasks queue tasks
        }
    }

    /**
     * Shutdown, on the loop: run what is queued (registrations see {@link #isShuttingDown()} and fail their
     * connections), close every registered connection and listener, refuse new tasks, run what slipped in, close the
     * selector.
     */
    private void closeEverything() {
        state = State.SHUTTING_DOWN;
        IOException cause = new IOException("transport shut down");
        drainTasksAtShutdown();
        List<Selectable> owned = new ArrayList<>();
        try {
            for (SelectionKey key : selector.keys()) {
                owned.add((Selectable) key.attachment());
            }
        } catch (ClosedSelectorException ignored) {
            // nothing registered any more
        }
        for (Selectable s : owned) {
            try {
                s.onLoopShutdown(cause);
            } catch (Throwable t) {
                log.error("{}: closing {} at shutdown failed", name, s, t);
            }
        }
        state = State.TERMINATED;
        drainTasksAtShutdown(); // tasks queued before TERMINATED was visible to execute()
        timers.clear();
        try {
            selector.close();
        } catch (IOException e) {
            log.warn("{}: closing the selector failed", name, e);
        }
    }
}
