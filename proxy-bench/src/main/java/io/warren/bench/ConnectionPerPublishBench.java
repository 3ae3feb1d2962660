package io.warren.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.warren.api.transport.TlsClientSettings;
import io.warren.api.transport.TlsHandshakeOutcome;
import io.warren.api.transport.TlsSide;
import io.warren.api.transport.TlsStats;
import io.warren.core.WarrenProxy;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Short-lived clients against a broker far away: each iteration connects, opens a channel, publishes one
 * message, closes the channel and the connection (what a PHP-FPM worker or a cron job does), timed from before
 * connect to the arrival of connection.close-ok. The broker is put {@code --delay-ms} away each way by a
 * {@link LatencyRelay}. Modes, interleaved in rounds (order rotated each round) in one run:
 *
 * <ul>
 *   <li>{@code direct-loopback}: straight to the broker, no relay: the floor set by the client library and the
 *       broker on this machine;</li>
 *   <li>{@code direct-relay}: straight to the broker through the relay (the baseline of the plain modes);</li>
 *   <li>{@code warren-never}: through an in-process Warren whose upstream goes through the relay, reuse policy
 *       {@code never} (reuse off);</li>
 *   <li>{@code warren-reuse}: the same with reuse policy {@code publish-safe} (reuse on);</li>
 *   <li>{@code direct-tls-loopback}, {@code direct-tls-relay}: the client speaks amqps (TLS handshake with SNI and
 *       host name verification against {@code --server-name}, trusting {@code --ca-file}) to the broker's amqps
 *       port {@code --tls-port}, without or through a relay; {@code direct-tls-relay} is the baseline of the TLS
 *       modes;</li>
 *   <li>{@code warren-tls-never}, {@code warren-tls-reuse}: the client speaks plain AMQP to an in-process Warren
 *       on loopback; Warren speaks amqps (verifying, same CA and server name) through the relay to the broker's
 *       amqps port.</li>
 * </ul>
 *
 * Also reports the broker's own churn counters per mode (rabbitmq_prometheus {@code /metrics}, aggregated:
 * {@code rabbitmq_connections_opened_total}, {@code rabbitmq_channels_opened_total}) per 1000 clients, warm-up
 * excluded, and checks that every published message reached the queue.
 *
 * <pre>java -cp proxy-bench/target/benchmarks.jar io.warren.bench.ConnectionPerPublishBench --broker-port 56900 \
 *     --metrics-port 56902
 * java -cp proxy-bench/target/benchmarks.jar io.warren.bench.ConnectionPerPublishBench --broker-port 56960 \
 *     --tls-port 56962 --ca-file /tmp/warren-tlsbench/ca.pem --metrics-port 56963</pre>
 *
 * Options: --broker-host (127.0.0.1) --broker-port (5672; plain AMQP, also used for the bench's own queue
 * set-up and check) --metrics-port (0: skip churn counters) --delay-ms (25, one way) --clients (200 per mode)
 * --rounds (4) --warmup (30 per mode) --modes (direct-loopback,direct-relay,warren-never,warren-reuse; with
 * --tls-port: direct-tls-loopback,direct-tls-relay,warren-tls-never,warren-tls-reuse) --baseline (direct-relay,
 * or direct-tls-relay when the modes include it) --user/--password (guest) --settle-ms (500: pause after each
 * batch before reading the broker's counters, so channels that Warren closes or scrubs after its clients left
 * are counted for the mode that caused them) --client (raw: {@link RawClient}, a blocking single-socket client
 * on Warren's codec; java: the RabbitMQ Java client with a shared executor and recovery off, which still starts a
 * reader thread and more per connection, a cost paid in every mode alike and visible in {@code direct-loopback})
 * --tls-port (0: no TLS modes) --ca-file (PEM CA bundle trusted by the direct TLS clients and by Warren)
 * --server-name (localhost: SNI and the name verified in the broker's certificate) --tls-resume (false: every
 * direct TLS client starts with an empty session cache, a full handshake, like a new process; true: the direct
 * clients share one SSLContext and the JDK resumes sessions).
 */
public final class ConnectionPerPublishBench {
    private ConnectionPerPublishBench() {}

