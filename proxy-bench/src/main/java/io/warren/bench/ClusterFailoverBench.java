package io.warren.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.warren.api.ChannelReusePolicy;
import io.warren.api.CredentialKeyer;
import io.warren.api.Providers;
import io.warren.api.transport.Transport;
import io.warren.api.transport.TransportSettings;
import io.warren.core.WarrenProxy;
import io.warren.core.config.ProxyConfig;
import io.warren.core.config.UpstreamNode;
import io.warren.core.stats.NodeStatus;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Short-lived publishers with confirms at a fixed rate while one node of a two-node (or larger) cluster is stopped
 * ({@code rabbitmqctl stop_app}) and started again, first through Warren (the cluster's nodes as its upstream), then
 * straight to the nodes in turn, as an application without Warren would connect. For each mode: how many clients
 * failed and why, and how long clients took before, during and after the outage; for Warren also the longest wait
 * of any client that started after Warren saw the node die (issue 13's goal: under 100 ms), and for direct the
 * clients that were sent to the dead node.
 *
 * <pre>
 * java -cp proxy-bench/target/benchmarks.jar io.warren.bench.ClusterFailoverBench \
 *     --ports 31200,31210 --nodes a@localhost,b@localhost --stop 1 --rate 100 --seconds 30
 * </pre>
 *
 * The nodes must be running and clustered (docs/benchmarks.md shows how); node {@code --stop} is stopped at a third
 * of the run and started again at two thirds. Users {@code failover-0..3} (password {@code failover}) are created so
 * that Warren's pool keys spread over the nodes.
 */
public final class ClusterFailoverBench {
    private static final int USERS = 4;

    private ClusterFailoverBench() {}

    /** One client's fate. */
    private record Outcome(long startNanos, long nanos, String error, int node) {}

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        List<Integer> ports = new ArrayList<>();
        for (String p : args.value("ports", "31200,31210").split(",")) {
            ports.add(Integer.parseInt(p.trim()));
        }
        String[] nodeNames = args.value("nodes", "a@localhost,b@localhost").split(",");
        int stop = args.intValue("stop", 1);
        int rate = args.intValue("rate", 100);
        int seconds = args.intValue("seconds", 30);
        String modes = args.value("modes", "warren,direct");
        args.done();
        String queue = "failover-" + System.nanoTime();
        setUp(ports.get((stop + 1) % ports.size()), nodeNames, queue);
        System.out.printf("cluster %s, stopping %s (port %d) at %d s for %d s; %d clients/s for %d s; load %s%n",
                ports, nodeNames[stop], ports.get(stop), seconds / 3, seconds / 3, rate, seconds, load());
        for (String mode : modes.split(",")) {
            run(mode.trim(), ports, nodeNames[stop], stop, rate, seconds, queue);
        }
    }

    private static void setUp(int port, String[] nodes, String queue) throws Exception {
        String users = ProcessProbe.run(List.of("rabbitmqctl", "-n", nodes[0], "list_users", "--quiet"));
        for (int i = 0; i < USERS; i++) {
            if (!users.contains("failover-" + i)) { // a second run on the same cluster
                rabbitmqctl(nodes[0], "add_user", "failover-" + i, "failover");
            }
            rabbitmqctl(nodes[0], "set_permissions", "failover-" + i, ".*", ".*", ".*");
        }
        ConnectionFactory f = new ConnectionFactory();
        f.setPort(port);
        try (Connection c = f.newConnection(); Channel ch = c.createChannel()) {
            // A quorum queue survives the loss of one of three nodes; on two nodes, a classic queue on the node that
            // stays up is what survives: it is declared through that node.
            ch.queueDeclare(queue, true, false, false, null);
        }
    }

    private static void run(String mode, List<Integer> ports, String stopNode, int stop, int rate, int seconds,
            String queue) throws Exception {
        WarrenProxy warren = null;
        if (mode.equals("warren")) {
            List<UpstreamNode> nodes = new ArrayList<>();
            for (int p : ports) {
                nodes.add(UpstreamNode.of(new InetSocketAddress("127.0.0.1", p)));
            }
            ClassLoader cl = ClusterFailoverBench.class.getClassLoader();
            warren = WarrenProxy.start(ProxyConfig.builder(nodes).listen(new InetSocketAddress("127.0.0.1", 0))
                            .upstreamHeartbeat(Duration.ofSeconds(5)).build(),
                    Providers.load(Transport.class, "nio", cl), TransportSettings.defaults(),
                    Providers.load(CredentialKeyer.class, "credentials", cl),
                    Providers.load(ChannelReusePolicy.class, "publish-safe", cl));
            warren.awaitNodesChecked(Duration.ofSeconds(10));
        }
        ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
        ExecutorService clients = Executors.newCachedThreadPool();
        ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
        AtomicInteger next = new AtomicInteger();
        byte[] body = "failover".getBytes(StandardCharsets.UTF_8);
        long t0 = System.nanoTime();
        int warrenPort = warren == null ? 0 : warren.listenAddress().getPort();
        clock.scheduleAtFixedRate(() -> {
            int i = next.getAndIncrement();
            int node = i % ports.size();
            InetSocketAddress to = new InetSocketAddress("127.0.0.1", warrenPort != 0 ? warrenPort : ports.get(node));
            clients.execute(() -> {
                long start = System.nanoTime();
                String error = null;
                try {
                    new RawClient(to, "failover-" + (i % USERS), "failover").publishConfirmed("", queue, body, null);
                } catch (Exception e) {
                    error = String.valueOf(e.getMessage());
                }
                outcomes.add(new Outcome(start - t0, System.nanoTime() - start, error, warrenPort != 0 ? -1 : node));
            });
        }, 0, 1_000_000 / rate, TimeUnit.MICROSECONDS);
        long stopAt = TimeUnit.SECONDS.toNanos(seconds) / 3;
        long startAt = 2 * stopAt;
        TimeUnit.NANOSECONDS.sleep(stopAt);
        long stopped = System.nanoTime() - t0;
        rabbitmqctl(stopNode, "stop_app");
        long stopReturned = System.nanoTime() - t0;
        long seenDown = -1;
        if (warren != null) {
            while (seenDown < 0 && System.nanoTime() - t0 < startAt) {
                for (NodeStatus n : warren.nodes()) {
                    if (!n.up()) {
                        seenDown = System.nanoTime() - t0;
                    }
                }
                Thread.sleep(1);
            }
        }
        TimeUnit.NANOSECONDS.sleep(Math.max(0, startAt - (System.nanoTime() - t0)));
        rabbitmqctl(stopNode, "start_app");
        long started = System.nanoTime() - t0;
        TimeUnit.NANOSECONDS.sleep(Math.max(0, TimeUnit.SECONDS.toNanos(seconds) - (System.nanoTime() - t0)));
        clock.shutdownNow();
        clients.shutdown();
        clients.awaitTermination(60, TimeUnit.SECONDS);
        report(mode, new ArrayList<>(outcomes), stopped, stopReturned, seenDown, started, stop);
        if (warren != null) {
            for (NodeStatus n : warren.nodes()) {
                System.out.printf("  node %s: %s since %s, %d connections, %d failovers, %d failed attempts%n",
                        n.name(), n.state(), n.since(), n.connections(), n.failovers(),
                        n.connectFailures());
            }
            warren.close();
        }
    }

    private static void report(String mode, List<Outcome> all, long stopped, long stopReturned, long seenDown,
            long started, int stop) {
        all.sort((a, b) -> Long.compare(a.startNanos(), b.startNanos()));
        System.out.printf("%n%s: %d clients; node stopped at %.2f s (stop_app returned %.2f s), %sstarted again at"
                        + " %.2f s%n", mode, all.size(), stopped / 1e9, stopReturned / 1e9,
                seenDown < 0 ? "" : String.format("seen down by Warren at %.3f s, ", seenDown / 1e9), started / 1e9);
        phase("  before", all, 0, stopped);
        phase("  during", all, stopped, started);
        phase("  after", all, started, Long.MAX_VALUE);
        Map<String, Integer> errors = new TreeMap<>();
        int toDeadNode = 0;
        for (Outcome o : all) {
            if (o.error() != null) {
                errors.merge(o.error().length() > 120 ? o.error().substring(0, 120) : o.error(), 1, Integer::sum);
            }
            if (o.node() == stop && o.startNanos() >= stopped && o.startNanos() < started) {
                toDeadNode++;
            }
        }
        System.out.printf("  errors: %d%s%n", errors.values().stream().mapToInt(Integer::intValue).sum(),
                mode.equals("direct") ? " (clients sent to the stopped node while it was down: " + toDeadNode + ")"
                        : "");
        errors.forEach((e, n) -> System.out.printf("    %5d  %s%n", n, e));
        if (seenDown >= 0) {
            long worst = 0;
            for (Outcome o : all) {
                if (o.startNanos() >= seenDown && o.startNanos() < started && o.error() == null) {
                    worst = Math.max(worst, o.nanos());
                }
            }
            System.out.printf("  longest wait of a client that started after Warren saw the node down and before it"
                    + " was back: %.1f ms%n", worst / 1e6);
        }
    }

    private static void rabbitmqctl(String node, String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("rabbitmqctl", "-n", node));
        cmd.addAll(List.of(command));
        ProcessProbe.run(cmd);
    }

    private static String load() throws java.io.IOException {
        return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
    }

    /** Nearest-rank percentile of sorted nanoseconds; 0 for none. */
    private static double percentile(List<Long> sorted, double p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        int i = (int) Math.ceil(p / 100 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    private static void phase(String name, List<Outcome> all, long from, long to) {
        List<Long> ok = new ArrayList<>();
        int failed = 0;
        for (Outcome o : all) {
            if (o.startNanos() >= from && o.startNanos() < to) {
                if (o.error() == null) {
                    ok.add(o.nanos());
                } else {
                    failed++;
                }
            }
        }
        ok.sort(Long::compare);
        System.out.printf("%s: %d ok, %d failed; ms p50 %.2f p99 %.2f max %.2f%n", name, ok.size(), failed,
                percentile(ok, 50) / 1e6, percentile(ok, 99) / 1e6,
                ok.isEmpty() ? 0 : ok.get(ok.size() - 1) / 1e6);
    }
}
