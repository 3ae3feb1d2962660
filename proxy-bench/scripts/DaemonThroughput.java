import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.File;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Publish throughput through the Warren daemon, one variant of its JVM options against another in one run (issue 16:
 * does -XX:TieredStopAtLevel=1 keep throughput within noise? docs/benchmarks.md, section 9).
 *
 * <p>Each round starts bin/warren once per variant (order rotated each round), publishes --warmup messages (the JIT
 * warms up; not recorded), then --messages messages of --size bytes from one amqp-client publisher through Warren to
 * a fresh queue; the clock stops when the broker's queue holds all of them (passive queue.declare on a direct
 * connection every millisecond). Prints each rate, then the medians and their ratios to the first variant.
 *
 * <pre>
 * java -cp AMQP_CLIENT_JAR:SLF4J_API_JAR proxy-bench/scripts/DaemonThroughput.java BROKER_PORT ROUNDS \
 *     c2=proxy-launcher/target/warren: c1=proxy-launcher/target/warren:-XX:TieredStopAtLevel=1
 * </pre>
 * Options (system properties): -Dmessages=200000 -Dwarmup=200000 -Dsize=100.
 */
public final class DaemonThroughput {
    public static void main(String[] args) throws Exception {
        int brokerPort = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        int messages = Integer.getInteger("messages", 200_000);
        int warmup = Integer.getInteger("warmup", 200_000);
        byte[] body = new byte[Integer.getInteger("size", 100)];
        Map<String, String[]> variants = new LinkedHashMap<>();
        for (int i = 2; i < args.length; i++) {
            String[] labelRest = args[i].split("=", 2);
            variants.put(labelRest[0], labelRest[1].split(":", 2));
        }
        System.out.printf(Locale.ROOT, "DaemonThroughput: %d + %d warm-up messages of %d bytes, %d rounds, broker port "
                + "%d, %d CPUs%n", messages, warmup, body.length, rounds, brokerPort,
                Runtime.getRuntime().availableProcessors());
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        variants.keySet().forEach(k -> rates.put(k, new ArrayList<>()));
        List<String> order = new ArrayList<>(variants.keySet());
        ConnectionFactory direct = factory(brokerPort);
        try (Connection admin = direct.newConnection("bench-admin")) {
            Channel adminCh = admin.createChannel();
            for (int r = 0; r < rounds; r++) {
                for (String label : order) {
                    String[] v = variants.get(label);
                    int port;
                    try (ServerSocket s = new ServerSocket(0)) {
                        port = s.getLocalPort();
                    }
                    ProcessBuilder pb = new ProcessBuilder(new File(v[0], "bin/warren").getPath(), "--listen",
                            "127.0.0.1:" + port, "--http", "off", "amqp://127.0.0.1:" + brokerPort)
                            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
                    pb.environment().clear();
                    pb.environment().put("PATH", "/usr/bin:/bin");
                    if (v.length > 1 && !v[1].isEmpty()) {
                        pb.environment().put("JAVA_OPTS", v[1]);
                    }
                    Process warren = pb.start();
                    try {
                        awaitListening(port, warren);
                        ConnectionFactory via = factory(port);
                        run(via, adminCh, warmup, body);
                        double rate = run(via, adminCh, messages, body);
                        rates.get(label).add(rate);
                        System.out.printf(Locale.ROOT, "round %d %s: %,.0f msg/s%n", r + 1, label, rate);
                    } finally {
                        warren.destroy();
                        warren.waitFor();
                    }
                }
                Collections.rotate(order, -1);
            }
        }
        double base = median(rates.values().iterator().next());
        System.out.println("| variant | JAVA_OPTS | median msg/s | ratio | min | max |");
        System.out.println("|---|---|---|---|---|---|");
        for (Map.Entry<String, List<Double>> e : rates.entrySet()) {
            String[] v = variants.get(e.getKey());
            double m = median(e.getValue());
            System.out.printf(Locale.ROOT, "| %s | %s | %,.0f | %.3f | %,.0f | %,.0f |%n", e.getKey(),
                    v.length > 1 && !v[1].isEmpty() ? v[1] : "-", m, m / base, Collections.min(e.getValue()),
                    Collections.max(e.getValue()));
        }
    }

    private static double run(ConnectionFactory cf, Channel admin, int n, byte[] body) throws Exception {
        String queue = admin.queueDeclare("", false, false, true, null).getQueue();
        try (Connection c = cf.newConnection("bench-publisher")) {
            Channel ch = c.createChannel();
            AMQP.BasicProperties props = new AMQP.BasicProperties();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                ch.basicPublish("", queue, props, body);
            }
            while (admin.queueDeclarePassive(queue).getMessageCount() < n) {
                Thread.sleep(1);
            }
            return n / ((System.nanoTime() - t0) / 1e9);
        } finally {
            admin.queueDelete(queue);
        }
    }

    private static void awaitListening(int port, Process p) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline && p.isAlive()) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (java.io.IOException e) {
                Thread.sleep(5);
            }
        }
        throw new IllegalStateException("warren did not listen on " + port);
    }

    private static ConnectionFactory factory(int port) {
        ConnectionFactory cf = new ConnectionFactory();
        cf.setHost("127.0.0.1");
        cf.setPort(port);
        cf.setAutomaticRecoveryEnabled(false);
        return cf;
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