    private static final String QUEUE = "warren.bench.connection-per-publish";
    private static final List<String> PLAIN_MODES =
            List.of("direct-loopback", "direct-relay", "warren-never", "warren-reuse");
    private static final List<String> TLS_MODES =
            List.of("direct-tls-loopback", "direct-tls-relay", "warren-tls-never", "warren-tls-reuse");

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
        int tlsPort = a.intValue("tls-port", 0);
        String caFile = a.value("ca-file", null);
        String serverName = a.value("server-name", "localhost");
        boolean tlsResume = Boolean.parseBoolean(a.value("tls-resume", "false"));
        List<String> modes = List.of(a.value("modes", String.join(",", tlsPort > 0 ? TLS_MODES : PLAIN_MODES))
                .split(","));
        String baseline = a.value("baseline", modes.contains("direct-tls-relay") ? "direct-tls-relay"
                : "direct-relay");
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
        for (String m : modes) {
            if (!PLAIN_MODES.contains(m) && !TLS_MODES.contains(m)) {
                throw new IllegalArgumentException("unknown mode " + m + "; known: " + PLAIN_MODES + " " + TLS_MODES);
            }
        }
        boolean anyTls = modes.stream().anyMatch(TLS_MODES::contains);
        if (anyTls && (tlsPort <= 0 || caFile == null)) {
            throw new IllegalArgumentException("the TLS modes need --tls-port and --ca-file");
        }
        System.out.printf(Locale.ROOT, "ConnectionPerPublishBench: broker %s:%d%s, %d ms each way through the relay, "
                + "%d clients per mode in %d rounds, %d warm-up clients per mode, %s client, %d CPUs, %s, "
                + "baseline %s%n", host, port,
                anyTls ? String.format(Locale.ROOT, " (amqps %d, server name %s, CA %s, session resumption %s)",
                        tlsPort, serverName, caFile, tlsResume ? "on" : "off") : "",
                delayMs, clients, rounds, warmup, client, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.version"), baseline);

        BrokerMetrics metrics = metricsPort > 0 ? new BrokerMetrics(metricsPort) : null;
        ExecutorService shared = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "bench-client-shared");
            t.setDaemon(true);
            return t;
        });
        byte[] body = "short-lived client says hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Deque<AutoCloseable> resources = new ArrayDeque<>();
        try {
            BenchTls directTls = anyTls ? new BenchTls(Path.of(caFile), serverName, tlsResume) : null;
            TlsClientSettings warrenTls = anyTls
                    ? TlsClientSettings.verifying(serverName).withCaFile(Path.of(caFile)) : null;
            LatencyRelay relay = null;
            if (modes.stream().anyMatch(m -> m.equals("direct-relay") || m.equals("warren-never")
                    || m.equals("warren-reuse"))) {
                relay = LatencyRelay.start(0, host, port, Duration.ofMillis(delayMs));
                resources.push(relay);
            }
            LatencyRelay tlsRelay = null;
            if (modes.stream().anyMatch(m -> TLS_MODES.contains(m) && !m.equals("direct-tls-loopback"))) {
                tlsRelay = LatencyRelay.start(0, host, tlsPort, Duration.ofMillis(delayMs));
                resources.push(tlsRelay);
            }
            Map<String, WarrenProxy> warrens = new LinkedHashMap<>();
            for (String m : modes) {
                if (m.startsWith("warren")) {
                    boolean tls = m.startsWith("warren-tls");
                    WarrenProxy w = Warren.start("127.0.0.1", (tls ? tlsRelay : relay).port(),
                            m.endsWith("-reuse") ? "publish-safe" : "never", tls ? warrenTls : null);
                    resources.push(w);
                    warrens.put(m, w);
                }
            }
            Connection admin = ThroughputBench.factory(host, port, user, password).newConnection("bench-admin");
            resources.push(admin);
            Channel adminCh = admin.createChannel();
            adminCh.queueDeclare(QUEUE, false, false, false, null);
            adminCh.queuePurge(QUEUE);

            Map<String, Client> factories = new LinkedHashMap<>();
            Map<String, RawClient> rawTlsClients = new LinkedHashMap<>();
            for (String m : modes) {
                int p = switch (m) {
                    case "direct-loopback" -> port;
                    case "direct-relay" -> relay.port();
                    case "direct-tls-loopback" -> tlsPort;
                    case "direct-tls-relay" -> tlsRelay.port();
                    default -> warrens.get(m).listenAddress().getPort();
                };
                String h = m.startsWith("direct") ? host : "127.0.0.1";
                BenchTls tls = m.startsWith("direct-tls") ? directTls : null;
                if (client.equals("raw")) {
                    RawClient raw = new RawClient(new InetSocketAddress(h, p), user, password, tls);
                    factories.put(m, b -> raw.publishOnce("", QUEUE, b));
                    if (tls != null) {
                        rawTlsClients.put(m, raw);
                    }
                } else {
                    factories.put(m, b -> javaClientOnce(h, p, user, password, shared, tls, b));
                }
            }

            Map<String, double[]> samples = new LinkedHashMap<>();
            Map<String, double[]> handshakes = new LinkedHashMap<>();
            Map<String, BrokerMetrics.Churn> churn = new LinkedHashMap<>();
            Map<String, BrokerMetrics.Churn> warmChurn = new LinkedHashMap<>();
            for (String m : modes) {
                BrokerMetrics.Churn before = metrics == null ? null : metrics.read();
                for (int i = 0; i < warmup; i++) {
                    once(factories.get(m), body);
                }
                if (rawTlsClients.containsKey(m)) {
                    System.out.printf(Locale.ROOT, "  %s: TLS session %s%n", m, rawTlsClients.get(m).lastTlsSession());
                }
                if (metrics != null) {
                    Thread.sleep(settleMs);
                    warmChurn.put(m, metrics.read().minus(before));
                }
                samples.put(m, new double[clients]);
                handshakes.put(m, new double[clients]);
                churn.put(m, new BrokerMetrics.Churn(0, 0));
            }
            int perRound = clients / rounds;
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < modes.size(); k++) {
                    String m = modes.get((k + r) % modes.size());
                    BrokerMetrics.Churn before = metrics == null ? null : metrics.read();
                    double[] s = samples.get(m);
                    double[] hs = handshakes.get(m);
                    RawClient raw = rawTlsClients.get(m);
                    for (int i = 0; i < perRound; i++) {
                        s[r * perRound + i] = once(factories.get(m), body);
                        hs[r * perRound + i] = raw == null ? 0 : raw.lastTlsHandshakeNanos() / 1e6;
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
                    System.out.printf(Locale.ROOT, "  round %d %-19s p50 %8.2f ms%s%n", r + 1, m,
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
            double baseP50 = samples.containsKey(baseline) ? Stats.of(samples.get(baseline)).p50() : Double.NaN;
            double baseMean = samples.containsKey(baseline) ? Stats.of(samples.get(baseline)).mean() : Double.NaN;
            System.out.println("mode                  n      p50 ms    p99 ms   mean ms    min ms    max ms  p50/base  "
                    + "mean/base  base/p50  conn/1000  chan/1000  (warm-up conn, chan)");
            for (String m : modes) {
                Stats st = Stats.of(samples.get(m));
                BrokerMetrics.Churn c = churn.get(m);
                BrokerMetrics.Churn w = warmChurn.get(m);
                System.out.printf(Locale.ROOT,
                        "%-19s %5d %9.2f %9.2f %9.2f %9.2f %9.2f %9.4f %10.4f %9.1f %10s %10s %s%n",
                        m, st.count(), st.p50(), st.p99(), st.mean(), st.min(), st.max(), st.p50() / baseP50,
                        st.mean() / baseMean, baseP50 / st.p50(),
                        c == null || metrics == null ? "-" : String.format(Locale.ROOT, "%.1f",
                                c.connectionsOpened() * 1000.0 / clients),
                        c == null || metrics == null ? "-" : String.format(Locale.ROOT, "%.1f",
                                c.channelsOpened() * 1000.0 / clients),
                        w == null ? "" : "(" + w.connectionsOpened() + ", " + w.channelsOpened() + ")");
            }
            for (String m : rawTlsClients.keySet()) {
                Stats h = Stats.of(handshakes.get(m));
                System.out.printf(Locale.ROOT, "%s: TLS handshake (TCP connected to handshake done) p50 %.2f ms, "
                        + "p99 %.2f ms, mean %.2f ms%n", m, h.p50(), h.p99(), h.mean());
            }
            for (Map.Entry<String, WarrenProxy> e : warrens.entrySet()) {
                if (e.getKey().startsWith("warren-tls")) {
                    TlsStats ts = e.getValue().tlsStats();
                    StringBuilder sb = new StringBuilder();
                    for (TlsHandshakeOutcome o : TlsHandshakeOutcome.values()) {
                        long n = ts.handshakes(TlsSide.CLIENT, o);
                        if (n > 0) {
                            sb.append(' ').append(o.label()).append('=').append(n);
                        }
                    }
                    System.out.printf(Locale.ROOT, "%s: Warren's upstream TLS handshakes (whole run):%s%n", e.getKey(),
                            sb.length() == 0 ? " none" : sb);
                }
            }
            System.out.printf(Locale.ROOT, "messages in queue: %d of %d expected%s%n", depth, expected,
                    depth == expected ? "" : "  <-- MISMATCH");
            adminCh.queueDelete(QUEUE);
        } finally {
            while (!resources.isEmpty()) {
                try {
                    resources.pop().close();
                } catch (Exception e) {
                    System.err.println("closing: " + e);
                }
            }
            shared.shutdownNow();
        }
    }

    /** One short-lived client. */
    @FunctionalInterface
    private interface Client {
        /** @return {@link System#nanoTime()} when the client's connection.close-ok arrived */
        long publishOnce(byte[] body) throws Exception;
    }

    /** One short-lived client; returns its wall time in milliseconds, from before connect to close-ok. */
    private static double once(Client client, byte[] body) throws Exception {
        long t0 = System.nanoTime();
        long end = client.publishOnce(body);
        return (end - t0) / 1e6;
    }

    private static long javaClientOnce(String host, int port, String user, String password, ExecutorService shared,
            BenchTls tls, byte[] body) throws Exception {
        ConnectionFactory f = ThroughputBench.factory(host, port, user, password);
        f.setSharedExecutor(shared);
        if (tls != null) {
            // a fresh context per client unless --tls-resume; host name checked against the connected address
            // (the certificate carries IP 127.0.0.1 as well as localhost)
            f.useSslProtocol(tls.context());
            f.enableHostnameVerification();
        }
        Connection c = f.newConnection();
        Channel ch = c.createChannel();
        ch.basicPublish("", QUEUE, null, body);
        ch.close();
        c.close();
        return System.nanoTime();
    }
}
