package io.warren.bench;

import java.util.Arrays;

/** Percentiles (nearest rank) and mean of a set of samples. */
record Stats(int count, double p50, double p99, double mean, double min, double max) {
    static Stats of(double[] samples) {
        double[] s = samples.clone();
        Arrays.sort(s);
        double sum = 0;
        for (double v : s) {
            sum += v;
        }
        return new Stats(s.length, rank(s, 0.50), rank(s, 0.99), sum / s.length, s[0], s[s.length - 1]);
    }

    static double median(double[] samples) {
        double[] s = samples.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** The nearest-rank {@code q} quantile (0 < q <= 1) of samples sorted ascending. */
    static double rank(double[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
