package io.warren.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * CPU per unit of work (issue 15): how much CPU time the proxy process spends per short-lived client, per message and
 * per held connection, against plain TCP relays measured in the same run as the floor. Every proxy runs as its own
 * process in front of the same broker; its CPU is read from {@code /proc/PID/stat} ({@code utime + stime}, see
 * {@link ProcessCpu}) before and after each measured phase, and divided by the work done:
 *
 * <ul>
 *   <li>{@code short}: {@code --clients} short-lived publishers one after the other ({@link ShortLivedClients}:
 *       connect, channel.open, one basic.publish, channel.close, connection.close), per client; also their wall time
 *       percentiles;</li>
 *   <li>{@code flow}: 1 producer + 1 consumer ({@link MessageFlow}, PerfTest's defaults, 100 B) at
 *       {@code --flow-rate} msg/s for {@code --flow-seconds}, per message received (each message crosses the proxy
 *       twice, and its ack once);</li>
 *   <li>{@code storm}: {@code --storm} held clients opened ({@link HeldClients}, at most {@code --storm-in-flight}
 *       handshakes at once, one channel each) then closed, per connection; also the time to open them all;</li>
 *   <li>{@code first}: a fresh Warren daemon per round, started only for this, and its first {@code --first}
 *       short-lived clients ({@code --first-client}): the JIT compiling (its CPU is in the process total, the
 *       {@code jit} column).</li>
 * </ul>
 *
 * Targets: {@code warren} (the distribution's {@code bin/warren}, default JVM options, reuse on), {@code socat}
 * ({@code socat TCP-LISTEN:...,fork}: a child process per connection, the relay issue 15's figures use), and
 * {@code haproxy} (TCP mode, epoll, like Warren an event-driven process with a thread per core), and
 * {@code responder} ({@link CannedResponder}: no broker behind it, it answers the client's half of the exchange with
 * canned frames on one thread, the floor under any proxy's cost per client; it takes part in {@code short} and
 * {@code storm} only, and runs on the distribution's runtime). Before the first
 * round each target gets the same warm-up ({@code --warmup} short-lived clients, {@code --flow-warmup-seconds} of flow,
 * a storm of {@code --storm-warmup}); rounds rotate the order of the targets; the table shows the median of the rounds
 * with their range, and the ratio to each relay (median of the per-round ratios).
 *
 * <pre>java -cp proxy-bench/target/benchmarks.jar io.warren.bench.CpuPerWorkBench --broker-port 57150</pre>
 *
 * Options: --broker-host (127.0.0.1) --broker-port (5672) --metrics-port (0; the broker's rabbitmq_prometheus port:
 * channels and connections it opened per 1000 short-lived clients) --warren-home (proxy-launcher/target/warren)
 * --java-home (Warren's runtime; default bin/warren's) --java-opts (added to bin/warren's defaults) --warren-args (more
 * Warren options, space-separated) --targets (warren,socat,haproxy; or responder) --phases (short,flow,storm,first)
 * --rounds (3) --client (raw; or php, java; a comma-separated list runs each) --clients (3000) --warmup (10000)
 * --flow-rate (10000) --flow-seconds (20) --flow-warmup-seconds (5) --storm (5000) --storm-in-flight (64)
 * --storm-warmup (1000) --first (3000) --first-client (php) --php-script (proxy-bench/scripts/php-publisher.php) --logs
 * (/tmp/warren-cpu)
 * --variants (more Warren daemons measured beside {@code warren} in the same run, each a target {@code warren-NAME}:
 * {@code NAME|key=value|...;NAME2|...} with keys {@code home}, {@code java-home}, {@code java-opts}, {@code args}, each
 * defaulting to the options above; e.g. {@code "loops1|args=--event-loops 1;c1|java-opts=-XX:TieredStopAtLevel=1"};
 * the table then also gives each target's ratio to {@code warren}).
 */
public final class CpuPerWorkBench {
    private CpuPerWorkBench() {}

    private static final String QUEUE = "warren.bench.cpu-per-work";

    /** How to start one Warren daemon: its target name, distribution, runtime, JVM options and Warren options. */
    private record WarrenSpec(String name, Path home, String javaHome, String javaOpts, List<String> args) {
        ProxyProcess start(String brokerHost, int brokerPort, Path logs) throws Exception {
            return ProxyProcess.warren(name, home, javaHome, javaOpts, args, brokerHost, brokerPort, logs);
        }
    }

    private static List<String> words(String text) {
        return text == null || text.isBlank() ? List.of() : List.of(text.trim().split("\\s+"));
    }

    /** {@code NAME|key=value|...;...} (keys home, java-home, java-opts, args), each key defaulting to {@code base}. */
    private static List<WarrenSpec> variants(String text, WarrenSpec base) {
        List<WarrenSpec> out = new ArrayList<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        for (String entry : text.split(";")) {
            String[] f = entry.split("\\|");
            Path home = base.home();
            String javaHome = base.javaHome();
            String javaOpts = base.javaOpts();
            List<String> args = base.args();
            for (int i = 1; i < f.length; i++) {
                int eq = f[i].indexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException("variant " + f[0] + ": expected key=value, got " + f[i]);
                }
                String v = f[i].substring(eq + 1);
                switch (f[i].substring(0, eq)) {
                    case "home" -> home = Path.of(v);
                    case "java-home" -> javaHome = v;
                    case "java-opts" -> javaOpts = v;
                    case "args" -> args = words(v);
                    default -> throw new IllegalArgumentException("variant " + f[0] + ": unknown key in " + f[i]
                            + " (home, java-home, java-opts, args)");
                }
            }
            out.add(new WarrenSpec("warren-" + f[0].trim(), home, javaHome, javaOpts, args));
        }
        return out;
    }

    /** One measured phase on one target: CPU used, units of work, wall seconds, load average at its end. */
    private record Run(String target, String work, int round, ProcessCpu.Sample cpu, long units, double wallSeconds,
            String load, String note) {
        double microsPerUnit() {
            return cpu.totalNanos() / 1e3 / units;
        }

        double loopMicrosPerUnit() {
            return cpu.group("loops") / 1e3 / units;
        }
    }

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        String brokerHost = a.value("broker-host", "127.0.0.1");
        int brokerPort = a.intValue("broker-port", 5672);
        int metricsPort = a.intValue("metrics-port", 0);
        Path home = Path.of(a.value("warren-home", "proxy-launcher/target/warren"));
        String javaHome = a.value("java-home", null);
        String javaOpts = a.value("java-opts", "");
        String warrenArgsText = a.value("warren-args", "");
        List<String> warrenArgs = words(warrenArgsText);
        List<String> targets = new ArrayList<>(List.of(a.value("targets", "warren,socat,haproxy").split(",")));
        String variantsText = a.value("variants", "");
        List<String> phases = List.of(a.value("phases", "short,flow,storm,first").split(","));
        int rounds = a.intValue("rounds", 3);
        List<String> clientKinds = List.of(a.value("client", "raw").split(","));
        int clients = a.intValue("clients", 3000);
        int warmup = a.intValue("warmup", 10000);
        int flowRate = a.intValue("flow-rate", 10000);
        int flowSeconds = a.intValue("flow-seconds", 20);
        int flowWarmupSeconds = a.intValue("flow-warmup-seconds", 5);
        int storm = a.intValue("storm", 5000);
        int stormInFlight = a.intValue("storm-in-flight", 64);
        int stormWarmup = a.intValue("storm-warmup", 1000);
        int first = a.intValue("first", 3000);
        String firstClient = a.value("first-client", "php");
        Path phpScript = Path.of(a.value("php-script", ShortLivedClients.defaultPhpScript().toString()));
        Path logs = Path.of(a.value("logs", "/tmp/warren-cpu"));
        a.done();
        for (String t : targets) {
            if (!List.of("warren", "socat", "haproxy", "responder").contains(t)) {
                throw new IllegalArgumentException("unknown target " + t
                        + "; known: warren, socat, haproxy, responder");
            }
        }
        for (String p : phases) {
            if (!List.of("short", "flow", "storm", "first").contains(p)) {
                throw new IllegalArgumentException("unknown phase " + p + "; known: short, flow, storm, first");
            }
        }
        Files.createDirectories(logs);
        List<WarrenSpec> specs = new ArrayList<>();
        if (targets.contains("warren")) {
            WarrenSpec base = new WarrenSpec("warren", home, javaHome, javaOpts, warrenArgs);
            specs.add(base);
            for (WarrenSpec v : variants(variantsText, base)) {
                specs.add(v);
                targets.add(targets.indexOf("warren") + specs.size() - 1, v.name());
            }
        }

        System.out.printf(Locale.ROOT, "CpuPerWorkBench: broker %s:%d, targets %s, phases %s, %d rounds, clients %s"
                + " x %d (warm-up %d), flow %d msg/s x %d s (warm-up %d s), storm %d at %d in flight (warm-up %d),"
                + " first %d %s clients; Warren %s, JAVA_HOME %s, JAVA_OPTS '%s', args %s; variants %s; %d CPUs, %s;"
                + " load %s%n",
                brokerHost, brokerPort, targets, phases, rounds, clientKinds, clients, warmup, flowRate, flowSeconds,
                flowWarmupSeconds, storm, stormInFlight, stormWarmup, first, firstClient, home,
                javaHome == null ? "(bin/warren's)" : javaHome, javaOpts, warrenArgs,
                specs.subList(Math.min(1, specs.size()), specs.size()), Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.version"), load());

        try (Connection admin = ThroughputBench.factory(brokerHost, brokerPort, "guest", "guest")
                .newConnection("cpu-bench-admin")) {
            Channel ch = admin.createChannel();
            // Short-lived clients publish here; the broker keeps the last 1000 (it does its usual work per message).
            ch.queueDeclare(QUEUE, false, false, false, Map.of("x-max-length", 1000));
            BrokerMetrics metrics = metricsPort > 0 ? new BrokerMetrics(metricsPort) : null;
            List<Run> runs = new ArrayList<>();
            boolean steady = phases.stream().anyMatch(p -> !p.equals("first"));
            if (steady) {
                runSteady(brokerHost, brokerPort, home, specs, targets, phases, rounds,
                        clientKinds, clients, warmup, flowRate, flowSeconds, flowWarmupSeconds, storm, stormInFlight,
                        stormWarmup, phpScript, logs, metrics, runs);
            }
            if (phases.contains("first") && !specs.isEmpty()) {
                try (ShortLivedClients c = new ShortLivedClients(firstClient, phpScript)) {
                    for (int r = 1; r <= rounds; r++) {
                        for (int k = 0; k < specs.size(); k++) {
                            WarrenSpec spec = specs.get((k + r - 1) % specs.size());
                            try (ProxyProcess w = spec.start(brokerHost, brokerPort, logs)) {
                                runs.add(shortLived(w, c, first, r, "first " + first + " " + firstClient, null));
                            }
                        }
                    }
                }
            }
            report(runs, targets);
            ch.queueDelete(QUEUE);
        }
    }

    private static void runSteady(String brokerHost, int brokerPort, Path home, List<WarrenSpec> specs,
            List<String> targets, List<String> phases, int rounds, List<String> clientKinds,
            int clients, int warmup, int flowRate, int flowSeconds, int flowWarmupSeconds, int storm,
            int stormInFlight, int stormWarmup, Path phpScript, Path logs, BrokerMetrics metrics, List<Run> runs)
            throws Exception {
        Map<String, ProxyProcess> procs = new LinkedHashMap<>();
        Map<String, ShortLivedClients> kinds = new LinkedHashMap<>();
        try {
            for (String t : targets) {
                WarrenSpec spec = specs.stream().filter(w -> w.name().equals(t)).findFirst().orElse(null);
                ProxyProcess p = spec != null ? spec.start(brokerHost, brokerPort, logs) : switch (t) {
                    case "socat" -> ProxyProcess.socat(brokerHost, brokerPort, logs);
                    case "responder" -> ProxyProcess.responder(home, logs);
                    // room for the storm's clients and those still closing from the warm-up's
                    default -> ProxyProcess.haproxy(brokerHost, brokerPort,
                            Math.max(storm, stormWarmup) + 2 * stormInFlight + 100, logs);
                };
                procs.put(t, p);
                System.out.println("  started " + p);
            }
            for (String k : clientKinds) {
                kinds.put(k, new ShortLivedClients(k, phpScript));
            }
            // The same warm-up for every target: JIT, classes, the upstream pool, the idle channel pool.
            for (ProxyProcess p : procs.values()) {
                long t0 = System.nanoTime();
                if (phases.contains("short")) {
                    for (ShortLivedClients k : kinds.values()) {
                        k.run(p.port(), warmup / kinds.size(), QUEUE);
                    }
                }
                if (phases.contains("flow") && flowWarmupSeconds > 0 && carriesMessages(p)) {
                    flow(p, brokerHost, brokerPort, flowRate, flowWarmupSeconds, 0);
                }
                if (phases.contains("storm") && stormWarmup > 0) {
                    storm(p, stormWarmup, stormInFlight, 0);
                }
                System.out.printf(Locale.ROOT, "  warmed up %s in %.1f s%n", p.name(),
                        (System.nanoTime() - t0) / 1e9);
            }
            List<String> order = new ArrayList<>(procs.keySet());
            for (int r = 1; r <= rounds; r++) {
                for (int k = 0; k < order.size(); k++) {
                    ProxyProcess p = procs.get(order.get((k + r - 1) % order.size()));
                    if (phases.contains("short")) {
                        for (ShortLivedClients c : kinds.values()) {
                            runs.add(shortLived(p, c, clients, r, "short " + c.kind(), metrics));
                        }
                    }
                    if (phases.contains("flow") && carriesMessages(p)) {
                        runs.add(flow(p, brokerHost, brokerPort, flowRate, flowSeconds, r));
                    }
                    if (phases.contains("storm")) {
                        runs.add(storm(p, storm, stormInFlight, r));
                    }
                }
            }
        } finally {
            for (ShortLivedClients k : kinds.values()) {
                k.close();
            }
            for (ProxyProcess p : procs.values()) {
                p.close();
            }
        }
    }

    /** Whether {@code p} has a broker behind it: the canned responder drops what it is sent. */
    private static boolean carriesMessages(ProxyProcess p) {
        return !p.name().equals("responder");
    }

    private static Run shortLived(ProxyProcess p, ShortLivedClients c, int n, int round, String work,
            BrokerMetrics metrics) throws Exception {
        BrokerMetrics.Churn before = metrics == null ? null : metrics.read();
        ProcessCpu.Sample s0 = p.cpu().sample();
        long t0 = System.nanoTime();
        double[] ms = c.run(p.port(), n, QUEUE);
        double wall = (System.nanoTime() - t0) / 1e9;
        if (p.name().equals("socat")) {
            p.awaitNoChildren(10_000);
        } else {
            Thread.sleep(200); // the proxy's close and scrub work after the last client's close-ok
        }
        ProcessCpu.Sample used = p.cpu().sample().minus(s0);
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        String note = String.format(Locale.ROOT, "wall p50 %.2f p90 %.2f p99 %.2f ms", Stats.rank(sorted, 0.5),
                Stats.rank(sorted, 0.9), Stats.rank(sorted, 0.99));
        if (metrics != null) {
            BrokerMetrics.Churn d = metrics.read().minus(before);
            note += String.format(Locale.ROOT, "; broker opened %.0f conn, %.0f chan /1000",
                    d.connectionsOpened() * 1000.0 / n, d.channelsOpened() * 1000.0 / n);
        }
        return print(new Run(p.name(), work, round, used, n, wall, load(), note));
    }

    private static Run flow(ProxyProcess p, String brokerHost, int brokerPort, int rate, int seconds, int round)
            throws Exception {
        try (MessageFlow f = new MessageFlow(p.port(), brokerHost, brokerPort)) {
            f.start(rate);
            Thread.sleep(1000); // connections set up, the rate reached
            long r0 = f.received();
            ProcessCpu.Sample s0 = p.cpu().sample();
            long t0 = System.nanoTime();
            Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
            ProcessCpu.Sample used = p.cpu().sample().minus(s0);
            long got = f.received() - r0;
            double wall = (System.nanoTime() - t0) / 1e9;
            f.stopAndDrain(10_000);
            Run run = new Run(p.name(), "flow " + rate + "/s", round, used, got, wall, load(),
                    String.format(Locale.ROOT, "received %,.0f msg/s", got / wall));
            return round == 0 ? run : print(run);
        }
    }

    private static Run storm(ProxyProcess p, int n, int inFlight, int round) throws Exception {
        ProcessCpu.Sample s0 = p.cpu().sample();
        long t0 = System.nanoTime();
        HeldClients.Storm storm = HeldClients.storm(p.port(), n, inFlight, p.name());
        double openSeconds = (storm.openedAtNanos() - t0) / 1e9;
        HeldClients.Summary opened = storm.opened();
        double wall = (System.nanoTime() - t0) / 1e9;
        if (p.name().equals("socat")) {
            p.awaitNoChildren(60_000);
        } else {
            Thread.sleep(500);
        }
        ProcessCpu.Sample used = p.cpu().sample().minus(s0);
        Run run = new Run(p.name(), "storm " + n + "@" + inFlight, round, used, n, wall, load(),
                String.format(Locale.ROOT, "opened %d (failed %d) in %.2f s, %,.0f/s", opened.opened(),
                        opened.failed(), openSeconds, opened.opened() / openSeconds));
        return round == 0 ? run : print(run);
    }

    private static Run print(Run r) {
        System.out.printf(Locale.ROOT, "  round %d %-8s %-22s %,9.1f us/unit (loops %,8.1f, jit %,8.1f) x %,d in "
                + "%.1f s; %s; load %s%n", r.round(), r.target(), r.work(), r.microsPerUnit(), r.loopMicrosPerUnit(),
                r.cpu().group("jit") / 1e3 / r.units(), r.units(), r.wallSeconds(), r.note(), r.load());
        return r;
    }

    private static void report(List<Run> runs, List<String> targets) {
        System.out.println();
        System.out.println("work                     target          us/unit median [min-max]   event loops us/unit"
                + "   jit us/unit   ratio to socat   ratio to haproxy    ratio to warren  ratio to responder");
        Map<String, Map<String, List<Run>>> byWork = new LinkedHashMap<>();
        for (Run r : runs) {
            byWork.computeIfAbsent(r.work(), w -> new LinkedHashMap<>())
                    .computeIfAbsent(r.target(), t -> new ArrayList<>()).add(r);
        }
        for (Map.Entry<String, Map<String, List<Run>>> w : byWork.entrySet()) {
            for (String t : targets) {
                List<Run> rs = w.getValue().get(t);
                if (rs == null) {
                    continue;
                }
                double[] us = rs.stream().mapToDouble(Run::microsPerUnit).toArray();
                double[] loops = rs.stream().mapToDouble(Run::loopMicrosPerUnit).toArray();
                double[] jit = rs.stream().mapToDouble(r -> r.cpu().group("jit") / 1e3 / r.units()).toArray();
                boolean jvm = t.startsWith("warren") || t.equals("responder");
                System.out.printf(Locale.ROOT, "%-24s %-14s %9.1f [%7.1f-%7.1f] %17s %13s %16s %18s %18s %19s%n",
                        w.getKey(), t, Stats.median(us), min(us), max(us), jvm ? fmt(Stats.median(loops)) : "-",
                        jvm ? fmt(Stats.median(jit)) : "-", ratio(rs, w.getValue().get("socat")),
                        ratio(rs, w.getValue().get("haproxy")), ratio(rs, w.getValue().get("warren")),
                        ratio(rs, w.getValue().get("responder")));
            }
        }
    }

    /** Median of the per-round ratios (same round number), or "-". */
    private static String ratio(List<Run> mine, List<Run> floor) {
        if (floor == null || floor == mine) {
            return "-";
        }
        Map<Integer, Run> byRound = new HashMap<>();
        for (Run f : floor) {
            byRound.put(f.round(), f);
        }
        List<Double> ratios = new ArrayList<>();
        for (Run m : mine) {
            Run f = byRound.get(m.round());
            if (f != null) {
                ratios.add(m.microsPerUnit() / f.microsPerUnit());
            }
        }
        if (ratios.isEmpty()) {
            return "-";
        }
        double[] r = ratios.stream().mapToDouble(Double::doubleValue).toArray();
        return String.format(Locale.ROOT, "%.2fx [%.2f-%.2f]", Stats.median(r), min(r), max(r));
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }


    static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (Exception e) {
            return "?";
        }
    }
}
