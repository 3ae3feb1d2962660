package io.warren.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.warren.core.WarrenProxy;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Short-lived clients against a broker far away: each iteration connects, opens a channel, publishes one
 * message, closes the channel and the connection (what a PHP-FPM worker or a cron job does), timed from before
 * connect to after connection.close-ok. The broker is put {@code --delay-ms} away each way by a
 * {@link LatencyRelay}. Modes, interleaved in rounds (order rotated each round) in one run:
 *
 * <ul>
 *   <li>{@code direct-loopback}: straight to the broker, no relay: the floor set by the client library and the
 *       broker on this machine;</li>
 *   <li>{@code direct-relay}: straight to the broker through the relay (the baseline);</li>
 *   <li>{@code warren-never}: through an in-process Warren whose upstream goes through the relay, reuse policy
 *       {@code never} (reuse off);</li>
 *   <li>{@code warren-reuse}: the same with reuse policy {@code publish-safe} (reuse on).</li>
 * </ul>
 *
 * Also reports the broker's own churn counters per mode (rabbitmq_prometheus {@code /metrics}, aggregated:
 * {@code rabbitmq_connections_opened_total}, {@code rabbitmq_channels_opened_total}) per 1000 clients, warm-up
 * excluded, and checks that every published message reached the queue.
 *
 * <pre>java -cp proxy-bench/target/benchmarks.jar io.warren.bench.ConnectionPerPublishBench --broker-port 56900 \
 *     --metrics-port 56902</pre>
 *
 * Options: --broker-host (127.0.0.1) --broker-port (5672) --metrics-port (0: skip churn counters)
 * --delay-ms (25, one way) --clients (200 per mode) --rounds (4) --warmup (30 per mode)
 * --modes (direct-loopback,direct-relay,warren-never,warren-reuse) --user/--password (guest)
 * --settle-ms (500: pause after each batch before reading the broker's counters, so channels that Warren closes
 * or scrubs after its clients left are counted for the mode that caused them) --client (raw: {@link RawClient}, a blocking single-socket client on Warren's codec; java: the RabbitMQ Java
 * client with a shared executor and recovery off, which still starts a reader thread and more per connection, a
 * cost paid in every mode alike and visible in {@code direct-loopback}).
 */
public final class ConnectionPerPublishBench {
    private ConnectionPerPublishBench() {}

