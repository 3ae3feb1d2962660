package io.warren.bench.codec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link PublishDecodeBenchmark} (all four variants, with JMH's GC profiler) {@code --repeat} times in a
 * row, one fork each by default, and prints per repetition the ratios against the amqp-client baselines
 * measured in that same repetition, then the median of each ratio. On a shared, noisy machine a ratio taken
 * within one repetition (a few tens of seconds apart) drifts much less than the absolute numbers; the median
 * over repetitions then discards a repetition hit by a burst of load. Remaining arguments are JMH's own
 * (e.g. {@code -wi 3 -i 3}); {@code -f N} gives each repetition N forks.
 *
 * <pre>java -cp proxy-bench/target/benchmarks.jar io.warren.bench.codec.DecodeRatios --repeat 3</pre>
 */
public final class DecodeRatios {
    private DecodeRatios() {}

    public static void main(String[] args) throws Exception {
        int repeat = 3;
        List<String> jmhArgs = new ArrayList<>(Arrays.asList(args));
        int i = jmhArgs.indexOf("--repeat");
        if (i >= 0) {
            repeat = Integer.parseInt(jmhArgs.get(i + 1));
            jmhArgs.remove(i + 1);
            jmhArgs.remove(i);
        }
        Options cli = new CommandLineOptions(jmhArgs.toArray(String[]::new));
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(cli).include(PublishDecodeBenchmark.class.getName() + "\\.").addProfiler(GCProfiler.class);
        if (!cli.getForkCount().hasValue()) {
            builder.forks(1);
        }
        Options opts = builder.build();

        List<double[]> ratios = new ArrayList<>();
        List<String> tables = new ArrayList<>();
        for (int r = 1; r <= repeat; r++) {
            Collection<RunResult> results = new Runner(opts).run();
            Map<String, double[]> byName = new LinkedHashMap<>();
            for (RunResult rr : results) {
                String label = rr.getParams().getBenchmark();
                label = label.substring(label.lastIndexOf('.') + 1);
                Result<?> primary = rr.getPrimaryResult();
                Result<?> alloc = rr.getSecondaryResults().get("gc.alloc.rate.norm");
                byName.put(label, new double[] {primary.getScore(), primary.getScoreError(),
                    alloc == null ? Double.NaN : alloc.getScore(), primary.getStatistics().getMin()});
            }
            StringBuilder t = new StringBuilder();
            t.append(String.format(Locale.ROOT, "repetition %d%n  %-18s %10s %10s %12s %10s%n", r, "benchmark",
                    "ns/op", "+-err", "best iter", "B/op"));
            byName.forEach((k, v) -> t.append(String.format(Locale.ROOT, "  %-18s %10.1f %10.1f %12.1f %10.1f%n", k,
                    v[0], v[1], v[3], v[2])));
            double full = score(byName, "warrenFullDecode");
            double peek = score(byName, "warrenPeek");
            double cmd = score(byName, "amqpClientCommand");
            double frames = score(byName, "amqpClientFrames");
            double fullMin = best(byName, "warrenFullDecode");
            double[] rat = {cmd / full, frames / full, cmd / peek, alloc(byName, "warrenPeek"),
                best(byName, "amqpClientCommand") / fullMin, best(byName, "amqpClientFrames") / fullMin};
            ratios.add(rat);
            t.append(String.format(Locale.ROOT, "  amqpClientCommand/warrenFullDecode %.2fx, amqpClientFrames/"
                    + "warrenFullDecode %.2fx, amqpClientCommand/warrenPeek %.1fx, warrenPeek %.4f B/op%n"
                    + "  best iterations: amqpClientCommand/warrenFullDecode %.2fx, amqpClientFrames/"
                    + "warrenFullDecode %.2fx%n", rat[0], rat[1], rat[2], rat[3], rat[4], rat[5]));
            tables.add(t.toString());
        }
        System.out.println();
        System.out.println("==== PublishDecodeBenchmark: " + repeat + " repetition(s) ====");
        tables.forEach(System.out::print);
        System.out.printf(Locale.ROOT, "median over repetitions: warrenFullDecode is %.2fx faster than "
                + "amqpClientCommand and %.2fx faster than amqpClientFrames; warrenPeek is %.1fx faster than "
                + "amqpClientCommand and allocates %.4f B/op (max over repetitions)%n",
                median(ratios, 0), median(ratios, 1), median(ratios, 2),
                ratios.stream().mapToDouble(x -> x[3]).max().orElse(Double.NaN));
        System.out.printf(Locale.ROOT, "median over repetitions, best iteration of each benchmark (less sensitive to "
                + "bursts of load from other processes): warrenFullDecode is %.2fx faster than amqpClientCommand and "
                + "%.2fx faster than amqpClientFrames%n", median(ratios, 4), median(ratios, 5));
    }

    private static double score(Map<String, double[]> m, String name) {
        double[] v = m.get(name);
        return v == null ? Double.NaN : v[0];
    }

    private static double best(Map<String, double[]> m, String name) {
        double[] v = m.get(name);
        return v == null ? Double.NaN : v[3];
    }

    private static double alloc(Map<String, double[]> m, String name) {
        double[] v = m.get(name);
        return v == null ? Double.NaN : v[2];
    }

    private static double median(List<double[]> rows, int col) {
        double[] v = rows.stream().mapToDouble(x -> x[col]).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
