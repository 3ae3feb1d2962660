package io.warren.launcher;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the JDK HTTP server's exchanges, each within a deadline that starts when the server hands it over (the first
 * bytes of a request have arrived) and covers reading the request and writing the response. Past it, the exchange's
 * thread is interrupted, which closes its connection: the server reads and writes through blocking, interruptible
 * channels. Why: the JDK server never times out reading a request's headers ({@code sun.net.httpserver.maxReqTime}
 * does not cover a first request), so with a fixed pool of two threads two clients that sent half a request each
 * held the endpoints, /healthz included, for as long as they stayed connected.
 */
final class DeadlineExecutor implements Executor {
    private static final Logger log = LoggerFactory.getLogger(DeadlineExecutor.class);

    private final ThreadPoolExecutor threads;
    private final ScheduledExecutorService watchdog;
    private final long deadlineNanos;
    private final Set<Running> running = ConcurrentHashMap.newKeySet();

    /** Up to {@code maxThreads} exchanges at once (threads are made on demand and end after 30 s idle). */
    DeadlineExecutor(String threadName, int maxThreads, Duration deadline) {
        this.deadlineNanos = deadline.toNanos();
        this.threads = new ThreadPoolExecutor(maxThreads, maxThreads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> daemon(r, threadName));
        threads.allowCoreThreadTimeOut(true);
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, threadName + "-deadline"));
        long tickMillis = Math.max(10, Math.min(1000, deadline.toMillis() / 4));
        watchdog.scheduleWithFixedDelay(this::interruptOverdue, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public void execute(Runnable exchange) {
        threads.execute(() -> run(exchange));
    }

    private void run(Runnable exchange) {
        Running r = new Running(Thread.currentThread(), System.nanoTime() + deadlineNanos);
        running.add(r);
        try {
            exchange.run();
        } finally {
            running.remove(r);
            r.finish();
            Thread.interrupted(); // a deadline that struck as this exchange ended must not reach the next one
        }
    }

    private void interruptOverdue() {
        long now = System.nanoTime();
        for (Running r : running) {
            if (now - r.deadline > 0 && r.interrupt()) {
                log.debug("HTTP exchange on {} past its deadline: interrupted (its connection closes)", r.thread.getName());
            }
        }
    }

    void shutdownNow() {
        watchdog.shutdownNow();
        threads.shutdownNow();
    }

    /** One exchange on its thread; the lock makes sure no interrupt lands after it finished. */
    private static final class Running {
        final Thread thread;
        final long deadline;
        private boolean finished;
        private boolean interrupted;

        Running(Thread thread, long deadline) {
            this.thread = thread;
            this.deadline = deadline;
        }

        synchronized boolean interrupt() {
            if (finished || interrupted) {
                return false;
            }
            interrupted = true;
            thread.interrupt();
            return true;
        }

        synchronized void finish() {
            finished = true;
        }
    }
}
