package io.warren.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The tail of the short-lived path (issue 15): short-lived publishers ({@link ShortLivedClients}, php-amqplib by
 * default) one after the other through Warren daemons whose broker is {@code --delay-ms} away each way
 * ({@link LatencyRelay}), with the default {@code scrub-wait} and with {@code --scrub-wait 0}, beside the same client
 * through Warren to the broker on loopback (Warren's own loopback tail, the goal's reference) and straight to the
 * broker on loopback. Reports p50 / p90 / p99 per mode and the broker's channel and connection opens per 1000 clients
 * (rabbitmq_prometheus counters), per round, so a one-time growth of the channel pool can be told from a steady cost.
 *
 * <p>Modes (each Warren its own daemon, started once): {@code direct-loopback}, {@code warren-loopback},
 * {@code warren-relay} (the default scrub-wait, 10 ms), {@code warren-relay-sw0} ({@code --scrub-wait 0}), and
 * {@code warren-relay-args} (the relay with {@code --extra-args}, for a change under test), {@code warren-relay-base}
 * and {@code warren-loopback-base} (the distribution in {@code --base-home}, another build, through the relay and on
 * loopback: a change measured against the build before it in the same run). Rounds interleave the modes,
 * order rotated; {@code --settle-ms} after each batch lets the scrubs of its last clients finish before the broker's
 * counters are read.
 *
 * <pre>java -cp proxy-bench/target/benchmarks.jar io.warren.bench.ShortLivedTailBench --broker-port 57150 \
 *     --metrics-port 57152</pre>
 *
 * Options: --broker-host (127.0.0.1) --broker-port (5672) --metrics-port (0: no churn) --delay-ms (25 each way)
 * --modes (direct-loopback,warren-loopback,warren-relay,warren-relay-sw0) --client (php) --clients (2000 per mode)
 * --rounds (4) --warmup (1000 per mode) --settle-ms (500) --extra-args (for warren-relay-args) --base-home (for the
 * -base modes) --warren-home
 * --java-home --java-opts (as {@link CpuPerWorkBench}) --php-script --logs (/tmp/warren-cpu).
 */
public final class ShortLivedTailBench {
    private ShortLivedTailBench() {}

