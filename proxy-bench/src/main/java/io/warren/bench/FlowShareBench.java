package io.warren.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The 1 producer + 1 consumer receive rate through the Warren daemon as a share of the same flow straight to the broker
 * (issue 15): {@link MessageFlow} with the producer unbounded (PerfTest {@code -x 1 -y 1 -s 100}, no {@code -r}), the
 * consumer's receive rate measured over {@code --seconds} after {@code --warmup-seconds}. Direct and Warren alternate
 * in one run, {@code --rounds} pairs (the order swapped every round); the share is taken per pair and the median
 * reported. On two shared cores Warren competes with the broker and both clients for CPU, so its CPU per message is
 * what moves this share.
 *
 * <pre>java -cp proxy-bench/target/benchmarks.jar io.warren.bench.FlowShareBench --broker-port 57150</pre>
 *
 * Options: --broker-host (127.0.0.1) --broker-port (5672) --warren-home (proxy-launcher/target/warren) --java-home
 * --java-opts --warren-args (as {@link CpuPerWorkBench}) --rounds (3) --seconds (15) --warmup-seconds (3)
 * --logs (/tmp/warren-cpu).
 */
public final class FlowShareBench {
    private FlowShareBench() {}

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        String brokerHost = a.value("broker-host", "127.0.0.1");
        int brokerPort = a.intValue("broker-port", 5672);
        Path home = Path.of(a.value("warren-home", "proxy-launcher/target/warren"));
        String javaHome = a.value("java-home", null);
        String javaOpts = a.value("java-opts", "");
        String warrenArgsText = a.value("warren-args", "");
        List<String> warrenArgs = warrenArgsText.isBlank() ? List.of() : List.of(warrenArgsText.trim().split("\\s+"));
        int rounds = a.intValue("rounds", 3);
        int seconds = a.intValue("seconds", 15);
        int warmupSeconds = a.intValue("warmup-seconds", 3);
        Path logs = Path.of(a.value("logs", "/tmp/warren-cpu"));
        a.done();
        System.out.printf(Locale.ROOT, "FlowShareBench: broker %s:%d, %d rounds of %d s (warm-up %d s), unbounded "
                + "producer, 100 B; %d CPUs; load %s%n", brokerHost, brokerPort, rounds, seconds, warmupSeconds,
                Runtime.getRuntime().availableProcessors(), CpuPerWorkBench.load());
        List<Double> direct = new ArrayList<>();
        List<Double> warren = new ArrayList<>();
        List<Double> shares = new ArrayList<>();
        try (ProxyProcess w = ProxyProcess.warren("warren", home, javaHome, javaOpts, warrenArgs, brokerHost,
                brokerPort, logs)) {
            rate("warm-up warren", w.port(), brokerHost, brokerPort, 10, 2); // JIT, upstream pool
            for (int r = 0; r < rounds; r++) {
                double d;
                double v;
                if (r % 2 == 0) {
                    d = rate("direct", brokerPort, brokerHost, brokerPort, seconds, warmupSeconds);
                    v = rate("warren", w.port(), brokerHost, brokerPort, seconds, warmupSeconds);
                } else {
                    v = rate("warren", w.port(), brokerHost, brokerPort, seconds, warmupSeconds);
                    d = rate("direct", brokerPort, brokerHost, brokerPort, seconds, warmupSeconds);
                }
                direct.add(d);
                warren.add(v);
                shares.add(v / d);
                System.out.printf(Locale.ROOT, "  round %d: direct %,.0f msg/s, warren %,.0f msg/s, share %.3f; load %s%n",
                        r + 1, d, v, v / d, CpuPerWorkBench.load());
            }
        }
        System.out.printf(Locale.ROOT, "%nreceive rate, median of %d: direct %,.0f msg/s, warren %,.0f msg/s; "
                + "warren / direct %.3f (median of the per-round shares; range %.3f-%.3f)%n", rounds,
                Stats.median(toArray(direct)), Stats.median(toArray(warren)), Stats.median(toArray(shares)),
                shares.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN),
                shares.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN));
    }

    private static double rate(String label, int port, String brokerHost, int brokerPort, int seconds,
            int warmupSeconds) throws Exception {
        try (MessageFlow f = new MessageFlow(port, brokerHost, brokerPort)) {
            f.start(0);
            Thread.sleep(warmupSeconds * 1000L);
            long r0 = f.received();
            long t0 = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            long got = f.received() - r0;
            double rate = got / ((System.nanoTime() - t0) / 1e9);
            f.stopAndDrain(0);
            if (label.startsWith("warm-up")) {
                System.out.printf(Locale.ROOT, "  %s: %,.0f msg/s%n", label, rate);
            }
            return rate;
        }
    }

    private static double[] toArray(List<Double> l) {
        return l.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
