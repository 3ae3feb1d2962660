package io.warren.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@link LocalRabbitNode}s joined into one cluster: booted in parallel, then nodes 1..n-1 {@code stop_app}
 * (in parallel), {@code join_cluster} node 0 (one at a time) and {@code start_app} (in parallel).
 */
final class LocalRabbitCluster implements RabbitCluster {

    private static final Duration HEALTHY_TIMEOUT = Duration.ofMinutes(2);
    /** Bounds a parallel step; every step is bounded itself (node start 120 s, rabbitmqctl 120 s). */
    private static final Duration STEP_TIMEOUT = Duration.ofMinutes(5);

    private final ClusterSpec spec;
    private final List<LocalRabbitNode> nodes;
    /** Sum of the nodes' start counts when the cluster was last seen healthy; guarded by this. */
    private int startsWhenHealthy = -1;
    private volatile String lastStartPhases = "";

    private LocalRabbitCluster(ClusterSpec spec, List<LocalRabbitNode> nodes) {
        this.spec = spec;
        this.nodes = List.copyOf(nodes);
    }

    /** Boots and joins the nodes; on failure stops every node it started and throws. */
    static LocalRabbitCluster start(RabbitInstallation inst, ClusterSpec spec) {
        inst.ensureErlangCookie();
        long t0 = System.nanoTime();
        List<LocalRabbitNode> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < spec.size(); i++) {
                nodes.add(LocalRabbitNode.prepare(inst, spec.node()));
            }
            each("boot of the nodes of a " + spec, nodes, LocalRabbitNode::start);
            LocalRabbitCluster cluster = new LocalRabbitCluster(spec, nodes);
            long booted = System.nanoTime();
            cluster.join();
            long joined = System.nanoTime();
            cluster.awaitHealthy();
            long healthy = System.nanoTime();
            cluster.lastStartPhases = "boot " + ms(booted - t0) + " ms in parallel (nodes "
                    + nodes.stream().map(n -> n.lastStartTime().toMillis() + " ms").collect(Collectors.joining(", "))
                    + "), join +" + ms(joined - booted) + " ms, healthy +" + ms(healthy - joined) + " ms, total "
                    + ms(healthy - t0) + " ms";
            return cluster;
        } catch (RuntimeException e) {
            try {
                each("shutdown", nodes, LocalRabbitNode::shutdown);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private void join() {
        List<LocalRabbitNode> joiners = nodes.subList(1, nodes.size());
        String seed = nodes.get(0).nodeName();
        each("stop_app before join_cluster " + seed, joiners, LocalRabbitNode::stopApp);
        for (LocalRabbitNode n : joiners) { // one at a time: concurrent joins race on the seed's schema
            try {
                n.rabbitmqctl("join_cluster", seed);
            } catch (RuntimeException e) {
                throw new IllegalStateException(n.nodeName() + " cannot join_cluster " + seed + " in a " + spec + ": "
                        + e.getMessage() + "\n" + n.logTails(40), e);
            }
        }
        each("start_app after join_cluster " + seed, joiners, LocalRabbitNode::startApp);
    }

    @Override
    public int size() {
        return nodes.size();
    }

    @Override
    public RabbitBroker node(int index) {
        return nodes.get(index);
    }

    @Override
    public List<RabbitBroker> nodes() {
        return List.copyOf(nodes);
    }

    @Override
    public List<URI> amqpUris() {
        return nodes.stream().map(RabbitBroker::amqpUri).toList();
    }

    @Override
    public String amqpUrlList() {
        return nodes.stream().map(n -> "amqp://" + n.host() + ":" + n.amqpPort()).collect(Collectors.joining(","));
    }

    @Override
    public List<String> runningNodes(int index) {
        return running(clusterStatus(nodes.get(index)));
    }

    private static JsonNode clusterStatus(LocalRabbitNode node) {
        return Json.parse(node.rabbitmqctl("cluster_status", "--formatter", "json"));
    }

    private static List<String> running(JsonNode status) {
        List<String> running = new ArrayList<>();
        status.path("running_nodes").forEach(n -> running.add(n.asText()));
        return running;
    }

    @Override
    public void awaitHealthy() {
        awaitHealthy(HEALTHY_TIMEOUT);
    }

    @Override
    public synchronized void awaitHealthy(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> all = nodes.stream().map(LocalRabbitNode::nodeName).toList();
        while (true) {
            int starts = startCount();
            List<Object> views = parallel(nodes, LocalRabbitCluster::clusterStatus);
            Map<String, String> problems = new LinkedHashMap<>(); // node name to what is wrong with its view
            Set<String> suspects = new LinkedHashSet<>(); // nodes whose logs may say why
            for (int i = 0; i < nodes.size(); i++) {
                if (views.get(i) instanceof JsonNode status) {
                    List<String> running = running(status);
                    JsonNode partitions = status.path("partitions");
                    if (!running.containsAll(all) || partitions.size() > 0) {
                        problems.put(all.get(i), "running_nodes " + running + ", partitions " + partitions);
                        all.stream().filter(n -> !running.contains(n)).forEach(suspects::add);
                    }
                } else {
                    problems.put(all.get(i), "cluster_status failed: " + ((RuntimeException) views.get(i)).getMessage());
                    suspects.add(all.get(i));
                }
            }
            if (problems.isEmpty()) {
                startsWhenHealthy = starts;
                return;
            }
            if (System.nanoTime() > deadline) {
                StringBuilder b = new StringBuilder("the " + spec + " is not healthy after " + timeout.toSeconds()
                        + " s (every node must list " + all + " in running_nodes, with no partitions):");
                problems.forEach((node, why) -> b.append("\n  ").append(node).append(": ").append(why));
                nodes.stream().filter(n -> suspects.contains(n.nodeName()))
                        .forEach(n -> b.append("\n").append(n.nodeName()).append(' ').append(n.logTails(30)));
                throw new IllegalStateException(b.toString());
            }
            LocalRabbitNode.sleep(500);
        }
    }

    @Override
    public synchronized void restore() {
        List<LocalRabbitNode> down = nodes.stream().filter(n -> !n.seemsRunning()).toList();
        if (down.isEmpty() && startCount() == startsWhenHealthy) {
            return;
        }
        long t0 = System.nanoTime();
        each("restore of the " + spec, down, LocalRabbitNode::ensureRunning);
        long started = System.nanoTime();
        awaitHealthy();
        System.err.println("[warren test-support] restored the " + spec + " in " + ms(System.nanoTime() - t0)
                + " ms (started " + down.stream().map(LocalRabbitNode::nodeName).toList() + " in " + ms(started - t0)
                + " ms, then healthy)");
    }

    private int startCount() {
        return nodes.stream().mapToInt(LocalRabbitNode::startCount).sum();
    }

    String lastStartPhases() {
        return lastStartPhases;
    }

    List<LocalRabbitNode> localNodes() {
        return nodes;
    }

    /**
     * Runs {@code task} for every item, each in its own thread; returns, in item order, each result or the
     * RuntimeException it threw.
     */
    private static <T> List<Object> parallel(List<T> items, Function<T, Object> task) {
        if (items.isEmpty()) {
            return List.of();
        }
        ExecutorService pool = Executors.newFixedThreadPool(items.size(), r -> {
            Thread t = new Thread(r, "warren-rabbit-cluster");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Object>> futures = items.stream().map(item -> pool.submit(() -> task.apply(item))).toList();
            List<Object> results = new ArrayList<>();
            long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
            for (Future<Object> f : futures) {
                try {
                    results.add(f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
                } catch (ExecutionException e) {
                    results.add(e.getCause() instanceof RuntimeException r ? r
                            : new IllegalStateException(e.getCause()));
                } catch (TimeoutException e) {
                    f.cancel(true);
                    results.add(new IllegalStateException("not done within " + STEP_TIMEOUT.toMinutes() + " min"));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Runs {@code action} on every node in parallel; throws one exception naming every failure. */
    private static void each(String what, List<LocalRabbitNode> nodes, Consumer<LocalRabbitNode> action) {
        List<RuntimeException> failures = parallel(nodes, n -> {
            action.accept(n);
            return n;
        }).stream().filter(RuntimeException.class::isInstance).map(RuntimeException.class::cast).toList();
        if (!failures.isEmpty()) {
            IllegalStateException e = new IllegalStateException(what + " failed: " + failures.stream()
                    .map(RuntimeException::getMessage).collect(Collectors.joining("\n---\n")), failures.get(0));
            failures.stream().skip(1).forEach(e::addSuppressed);
            throw e;
        }
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    @Override
    public String toString() {
        return spec + ": " + nodes.stream().map(n -> n.nodeName() + " (amqp " + n.host() + ":" + n.amqpPort() + ")")
                .collect(Collectors.joining(", "));
    }
}