    private static final String QUEUE = "warren.bench.short-lived-tail";
    private static final List<String> MODES =
            List.of("direct-loopback", "warren-loopback", "warren-relay", "warren-relay-sw0", "warren-relay-args",
                    "warren-relay-base", "warren-loopback-base");

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        String brokerHost = a.value("broker-host", "127.0.0.1");
        int brokerPort = a.intValue("broker-port", 5672);
        int metricsPort = a.intValue("metrics-port", 0);
        int delayMs = a.intValue("delay-ms", 25);
        List<String> modes = List.of(a.value("modes", "direct-loopback,warren-loopback,warren-relay,warren-relay-sw0")
                .split(","));
        String client = a.value("client", "php");
        int clients = a.intValue("clients", 2000);
        int rounds = a.intValue("rounds", 4);
        int warmup = a.intValue("warmup", 1000);
        int settleMs = a.intValue("settle-ms", 500);
        String extraArgs = a.value("extra-args", "");
        Path home = Path.of(a.value("warren-home", "proxy-launcher/target/warren"));
        String baseHome = a.value("base-home", null);
        String javaHome = a.value("java-home", null);
        String javaOpts = a.value("java-opts", "");
        Path phpScript = Path.of(a.value("php-script", ShortLivedClients.defaultPhpScript().toString()));
        Path logs = Path.of(a.value("logs", "/tmp/warren-cpu"));
        a.done();
        for (String m : modes) {
            if (!MODES.contains(m)) {
                throw new IllegalArgumentException("unknown mode " + m + "; known: " + MODES);
            }
        }
        if (baseHome == null && modes.stream().anyMatch(m -> m.endsWith("-base"))) {
            throw new IllegalArgumentException("the -base modes need --base-home (another build's distribution)");
        }
        if (clients % rounds != 0) {
            throw new IllegalArgumentException("--clients must be a multiple of --rounds");
        }
        System.out.printf(Locale.ROOT, "ShortLivedTailBench: broker %s:%d, %d ms each way through the relay, %s "
                + "client, %d per mode in %d rounds after %d warm-up, modes %s; %d CPUs; load %s%n", brokerHost,
                brokerPort, delayMs, client, clients, rounds, warmup, modes,
                Runtime.getRuntime().availableProcessors(), CpuPerWorkBench.load());
        BrokerMetrics metrics = metricsPort > 0 ? new BrokerMetrics(metricsPort) : null;
        Deque<AutoCloseable> resources = new ArrayDeque<>();
        try (ShortLivedClients c = new ShortLivedClients(client, phpScript)) {
            LatencyRelay relay = LatencyRelay.start(0, brokerHost, brokerPort, Duration.ofMillis(delayMs));
            resources.push(relay);
            try (com.rabbitmq.client.Connection admin = ThroughputBench.factory(brokerHost, brokerPort, "guest",
                    "guest").newConnection("tail-bench-admin")) {
                admin.createChannel().queueDeclare(QUEUE, false, false, false, Map.of("x-max-length", 1000));
            }
            Map<String, Integer> ports = new LinkedHashMap<>();
            for (String m : modes) {
                if (m.equals("direct-loopback")) {
                    ports.put(m, brokerPort);
                    continue;
                }
                List<String> args = switch (m) {
                    case "warren-relay-sw0" -> List.of("--scrub-wait", "0");
                    case "warren-relay-args" -> extraArgs.isBlank() ? List.of()
                            : List.of(extraArgs.trim().split("\\s+"));
                    default -> List.of();
                };
                int upstream = m.startsWith("warren-loopback") ? brokerPort : relay.port();
                Path dist = m.endsWith("-base") ? Path.of(baseHome) : home;
                ProxyProcess w = ProxyProcess.warren(m, dist, javaHome, javaOpts, args, "127.0.0.1", upstream, logs);
                resources.push(w);
                ports.put(m, w.port());
                System.out.println("  " + m + ": " + w + " " + args);
            }
            Map<String, List<Double>> samples = new LinkedHashMap<>();
            Map<String, List<String>> churn = new LinkedHashMap<>();
            Map<String, long[]> churnTotal = new LinkedHashMap<>();
            for (String m : modes) {
                BrokerMetrics.Churn before = metrics == null ? null : metrics.read();
                c.run(ports.get(m), warmup, QUEUE);
                Thread.sleep(settleMs);
                if (metrics != null) {
                    BrokerMetrics.Churn d = metrics.read().minus(before);
                    System.out.printf(Locale.ROOT, "  warm-up %-17s broker opened %d connections, %d channels%n", m,
                            d.connectionsOpened(), d.channelsOpened());
                }
                samples.put(m, new ArrayList<>());
                churn.put(m, new ArrayList<>());
                churnTotal.put(m, new long[2]);
            }
            int perRound = clients / rounds;
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < modes.size(); k++) {
                    String m = modes.get((k + r) % modes.size());
                    BrokerMetrics.Churn before = metrics == null ? null : metrics.read();
                    double[] ms = c.run(ports.get(m), perRound, QUEUE);
                    Thread.sleep(settleMs);
                    for (double v : ms) {
                        samples.get(m).add(v);
                    }
                    String opened = "";
                    if (metrics != null) {
                        BrokerMetrics.Churn d = metrics.read().minus(before);
                        churn.get(m).add(d.connectionsOpened() + "/" + d.channelsOpened());
                        churnTotal.get(m)[0] += d.connectionsOpened();
                        churnTotal.get(m)[1] += d.channelsOpened();
                        opened = String.format(Locale.ROOT, "; broker opened %d connections, %d channels",
                                d.connectionsOpened(), d.channelsOpened());
                    }
                    double[] s = ms.clone();
                    Arrays.sort(s);
                    System.out.printf(Locale.ROOT, "  round %d %-17s p50 %7.2f p90 %7.2f p99 %7.2f ms%s; load %s%n",
                            r + 1, m, Stats.rank(s, 0.5), Stats.rank(s, 0.9), Stats.rank(s, 0.99), opened,
                            CpuPerWorkBench.load());
                }
            }
            System.out.println();
            System.out.println("mode                   n    p50 ms   p90 ms   p99 ms   max ms  p90 / its build's loopback p90"
                    + "  broker conn/1000  chan/1000  (per round: conn/chan)");
            for (String m : modes) {
                // Each build's tail against its own loopback tail: the base modes against warren-loopback-base.
                String ref = m.endsWith("-base") ? "warren-loopback-base" : "warren-loopback";
                double refP90 = samples.containsKey(ref) ? p(samples.get(ref), 0.9) : Double.NaN;
                List<Double> s = samples.get(m);
                long[] t = churnTotal.get(m);
                System.out.printf(Locale.ROOT, "%-18s %5d %9.2f %8.2f %8.2f %8.2f %26.2f %17s %10s  %s%n", m,
                        s.size(), p(s, 0.5), p(s, 0.9), p(s, 0.99), p(s, 1.0), p(s, 0.9) / refP90,
                        metrics == null ? "-" : String.format(Locale.ROOT, "%.1f", t[0] * 1000.0 / s.size()),
                        metrics == null ? "-" : String.format(Locale.ROOT, "%.1f", t[1] * 1000.0 / s.size()),
                        churn.get(m));
            }
            try (com.rabbitmq.client.Connection admin = ThroughputBench.factory(brokerHost, brokerPort, "guest",
                    "guest").newConnection("tail-bench-admin")) {
                admin.createChannel().queueDelete(QUEUE);
            }
        } finally {
            while (!resources.isEmpty()) {
                try {
                    resources.pop().close();
                } catch (Exception e) {
                    System.err.println("closing: " + e);
                }
            }
        }
    }

    private static double p(List<Double> samples, double q) {
        double[] s = samples.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return Stats.rank(s, q);
    }

}
