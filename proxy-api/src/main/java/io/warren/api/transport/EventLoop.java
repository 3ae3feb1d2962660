package io.warren.api.transport;

import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * A single thread that owns a set of connections. Everything a {@link ConnectionHandler} is told happens on its
 * connection's loop; other threads hand work over with {@link #execute}.
 */
public interface EventLoop extends Executor {
    /** Runs {@code task} on this loop, soon; callable from any thread. */
    @Override
    void execute(Runnable task);

    /** Runs {@code task} on this loop after {@code delay}; callable from any thread. */
    Cancellable schedule(Runnable task, long delay, TimeUnit unit);

    /** Whether the calling thread is this loop's thread. */
    boolean inEventLoop();

    /** A scheduled task that can be cancelled; cancelling one that already ran does nothing. */
    interface Cancellable {
        void cancel();
    }
}