    private static final String QUEUE = "warren.bench.connection-per-publish";

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        String host = a.value("broker-host", "127.0.0.1");
        int port = a.intValue("broker-port", 5672);
        int metricsPort = a.intValue("metrics-port", 0);
        int delayMs = a.intValue("delay-ms", 25);
        int clients = a.intValue("clients", 200);
        int rounds = a.intValue("rounds", 4);
        int warmup = a.intValue("warmup", 30);
        int settleMs = a.intValue("settle-ms", 500);
        List<String> modes = List.of(a.value("modes", "direct-loopback,direct-relay,warren-never,warren-reuse")
                .split(","));
        String user = a.value("user", "guest");
        String password = a.value("password", "guest");
        String client = a.value("client", "raw");
        a.done();
        if (!client.equals("raw") && !client.equals("java")) {
            throw new IllegalArgumentException("--client must be raw or java");
        }
        if (clients % rounds != 0) {
            throw new IllegalArgumentException("--clients must be a multiple of --rounds");
        }
        System.out.printf(Locale.ROOT, "ConnectionPerPublishBench: broker %s:%d, %d ms each way through the relay, "
                + "%d clients per mode in %d rounds, %d warm-up clients per mode, %s client, %d CPUs, %s%n", host, port,
                delayMs, clients, rounds, warmup, client, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.version"));

        BrokerMetrics metrics = metricsPort > 0 ? new BrokerMetrics(metricsPort) : null;
        ExecutorService shared = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "bench-client-shared");
            t.setDaemon(true);
            return t;
        });
        byte[] body = "short-lived client says hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (LatencyRelay relay = LatencyRelay.start(0, host, port, Duration.ofMillis(delayMs));
                WarrenProxy never = modes.contains("warren-never") ? Warren.start("127.0.0.1", relay.port(), "never")
                        : null;
                WarrenProxy reuse = modes.contains("warren-reuse")
                        ? Warren.start("127.0.0.1", relay.port(), "publish-safe") : null;
                Connection admin = ThroughputBench.factory(host, port, user, password).newConnection("bench-admin")) {
            Channel adminCh = admin.createChannel();
            adminCh.queueDeclare(QUEUE, false, false, false, null);
            adminCh.queuePurge(QUEUE);

            Map<String, Client> factories = new LinkedHashMap<>();
            for (String m : modes) {
                int p = switch (m) {
                    case "direct-loopback" -> port;
                    case "direct-relay" -> relay.port();
                    case "warren-never" -> never.listenAddress().getPort();
                    case "warren-reuse" -> reuse.listenAddress().getPort();
                    default -> throw new IllegalArgumentException("unknown mode " + m);
                };
                String h = m.startsWith("direct") ? host : "127.0.0.1";
                if (client.equals("raw")) {
                    RawClient raw = new RawClient(new InetSocketAddress(h, p), user, password);
                    factories.put(m, b -> raw.publishOnce("", QUEUE, b));
                } else {
                    ConnectionFactory f = ThroughputBench.factory(h, p, user, password);
                    f.setSharedExecutor(shared);
                    factories.put(m, b -> javaClientOnce(f, b));
                }
            }

            Map<String, double[]> samples = new LinkedHashMap<>();
            Map<String, BrokerMetrics.Churn> churn = new LinkedHashMap<>();
            Map<String, BrokerMetrics.Churn> warmChurn = new LinkedHashMap<>();
            for (String m : modes) {
                BrokerMetrics.Churn before = metrics == null ? null : metrics.read();
                for (int i = 0; i < warmup; i++) {
                    once(factories.get(m), body);
                }
                if (metrics != null) {
                    Thread.sleep(settleMs);
                    warmChurn.put(m, metrics.read().minus(before));
                }
                samples.put(m, new double[clients]);
                churn.put(m, new BrokerMetrics.Churn(0, 0));
            }
            int perRound = clients / rounds;
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < modes.size(); k++) {
                    String m = modes.get((k + r) % modes.size());
                    BrokerMetrics.Churn before = metrics == null ? null : metrics.read();
                    double[] s = samples.get(m);
                    for (int i = 0; i < perRound; i++) {
                        s[r * perRound + i] = once(factories.get(m), body);
                    }
                    String opened = "";
                    if (metrics != null) {
                        Thread.sleep(settleMs); // let Warren finish closing or scrubbing what this mode left behind
                        BrokerMetrics.Churn d = metrics.read().minus(before);
                        BrokerMetrics.Churn acc = churn.get(m);
                        churn.put(m, new BrokerMetrics.Churn(acc.connectionsOpened() + d.connectionsOpened(),
                                acc.channelsOpened() + d.channelsOpened()));
                        opened = String.format(Locale.ROOT, "  broker opened %d connections, %d channels",
                                d.connectionsOpened(), d.channelsOpened());
                    }
                    System.out.printf(Locale.ROOT, "  round %d %-15s p50 %8.2f ms%s%n", r + 1, m,
                            Stats.of(java.util.Arrays.copyOfRange(s, r * perRound, (r + 1) * perRound)).p50(), opened);
                }
            }

            // Invariant 11: every message whose client finished reached the broker.
            long expected = (long) modes.size() * (clients + warmup);
            long depth = 0;
            for (int i = 0; i < 100 && (depth = adminCh.queueDeclarePassive(QUEUE).getMessageCount()) < expected;
                    i++) {
                Thread.sleep(50);
            }

            System.out.println();
            double baseP50 = samples.containsKey("direct-relay") ? Stats.of(samples.get("direct-relay")).p50()
                    : Double.NaN;
            double baseMean = samples.containsKey("direct-relay") ? Stats.of(samples.get("direct-relay")).mean()
                    : Double.NaN;
            System.out.println("mode              n      p50 ms    p99 ms   mean ms    min ms    max ms  p50/direct "
                    + "mean/direct  conn/1000  chan/1000  (warm-up conn, chan)");
            for (String m : modes) {
                Stats st = Stats.of(samples.get(m));
                BrokerMetrics.Churn c = churn.get(m);
                BrokerMetrics.Churn w = warmChurn.get(m);
                System.out.printf(Locale.ROOT, "%-15s %5d %9.2f %9.2f %9.2f %9.2f %9.2f %11.4f %11.4f %10s %10s %s%n",
                        m, st.count(), st.p50(), st.p99(), st.mean(), st.min(), st.max(), st.p50() / baseP50,
                        st.mean() / baseMean,
                        c == null || metrics == null ? "-" : String.format(Locale.ROOT, "%.1f",
                                c.connectionsOpened() * 1000.0 / clients),
                        c == null || metrics == null ? "-" : String.format(Locale.ROOT, "%.1f",
                                c.channelsOpened() * 1000.0 / clients),
                        w == null ? "" : "(" + w.connectionsOpened() + ", " + w.channelsOpened() + ")");
            }
            System.out.printf(Locale.ROOT, "messages in queue: %d of %d expected%s%n", depth, expected,
                    depth == expected ? "" : "  <-- MISMATCH");
            adminCh.queueDelete(QUEUE);
        } finally {
            shared.shutdownNow();
        }
    }

    /** One short-lived client. */
    @FunctionalInterface
    private interface Client {
        void publishOnce(byte[] body) throws Exception;
    }

    /** One short-lived client; returns its wall time in milliseconds. */
    private static double once(Client client, byte[] body) throws Exception {
        long t0 = System.nanoTime();
        client.publishOnce(body);
        return (System.nanoTime() - t0) / 1e6;
    }

    private static void javaClientOnce(ConnectionFactory f, byte[] body) throws Exception {
        Connection c = f.newConnection();
        Channel ch = c.createChannel();
        ch.basicPublish("", QUEUE, null, body);
        ch.close();
        c.close();
    }
}
