package io.warren.launcher;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT handling, and SIGHUP for a reload. The JVM's own handling of these signals runs shutdown hooks and exits with 143 or 130,
 * with no way to wait for clients first and exit 0; so Warren takes both signals over with {@link Signal} (in module
 * jdk.unsupported, present in every JDK and JRE since 9). The first signal wakes the main thread, which drains and
 * exits; a second one halts the process at once with 128 + the signal number.
 */
final class Shutdown {
    private final CountDownLatch requested = new CountDownLatch(1);
    private final AtomicReference<String> reason = new AtomicReference<>();
    private final List<String> ignored = new ArrayList<>();
    private volatile Runnable onHangup;
    private boolean hangupIgnored;

    private Shutdown() {}

    static Shutdown install() {
        Shutdown s = new Shutdown();
        for (String name : new String[] {"TERM", "INT"}) {
            // A signal ignored when the process started (as for a background job of a script) stays ignored: the JVM
            // leaves it so, as POSIX asks, and says so by returning SIG_IGN.
            if (Signal.handle(new Signal(name), s::onSignal) == SignalHandler.SIG_IGN) {
                s.ignored.add("SIG" + name);
            }
        }
        // SIGHUP reloads the configuration (the JVM's own handler would shut down); a HUP ignored at start (nohup)
        // stays ignored, as POSIX asks: then only POST /admin/reload reloads.
        s.hangupIgnored = Signal.handle(new Signal("HUP"), sig -> s.onHangup()) == SignalHandler.SIG_IGN;
        return s;
    }

    /** Whether SIGHUP was ignored when the process started, so that it cannot ask for a reload. */
    boolean hangupIgnored() {
        return hangupIgnored;
    }

    /** What SIGHUP does from now on (nothing before: a HUP during start is dropped). */
    void onHangup(Runnable action) {
        onHangup = action;
    }

    private void onHangup() {
        Runnable r = onHangup;
        if (r != null) {
            r.run();
        }
    }

    /** The signals that were ignored when the process started, and so cannot stop it. */
    List<String> ignoredSignals() {
        return List.copyOf(ignored);
    }

    private void onSignal(Signal signal) {
        if (!reason.compareAndSet(null, "SIG" + signal.getName())) {
            System.err.println("warren: second signal (SIG" + signal.getName() + "), exiting now");
            Runtime.getRuntime().halt(128 + signal.getNumber());
        }
        requested.countDown();
    }

    /** Asks for the same orderly shutdown as a first signal. */
    void request(String why) {
        reason.compareAndSet(null, why);
        requested.countDown();
    }

    /** Blocks until a shutdown is requested; returns what asked for it (e.g. SIGTERM). */
    String await() {
        boolean interrupted = false;
        while (true) {
            try {
                requested.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return reason.get();
    }
}
