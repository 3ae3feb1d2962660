package io.warren.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.warren.core.WarrenProxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Single publisher, small messages, no confirms: throughput as received by the broker, direct vs through an
 * in-process Warren, alternating runs in one process to reduce drift.
 *
 * <p>One run publishes {@code --messages} messages to a fresh queue (default exchange, transient messages) and
 * stops the clock when the broker's queue holds all of them (queue depth read with a passive queue.declare on
 * a separate direct connection, every millisecond): so messages still sitting in a socket buffer or in Warren
 * are not counted as delivered. The publisher's own rate is printed too, for reference only.
 *
 * <pre>java -cp proxy-bench/target/benchmarks.jar io.warren.bench.ThroughputBench --broker-port 56900</pre>
 *
 * Options: --broker-host (127.0.0.1) --broker-port (5672) --messages (200000) --size (100) --rounds (5)
 * --policy (never; the reuse policy of the Warren under test) --user/--password (guest).
 */
public final class ThroughputBench {
    private ThroughputBench() {}

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        String host = a.value("broker-host", "127.0.0.1");
        int port = a.intValue("broker-port", 5672);
        int messages = a.intValue("messages", 200_000);
        int size = a.intValue("size", 100);
        int rounds = a.intValue("rounds", 5);
        String policy = a.value("policy", "never");
        String user = a.value("user", "guest");
        String password = a.value("password", "guest");
        a.done();

        byte[] body = new byte[size];
        for (int i = 0; i < size; i++) {
            body[i] = (byte) ('a' + i % 26);
        }
        System.out.printf(Locale.ROOT, "ThroughputBench: %d messages of %d bytes per run, %d rounds, broker %s:%d, "
                + "Warren policy %s, %d CPUs, %s%n", messages, size, rounds, host, port, policy,
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.version"));

        try (WarrenProxy warren = Warren.start(host, port, policy);
                Connection admin = factory(host, port, user, password).newConnection("bench-admin")) {
            Channel adminCh = admin.createChannel();
            int warrenPort = warren.listenAddress().getPort();
            ConnectionFactory direct = factory(host, port, user, password);
            ConnectionFactory viaWarren = factory("127.0.0.1", warrenPort, user, password);

            // Warm-up: JIT of client, Warren and the broker's code paths; not recorded.
            run("warmup", direct, adminCh, messages / 4, body);
            run("warmup", viaWarren, adminCh, messages / 4, body);

            List<Double> d = new ArrayList<>();
            List<Double> w = new ArrayList<>();
            List<Double> pairRatios = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                double dr;
                double wr;
                if (r % 2 == 0) {
                    dr = run("direct", direct, adminCh, messages, body);
                    wr = run("warren", viaWarren, adminCh, messages, body);
                } else {
                    wr = run("warren", viaWarren, adminCh, messages, body);
                    dr = run("direct", direct, adminCh, messages, body);
                }
                d.add(dr);
                w.add(wr);
                pairRatios.add(wr / dr);
            }
            double dMed = Stats.median(toArray(d));
            double wMed = Stats.median(toArray(w));
            System.out.println();
            System.out.printf(Locale.ROOT, "direct  median %,.0f msg/s  runs %s%n", dMed, fmt(d));
            System.out.printf(Locale.ROOT, "warren  median %,.0f msg/s  runs %s%n", wMed, fmt(w));
            System.out.printf(Locale.ROOT, "ratio warren/direct: of medians %.3f; median of per-round ratios %.3f "
                    + "(per round %s)%n", wMed / dMed, Stats.median(toArray(pairRatios)), fmtRatio(pairRatios));
        }
    }

    static ConnectionFactory factory(String host, int port, String user, String password) {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost(host);
        f.setPort(port);
        f.setUsername(user);
        f.setPassword(password);
        f.setAutomaticRecoveryEnabled(false);
        f.setTopologyRecoveryEnabled(false);
        return f;
    }

    /** One run; returns messages per second as received by the broker. */
    private static double run(String label, ConnectionFactory f, Channel admin, int messages, byte[] body)
            throws Exception {
        String queue = admin.queueDeclare("", false, false, false, null).getQueue();
        try (Connection c = f.newConnection("bench-publisher")) {
            Channel ch = c.createChannel();
            long t0 = System.nanoTime();
            for (int i = 0; i < messages; i++) {
                ch.basicPublish("", queue, null, body);
            }
            long published = System.nanoTime();
            long deadline = published + 300_000_000_000L;
            long depth;
            while ((depth = admin.queueDeclarePassive(queue).getMessageCount()) < messages) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(label + ": queue holds " + depth + " of " + messages
                            + " after 300 s");
                }
                Thread.sleep(1);
            }
            long done = System.nanoTime();
            double rate = messages / ((done - t0) / 1e9);
            double publisherRate = messages / ((published - t0) / 1e9);
            System.out.printf(Locale.ROOT, "  %-7s %,10.0f msg/s at the broker (publisher-side %,10.0f msg/s, "
                    + "%.2f s)%n", label, rate, publisherRate, (done - t0) / 1e9);
            ch.close();
            return rate;
        } finally {
            admin.queueDelete(queue);
        }
    }

    private static double[] toArray(List<Double> l) {
        return l.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static String fmt(List<Double> l) {
        StringBuilder sb = new StringBuilder("[");
        for (double v : l) {
            sb.append(sb.length() > 1 ? ", " : "").append(String.format(Locale.ROOT, "%,.0f", v));
        }
        return sb.append(']').toString();
    }

    private static String fmtRatio(List<Double> l) {
        StringBuilder sb = new StringBuilder("[");
        for (double v : l) {
            sb.append(sb.length() > 1 ? ", " : "").append(String.format(Locale.ROOT, "%.3f", v));
        }
        return sb.append(']').toString();
    }
}
