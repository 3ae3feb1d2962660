package io.warren.core.internal.limits;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, for each accepted socket, whether the client may stay: within {@code max-connections} and within what the
 * process's file-descriptor limit leaves for clients. A refused client is answered with connection.close 530
 * NOT_ALLOWED at connection.open (where RabbitMQ answers its own per-vhost and per-user connection limits), without
 * logging in upstream; when too many refusals are already in flight its socket is closed at once instead.
 *
 * <p>File descriptors: each client holds one, each upstream connection one. What the process holds when the engine
 * starts (JVM jars, stdio, logs, the event loops' selectors and wake-up pipes) is measured, and {@link #RESERVE} more
 * are kept free: {@link #REFUSALS_IN_FLIGHT} for clients being refused, the rest for what opens later (the listeners
 * and the HTTP endpoint, a handful; HTTP requests, at most 16 at once; log rotation, lazily loaded classes, DNS).
 * Clients are admitted while {@code clients + upstream connections < limit - open at startup - RESERVE}.
 *
 * <p>Thread-safe: called from every event loop.
 */
public final class ClientAdmission {
    private static final Logger log = LoggerFactory.getLogger(ClientAdmission.class);

    /** File descriptors kept free beyond those open at startup. */
    public static final int RESERVE = 64;
    /** Refused clients being answered at the same time; beyond this, refused sockets are closed at once. */
    public static final int REFUSALS_IN_FLIGHT = 32;
    /** At most one refusal log line per this interval. */
    public static final Duration LOG_INTERVAL = Duration.ofSeconds(5);

    /** What happens to one accepted client. */
    public enum Verdict { ADMIT, REFUSE_WITH_530, CLOSE_AT_ONCE }

    private volatile int maxConnections; // 0: unlimited
    private final long fdLimit; // -1: unknown (not a Unix JVM)
    private final long fdOpenAtStart;
    private final LongSupplier upstreamConnections;
    private final AtomicInteger admitted = new AtomicInteger();
    private final AtomicInteger refusing = new AtomicInteger();
    private final RateLimitedCount refusals = new RateLimitedCount(LOG_INTERVAL.toNanos());

    public ClientAdmission(int maxConnections, long fdLimit, long fdOpenAtStart, LongSupplier upstreamConnections) {
        this.maxConnections = maxConnections;
        this.fdLimit = fdLimit;
        this.fdOpenAtStart = fdOpenAtStart;
        this.upstreamConnections = upstreamConnections;
    }

    /** Reads this process's file-descriptor limit and how many it holds now. */
    public static ClientAdmission forThisProcess(int maxConnections, LongSupplier upstreamConnections) {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof UnixOperatingSystemMXBean unix) {
            return new ClientAdmission(maxConnections, unix.getMaxFileDescriptorCount(),
                    unix.getOpenFileDescriptorCount(), upstreamConnections);
        }
        return new ClientAdmission(maxConnections, -1, 0, upstreamConnections);
    }

    /**
     * A reload changed {@code max-connections}: the next client is admitted against it. Clients connected beyond a
     * lowered limit stay (refusing new ones is how the count comes down).
     */
    public void setMaxConnections(int max) {
        if (max < 0) {
            throw new IllegalArgumentException("maxConnections must not be negative, got " + max);
        }
        maxConnections = max;
    }

    /** Descriptors left for clients and upstream connections together; {@code Long.MAX_VALUE} when unknown. */
    public long fdCapacity() {
        return fdLimit < 0 ? Long.MAX_VALUE : Math.max(0, fdLimit - fdOpenAtStart - RESERVE);
    }

    /** The startup line: the limit and how many clients it allows. */
    public String describe() {
        String max = maxConnections == 0 ? "max-connections unlimited" : "max-connections " + maxConnections;
        if (fdLimit < 0) {
            return "File-descriptor limit unknown on this platform; " + max;
        }
        return "File-descriptor limit " + fdLimit + ": " + fdOpenAtStart + " open at startup, " + RESERVE
                + " kept free (listeners, HTTP endpoint and requests, logs, class loading; " + REFUSALS_IN_FLIGHT
                + " of them for refusing clients),"
                + " room for " + fdCapacity() + " clients (one descriptor each, less one per upstream connection); "
                + max + "; clients beyond get connection.close 530";
    }

    /**
     * Called once per accepted socket, before its handler exists. An admitted client must call {@link #left} when
     * it goes, a client refused with 530 {@link #refusalDone}.
     */
    public Decision admit() {
        int clients = admitted.incrementAndGet();
        long upstream = upstreamConnections.getAsLong();
        int maxConnections = this.maxConnections;
        String text;
        String why;
        if (maxConnections > 0 && clients > maxConnections) {
            text = "NOT_ALLOWED - connection limit (" + maxConnections + ") is reached";
            why = "max-connections " + maxConnections + " reached";
        } else if (clients + upstream + refusing.get() > fdCapacity()) {
            text = "NOT_ALLOWED - connection limit (" + fdCapacity() + ", set by the file-descriptor limit "
                    + fdLimit + ") is reached";
            why = "the file-descriptor limit " + fdLimit + " leaves room for " + fdCapacity()
                    + " clients and upstream connections; " + (clients - 1) + " clients and " + upstream
                    + " upstream connections are open";
        } else {
            return Decision.ADMITTED;
        }
        admitted.decrementAndGet();
        long since = refusals.add();
        if (since > 0) {
            log.warn("Refused {} client(s) since the last report: {}", since, why);
        }
        if (refusing.incrementAndGet() > REFUSALS_IN_FLIGHT) {
            refusing.decrementAndGet();
            return new Decision(Verdict.CLOSE_AT_ONCE, text);
        }
        return new Decision(Verdict.REFUSE_WITH_530, text);
    }

    /** The verdict on one client, and the reply text of its connection.close when refused. */
    public record Decision(Verdict verdict, String closeText) {
        static final Decision ADMITTED = new Decision(Verdict.ADMIT, "");
    }

    /** A client admitted by {@link #admit} has gone. */
    public void left() {
        admitted.decrementAndGet();
    }

    /** A client refused with 530 has gone. */
    public void refusalDone() {
        refusing.decrementAndGet();
    }

    public int admittedClients() {
        return admitted.get();
    }

    /**
     * Counts events and says when to report them: at most once per interval, with the number since the last report.
     */
    public static final class RateLimitedCount {
        private final long intervalNanos;
        private long pending; // guarded by this
        private long lastReportNanos; // guarded by this
        private boolean reported; // guarded by this

        RateLimitedCount(long intervalNanos) {
            this.intervalNanos = intervalNanos;
        }

        /** Counts one event; returns how many to report now (this one included), or 0 to stay quiet. */
        synchronized long add() {
            return add(System.nanoTime());
        }

        synchronized long add(long nowNanos) {
            pending++;
            if (reported && nowNanos - lastReportNanos < intervalNanos) {
                return 0;
            }
            reported = true;
            lastReportNanos = nowNanos;
            long n = pending;
            pending = 0;
            return n;
        }
    }
}
