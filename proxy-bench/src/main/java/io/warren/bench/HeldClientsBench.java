package io.warren.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Many long-lived idle clients (issue 8's benchmark): open {@code --clients} AMQP connections with one channel each,
 * hold them {@code --hold-seconds} with a {@code --heartbeat} second heartbeat, then close them; straight to the
 * broker ({@code direct}) and through a Warren daemon running as its own process ({@code warren}), one after the
 * other in one run. The clients are {@link HeldClients}: one thread, one selector, every socket.
 *
 * <p>Reported per mode: open time (first TCP connect to the last channel.open-ok, at most {@code --in-flight}
 * handshakes at once) with handshake percentiles, close time (connection.close sent to every close-ok), connections
 * and channels the broker holds (rabbitmqctl list_connections), the broker's RSS growth, clients alive at the end of
 * the hold with the heartbeats each received and the longest silence each saw; for Warren, RSS and heap after a full
 * GC (jcmd GC.run) before and with the clients connected, and their difference per client. Ratios direct / Warren
 * from the same run; the goals of issue 8 are checked at the end.
 *
 * <p>Run it with {@code proxy-bench/scripts/held-clients.sh}, which raises the file limit, starts the Warren daemon
 * from the distribution and passes the process ids. Options: --broker-host (127.0.0.1) --broker-port (5672)
 * --warren-port (0: no warren mode) --warren-pid (0: no Warren memory) --broker-pid (0: no broker RSS)
 * --rabbitmq-node (empty: no rabbitmqctl counts) --modes (direct,warren) --clients (10000) --hold-seconds (600)
 * --heartbeat (60; what the clients ask for, each side takes the lower non-zero value) --in-flight (100)
 * --warmup (200 clients opened and closed per mode before the "before" figures: JIT, class loading, the upstream
 * pool) --settle-seconds (5: pause after the warm-up and after closing) --handshake-timeout-seconds (60)
 * --close-timeout-seconds (300) --histogram (0: lines of Warren's live-object histogram printed with the clients
 * held) --user/--password (guest).
 */
public final class HeldClientsBench {
    private HeldClientsBench() {}

    /** Figures of one mode. */
    private static final class ModeResult {
        String mode;
        int clients;
        double openSeconds;
        Stats handshake;
        HeldClients.Summary opened;
        HeldClients.Summary held;
        double closeSeconds;
        int closedOk;
        ProcessProbe.JvmMemory warrenFresh;
        ProcessProbe.JvmMemory warrenBefore;
        ProcessProbe.JvmMemory warrenOpened;
        ProcessProbe.JvmMemory warrenHeld;
        ProcessProbe.JvmMemory warrenAfterClose;
        long brokerRssBefore;
        long brokerRssOpened;
        long brokerRssHeld;
        ProcessProbe.BrokerConnections connsBefore;
        ProcessProbe.BrokerConnections connsHeld;
        ProcessProbe.BrokerConnections connsAfterClose;
    }

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        String host = a.value("broker-host", "127.0.0.1");
        int brokerPort = a.intValue("broker-port", 5672);
        int warrenPort = a.intValue("warren-port", 0);
        long warrenPid = a.longValue("warren-pid", 0);
        long brokerPid = a.longValue("broker-pid", 0);
        String node = a.value("rabbitmq-node", "");
        List<String> modes = List.of(a.value("modes", warrenPort > 0 ? "direct,warren" : "direct").split(","));
        int clients = a.intValue("clients", 10_000);
        int holdSeconds = a.intValue("hold-seconds", 600);
        int heartbeat = a.intValue("heartbeat", 60);
        int inFlight = a.intValue("in-flight", 100);
        int warmup = a.intValue("warmup", 200);
        int settleSeconds = a.intValue("settle-seconds", 5);
        int handshakeTimeout = a.intValue("handshake-timeout-seconds", 60);
        int closeTimeout = a.intValue("close-timeout-seconds", 300);
        int histogram = a.intValue("histogram", 0);
        String user = a.value("user", "guest");
        String password = a.value("password", "guest");
        a.done();
        for (String m : modes) {
            if (!m.equals("direct") && !m.equals("warren")) {
                throw new IllegalArgumentException("unknown mode " + m + "; known: direct, warren");
            }
            if (m.equals("warren") && warrenPort <= 0) {
                throw new IllegalArgumentException("the warren mode needs --warren-port");
            }
        }
        if (clients <= 0 || inFlight <= 0 || holdSeconds < 0 || heartbeat < 0) {
            throw new IllegalArgumentException("--clients and --in-flight must be positive, --hold-seconds and "
                    + "--heartbeat not negative");
        }
        System.out.printf(Locale.ROOT, "HeldClientsBench %s: %d clients (1 channel each), hold %d s, heartbeat %d s "
                + "asked, %d handshakes in flight at most, %d warm-up clients; broker %s:%d (pid %d, node %s), "
                + "Warren 127.0.0.1:%d (pid %d); %d CPUs, %s; modes %s%n", Instant.now(), clients, holdSeconds,
                heartbeat, inFlight, warmup, host, brokerPort, brokerPid, node, warrenPort, warrenPid,
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.version"), modes);

        Map<String, ModeResult> results = new LinkedHashMap<>();
        for (String mode : modes) {
            boolean viaWarren = mode.equals("warren");
            InetSocketAddress target = viaWarren ? new InetSocketAddress("127.0.0.1", warrenPort)
                    : new InetSocketAddress(host, brokerPort);
            ModeResult r = new ModeResult();
            r.mode = mode;
            r.clients = clients;
            long wpid = viaWarren ? warrenPid : 0;
            System.out.printf(Locale.ROOT, "%n== %s: %s ==%n", mode, target);
            if (wpid > 0) {
                r.warrenFresh = sampleWarren(wpid, "Warren before any client", 0);
            }
            if (warmup > 0) {
                try (HeldClients warm = new HeldClients(target, user, password, heartbeat, inFlight,
                        TimeUnit.SECONDS.toMillis(handshakeTimeout), mode + "-warmup")) {
                    warm.open(warmup).get();
                    HeldClients.Summary s = warm.call(warm::summary);
                    warm.closeAll(TimeUnit.SECONDS.toMillis(closeTimeout)).get();
                    System.out.printf(Locale.ROOT, "warm-up: %d of %d opened and closed%s%n", s.opened(), warmup,
                            s.failures().isEmpty() ? "" : "; failures " + s.failures());
                }
                TimeUnit.SECONDS.sleep(settleSeconds);
            }
            if (wpid > 0) {
                r.warrenBefore = sampleWarren(wpid, "Warren after warm-up, no client", histogram);
            }
            r.brokerRssBefore = brokerPid > 0 ? ProcessProbe.rssKiB(brokerPid) : 0;
            r.connsBefore = node.isEmpty() ? null : ProcessProbe.brokerConnections(node);
            System.out.printf(Locale.ROOT, "broker before: RSS %,d KiB, %s%n", r.brokerRssBefore, r.connsBefore);

            try (HeldClients fleet = new HeldClients(target, user, password, heartbeat, inFlight,
                    TimeUnit.SECONDS.toMillis(handshakeTimeout), mode)) {
                long t0 = System.nanoTime();
                long openedAt = fleet.open(clients).get();
                r.openSeconds = (openedAt - t0) / 1e9;
                r.opened = fleet.call(fleet::summary);
                double[] hs = fleet.call(fleet::handshakeMillis);
                r.handshake = hs.length == 0 ? null : Stats.of(hs);
                System.out.printf(Locale.ROOT, "opened %d of %d in %.2f s (%.0f clients/s); handshake ms %s%s%n",
                        r.opened.opened(), clients, r.openSeconds, r.opened.opened() / r.openSeconds,
                        r.handshake == null ? "-" : String.format(Locale.ROOT, "p50 %.1f p99 %.1f max %.1f",
                                r.handshake.p50(), r.handshake.p99(), r.handshake.max()),
                        r.opened.failures().isEmpty() ? "" : "; failures " + r.opened.failures());
                if (wpid > 0) {
                    r.warrenOpened = sampleWarren(wpid, "Warren with the clients opened", 0);
                }
                r.brokerRssOpened = brokerPid > 0 ? ProcessProbe.rssKiB(brokerPid) : 0;
                System.out.printf(Locale.ROOT, "broker with the clients opened: RSS %,d KiB%n", r.brokerRssOpened);

                long holdEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(holdSeconds);
                long left;
                while ((left = holdEnd - System.nanoTime()) > 0) {
                    TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.SECONDS.toNanos(60)));
                    HeldClients.Summary s = fleet.call(fleet::summary);
                    System.out.printf(Locale.ROOT, "  holding: %d alive, %d failed, %d heartbeats received so far, "
                            + "longest silence %.1f s%n", s.alive(), s.failed(), s.heartbeatsTotal(),
                            s.longestSilenceSeconds());
                }
                r.held = fleet.call(fleet::summary);
                System.out.printf(Locale.ROOT, "after the hold: %d of %d alive; heartbeats received per alive client "
                        + "min %d median %d max %d; longest silence %.1f s (%d alive clients silent > 2 intervals); "
                        + "heartbeat negotiated %d..%d s%s%n", r.held.alive(), clients, r.held.heartbeatsMin(),
                        r.held.heartbeatsMedian(), r.held.heartbeatsMax(), r.held.longestSilenceSeconds(),
                        r.held.silentOverTwoIntervals(), r.held.negotiatedHeartbeatMin(),
                        r.held.negotiatedHeartbeatMax(),
                        r.held.failures().isEmpty() ? "" : "; failures " + r.held.failures());
                if (wpid > 0) {
                    r.warrenHeld = sampleWarren(wpid, "Warren with the clients held", histogram);
                }
                r.brokerRssHeld = brokerPid > 0 ? ProcessProbe.rssKiB(brokerPid) : 0;
                r.connsHeld = node.isEmpty() ? null : ProcessProbe.brokerConnections(node);
                System.out.printf(Locale.ROOT, "broker with the clients held: RSS %,d KiB, %s%n", r.brokerRssHeld,
                        r.connsHeld);

                long t1 = System.nanoTime();
                long closedAt = fleet.closeAll(TimeUnit.SECONDS.toMillis(closeTimeout)).get();
                r.closeSeconds = (closedAt - t1) / 1e9;
                HeldClients.Summary after = fleet.call(fleet::summary);
                r.closedOk = after.closed();
                System.out.printf(Locale.ROOT, "closed: %d close-oks in %.2f s%s%n", r.closedOk, r.closeSeconds,
                        after.failed() == r.held.failed() ? "" : "; failures " + after.failures());
            }
            TimeUnit.SECONDS.sleep(settleSeconds);
            r.connsAfterClose = node.isEmpty() ? null : ProcessProbe.brokerConnections(node);
            System.out.printf(Locale.ROOT, "broker %d s after closing: %s%n", settleSeconds, r.connsAfterClose);
            if (wpid > 0) {
                r.warrenAfterClose = sampleWarren(wpid, "Warren after closing", 0);
            }
            results.put(mode, r);
        }
        report(results, clients, holdSeconds, heartbeat);
    }

    /** Warren's memory after a GC, printed; with {@code histogram} > 0 also its top classes by live bytes. */
    private static ProcessProbe.JvmMemory sampleWarren(long pid, String what, int histogram)
            throws IOException, InterruptedException {
        ProcessProbe.JvmMemory m = ProcessProbe.jvmAfterGc(pid);
        System.out.printf(Locale.ROOT, "%s (after GC.run): RSS %,d KiB, heap used %,d KiB of %,d KiB committed%n",
                what, m.rssKiB(), m.heap().usedKiB(), m.heap().committedKiB());
        if (histogram > 0) {
            System.out.print(ProcessProbe.histogram(pid, histogram));
        }
        return m;
    }

    private static void report(Map<String, ModeResult> results, int clients, int holdSeconds, int heartbeat) {
        System.out.printf(Locale.ROOT, "%n== summary: %d clients, hold %d s, heartbeat %d s ==%n", clients,
                holdSeconds, heartbeat);
        System.out.println("| mode | opened | open s | handshake p50 / p99 ms | alive after hold | heartbeats per client "
                + "min / median / max | longest silence s | close s | broker conns / channels held | "
                + "broker RSS growth (opened / held) |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (ModeResult r : results.values()) {
            System.out.printf(Locale.ROOT, "| %s | %d | %.2f | %s | %d / %d | %d / %d / %d | %.1f | %.2f | %s | %s |%n",
                    r.mode, r.opened.opened(), r.openSeconds,
                    r.handshake == null ? "-" : String.format(Locale.ROOT, "%.1f / %.1f", r.handshake.p50(),
                            r.handshake.p99()),
                    r.held.alive(), clients, r.held.heartbeatsMin(), r.held.heartbeatsMedian(),
                    r.held.heartbeatsMax(), r.held.longestSilenceSeconds(), r.closeSeconds,
                    r.connsHeld == null ? "-" : r.connsHeld.connections() + " / " + r.connsHeld.channels(),
                    r.brokerRssBefore == 0 ? "-" : String.format(Locale.ROOT, "%,d / %,d KiB",
                            r.brokerRssOpened - r.brokerRssBefore, r.brokerRssHeld - r.brokerRssBefore));
        }
        ModeResult d = results.get("direct");
        ModeResult w = results.get("warren");
        if (w != null && w.warrenHeld != null) {
            double rssPer = (w.warrenHeld.rssKiB() - w.warrenBefore.rssKiB()) * 1024.0 / clients;
            double heapPer = (w.warrenHeld.heap().usedKiB() - w.warrenBefore.heap().usedKiB()) * 1024.0 / clients;
            double rssPerOpened = (w.warrenOpened.rssKiB() - w.warrenBefore.rssKiB()) * 1024.0 / clients;
            double heapPerOpened = (w.warrenOpened.heap().usedKiB() - w.warrenBefore.heap().usedKiB()) * 1024.0
                    / clients;
            double rssPerFresh = (w.warrenHeld.rssKiB() - w.warrenFresh.rssKiB()) * 1024.0 / clients;
            System.out.printf(Locale.ROOT, "Warren per idle client, end of hold minus after warm-up: RSS %.0f bytes, "
                    + "heap after GC %.0f bytes (right after opening: RSS %.0f, heap %.0f; RSS against the fresh "
                    + "daemon: %.0f)%n", rssPer, heapPer, rssPerOpened, heapPerOpened, rssPerFresh);
            System.out.printf(Locale.ROOT, "Warren RSS: fresh %,d KiB, after warm-up %,d KiB, clients held %,d KiB, "
                    + "after closing %,d KiB; heap used after GC: %,d / %,d / %,d / %,d KiB%n",
                    w.warrenFresh.rssKiB(), w.warrenBefore.rssKiB(), w.warrenHeld.rssKiB(),
                    w.warrenAfterClose.rssKiB(), w.warrenFresh.heap().usedKiB(), w.warrenBefore.heap().usedKiB(),
                    w.warrenHeld.heap().usedKiB(), w.warrenAfterClose.heap().usedKiB());
            System.out.printf(Locale.ROOT, "goal <= 12 KB (12,288 bytes) of Warren memory per idle client: RSS %s, "
                    + "heap %s%n", rssPer <= 12_288 ? "met" : "NOT met", heapPer <= 12_288 ? "met" : "NOT met");
        }
        if (d != null && w != null) {
            System.out.printf(Locale.ROOT, "open: direct %.2f s, Warren %.2f s: direct / Warren = %.2fx (goal >= 2x: "
                    + "%s)%n", d.openSeconds, w.openSeconds, d.openSeconds / w.openSeconds,
                    d.openSeconds / w.openSeconds >= 2 ? "met" : "NOT met");
            System.out.printf(Locale.ROOT, "close: direct %.2f s, Warren %.2f s: direct / Warren = %.2fx%n",
                    d.closeSeconds, w.closeSeconds, d.closeSeconds / w.closeSeconds);
        }
        for (ModeResult r : results.values()) {
            System.out.printf(Locale.ROOT, "%s: %d of %d alive after the hold (goal %d of %d: %s)%n", r.mode,
                    r.held.alive(), clients, clients, clients, r.held.alive() == clients ? "met" : "NOT met");
        }
    }
}
