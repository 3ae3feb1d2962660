package io.warren.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Profiles the Warren daemon over a measured stretch of work, after a warm-up, so the profile shows the steady state
 * (or, with {@code --warmup 0}, the first clients after start). The daemon is the distribution's {@code bin/warren}
 * ({@link ProxyProcess#warren}); the work is short-lived clients ({@link ShortLivedClients}), the 1p1c flow
 * ({@link MessageFlow}), or held connections opened and closed ({@link HeldClients}, a channel each, as
 * {@link CpuPerWorkBench}'s storm). Profilers, attached for the measured stretch only:
 *
 * <ul>
 *   <li>{@code jfr}: {@code jcmd PID JFR.start settings=profile}, plus {@code jdk.ThreadAllocationStatistics} every
 *       second; summarised by {@link JfrSummary} (CPU samples of the event loops, allocation per unit);</li>
 *   <li>{@code async}: async-profiler ({@code --async-lib}, the libasyncProfiler.so of the
 *       {@code tools.profiler:async-profiler} jar from Maven Central) loaded with {@code jcmd PID JVMTI.agent_load}
 *       (its options in double quotes: jcmd would read their {@code =} as its own),
 *       CPU samples with kernel frames, written as collapsed stacks;</li>
 *   <li>{@code strace}: {@code strace -f -c} on every thread of the daemon, and {@code strace -f -ff} for per-thread
 *       syscall counts (which thread reads, writes and wakes which); divided by the units of work;</li>
 *   <li>{@code none}: only the CPU time per unit.</li>
 * </ul>
 *
 * <pre>java -cp proxy-bench/target/benchmarks.jar io.warren.bench.ProfileWarren --broker-port 57150 --profiler jfr \
 *     --work short --client php --warmup 10000 --units 5000 --out /tmp/warren-prof</pre>
 *
 * Options: --broker-host (127.0.0.1) --broker-port (5672) --profiler (jfr; async, strace, none) --work (short;
 * flow, storm) --client (php) --warmup (10000 clients, seconds of flow, or held connections) --units (5000 clients,
 * seconds of flow, or held connections) --flow-rate (10000) --storm-in-flight (64) --async-lib (path of
 * libasyncProfiler.so) --async-event (cpu) --warren-home --java-home --java-opts --warren-args (as
 * {@link CpuPerWorkBench}) --php-script --out (/tmp/warren-prof).
 */
public final class ProfileWarren {
    private ProfileWarren() {}

    private static final String QUEUE = "warren.bench.profile";

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        String brokerHost = a.value("broker-host", "127.0.0.1");
        int brokerPort = a.intValue("broker-port", 5672);
        String profiler = a.value("profiler", "jfr");
        String work = a.value("work", "short");
        String client = a.value("client", "php");
        int warmup = a.intValue("warmup", 10000);
        int units = a.intValue("units", 5000);
        int flowRate = a.intValue("flow-rate", 10000);
        int stormInFlight = a.intValue("storm-in-flight", 64);
        String asyncLib = a.value("async-lib", "");
        String asyncEvent = a.value("async-event", "cpu");
        Path home = Path.of(a.value("warren-home", "proxy-launcher/target/warren"));
        String javaHome = a.value("java-home", null);
        String javaOpts = a.value("java-opts", "");
        String warrenArgsText = a.value("warren-args", "");
        List<String> warrenArgs = warrenArgsText.isBlank() ? List.of() : List.of(warrenArgsText.trim().split("\\s+"));
        Path phpScript = Path.of(a.value("php-script", ShortLivedClients.defaultPhpScript().toString()));
        Path out = Path.of(a.value("out", "/tmp/warren-prof"));
        a.done();
        Files.createDirectories(out);
        if (!List.of("short", "flow", "storm").contains(work)) {
            throw new IllegalArgumentException("unknown work " + work + "; known: short, flow, storm");
        }
        String tag = work + "-" + switch (work) {
            case "short" -> client;
            case "storm" -> stormInFlight + "inflight";
            default -> flowRate + "ps";
        } + "-" + profiler;

        try (com.rabbitmq.client.Connection admin = ThroughputBench.factory(brokerHost, brokerPort, "guest", "guest")
                .newConnection("profile-admin");
                ProxyProcess w = ProxyProcess.warren("warren", home, javaHome, javaOpts, warrenArgs, brokerHost,
                        brokerPort, out);
                ShortLivedClients clients = new ShortLivedClients(client, phpScript)) {
            admin.createChannel().queueDeclare(QUEUE, false, false, false, java.util.Map.of("x-max-length", 1000));
            long pid = w.pid();
            System.out.printf(Locale.ROOT, "ProfileWarren: %s, %s, warm-up %d, measured %d, profiler %s; load %s%n", w,
                    switch (work) {
                        case "short" -> client + " short-lived clients";
                        case "storm" -> "held connections opened and closed, " + stormInFlight + " in flight";
                        default -> "flow " + flowRate + " msg/s (seconds)";
                    },
                    warmup, units, profiler, CpuPerWorkBench.load());
            if (work.equals("short")) {
                if (warmup > 0) {
                    clients.run(w.port(), warmup, QUEUE);
                }
            } else if (work.equals("storm")) {
                if (warmup > 0) {
                    storm(w.port(), warmup, stormInFlight);
                }
            } else if (warmup > 0) {
                try (MessageFlow f = new MessageFlow(w.port(), brokerHost, brokerPort)) {
                    f.start(flowRate);
                    Thread.sleep(warmup * 1000L);
                    f.stopAndDrain(5000);
                }
            }
            Thread.sleep(500);

            Process strace = null;
            Path jfr = out.resolve(tag + ".jfr");
            switch (profiler) {
                case "jfr" -> ProcessProbe.run(List.of(ProcessProbe.jcmd(), Long.toString(pid), "JFR.start",
                        "name=bench", "settings=profile", "filename=" + jfr));
                case "async" -> ProcessProbe.run(List.of(ProcessProbe.jcmd(), Long.toString(pid), "JVMTI.agent_load",
                        asyncLib,
                        "\"start,event=" + asyncEvent + ",interval=1ms,file=" + out.resolve(tag + ".collapsed") + "\""));
                case "strace" -> {
                    strace = new ProcessBuilder("strace", "-f", "-c", "-S", "calls", "-o",
                            out.resolve(tag + ".summary").toString(), "-p", Long.toString(pid))
                            .redirectErrorStream(true).redirectOutput(out.resolve(tag + ".strace-log").toFile()).start();
                    Thread.sleep(2000); // attached to every thread
                }
                case "strace-ff" -> {
                    strace = new ProcessBuilder("strace", "-f", "-ff", "-tt", "-o", out.resolve(tag).toString(),
                            "-p", Long.toString(pid)).redirectErrorStream(true)
                            .redirectOutput(out.resolve(tag + ".strace-log").toFile()).start();
                    Thread.sleep(2000);
                }
                case "none" -> { }
                default -> throw new IllegalArgumentException("unknown profiler " + profiler);
            }
            ProcessCpu.Sample s0 = w.cpu().sample();
            long t0 = System.nanoTime();
            long done;
            double[] ms = null;
            if (work.equals("short")) {
                ms = clients.run(w.port(), units, QUEUE);
                done = units;
            } else if (work.equals("storm")) {
                storm(w.port(), units, stormInFlight);
                done = units;
            } else {
                try (MessageFlow f = new MessageFlow(w.port(), brokerHost, brokerPort)) {
                    f.start(flowRate);
                    Thread.sleep(1000);
                    long r0 = f.received();
                    s0 = w.cpu().sample();
                    t0 = System.nanoTime();
                    Thread.sleep(units * 1000L);
                    done = f.received() - r0;
                    f.stopAndDrain(5000);
                }
            }
            Thread.sleep(300);
            ProcessCpu.Sample used = w.cpu().sample().minus(s0);
            double wall = (System.nanoTime() - t0) / 1e9;
            switch (profiler) {
                case "jfr" -> ProcessProbe.run(List.of(ProcessProbe.jcmd(), Long.toString(pid), "JFR.stop",
                        "name=bench"));
                case "async" -> ProcessProbe.run(List.of(ProcessProbe.jcmd(), Long.toString(pid), "JVMTI.agent_load",
                        asyncLib,
                        "\"stop,file=" + out.resolve(tag + ".collapsed") + ",collapsed\""));
                default -> { }
            }
            if (strace != null) {
                new ProcessBuilder("kill", "-INT", Long.toString(strace.pid())).start().waitFor();
                strace.waitFor(60, TimeUnit.SECONDS);
            }
            System.out.printf(Locale.ROOT, "measured %,d units in %.1f s: Warren CPU %.1f us/unit (loops %.1f, jit %.1f,"
                    + " gc+vm %.1f, other %.1f)%s; load %s%n", done, wall, used.totalNanos() / 1e3 / done,
                    used.group("loops") / 1e3 / done, used.group("jit") / 1e3 / done,
                    used.group("gc+vm") / 1e3 / done, used.group("other") / 1e3 / done,
                    ms == null ? "" : String.format(Locale.ROOT, "; client wall p50 %.2f ms", Stats.median(ms)),
                    CpuPerWorkBench.load());
            List<String> files = new ArrayList<>();
            try (var s = Files.list(out)) {
                s.filter(p -> p.getFileName().toString().startsWith(tag)).forEach(p -> files.add(p.toString()));
            }
            System.out.println("output: " + files.stream().sorted().limit(8).toList() + (files.size() > 8 ? " ..." : ""));
            if (profiler.equals("jfr")) {
                JfrSummary.main(new String[] {jfr.toString(), "--units", Long.toString(done)});
            }
            admin.createChannel().queueDelete(QUEUE);
        }
    }

    /** {@code n} held clients opened ({@code inFlight} handshakes at a time, a channel each), then all closed. */
    private static void storm(int port, int n, int inFlight) throws Exception {
        HeldClients.Summary opened = HeldClients.storm(port, n, inFlight, "profile").opened();
        if (opened.failed() > 0) {
            throw new IllegalStateException("the storm's clients failed: " + opened.failures());
        }
    }
}
