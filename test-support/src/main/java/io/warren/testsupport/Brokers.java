package io.warren.testsupport;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.opentest4j.TestAbortedException;

/**
 * Per-JVM registry: resolves a broker for a {@link NodeSpec} or a cluster for a {@link ClusterSpec}, starts it
 * once, stops all at JVM exit.
 */
final class Brokers {

    /** Key: NodeSpec or ClusterSpec; value: its AbstractBroker or LocalRabbitCluster, or what its start threw. */
    private static final Map<Object, Object> STARTED = new LinkedHashMap<>();
    private static final String INSTALL_HINT = "install rabbitmq-server (Debian/Ubuntu: apt-get install "
            + "rabbitmq-server; the fixture starts its own private nodes, the system service is not needed; or set "
            + "WARREN_RABBITMQ_SBIN to the dir holding rabbitmq-server)";
    private static boolean hookInstalled;
    private static boolean reaped;

    private Brokers() {
    }

    static synchronized AbstractBroker get(NodeSpec spec) {
        return getOrStart(spec, "the broker for " + spec, AbstractBroker.class, () -> create(spec));
    }

    /** The broker for this spec if one was already created (does not start one). */
    static synchronized Optional<AbstractBroker> existing(NodeSpec spec) {
        return STARTED.get(spec) instanceof AbstractBroker b ? Optional.of(b) : Optional.empty();
    }

    static synchronized LocalRabbitCluster cluster(ClusterSpec spec) {
        return getOrStart(spec, "the " + spec, LocalRabbitCluster.class, () -> createCluster(spec));
    }

    /** The cluster for this spec if one was already created (does not start one). */
    static synchronized Optional<LocalRabbitCluster> existingCluster(ClusterSpec spec) {
        return STARTED.get(spec) instanceof LocalRabbitCluster c ? Optional.of(c) : Optional.empty();
    }

    /** A start that failed is remembered: later tests fail at once instead of booting nodes again. */
    private static <T> T getOrStart(Object spec, String what, Class<T> type, Supplier<T> start) {
        Object cached = STARTED.get(spec);
        if (type.isInstance(cached)) {
            return type.cast(cached);
        }
        if (cached instanceof RuntimeException e) {
            throw new IllegalStateException(what + " failed to start earlier in this JVM: " + e.getMessage(), e);
        }
        try {
            T started = start.get();
            STARTED.put(spec, started);
            return started;
        } catch (TestAbortedException e) {
            throw e;
        } catch (RuntimeException e) {
            STARTED.put(spec, e);
            throw e;
        }
    }

    private static AbstractBroker create(NodeSpec spec) {
        String uri = System.getenv("AMQP_TEST_URI");
        if (uri != null && !uri.isBlank()) {
            if (!spec.isDefault()) {
                throw new TestAbortedException("this test needs " + spec
                        + ", which an external broker (AMQP_TEST_URI) cannot provide; unset AMQP_TEST_URI to run it");
            }
            return new ExternalBroker(URI.create(uri.strip()), System.getenv("AMQP_TEST_NODE"));
        }
        installHook();
        Optional<RabbitInstallation> inst = RabbitInstallation.detect();
        if (inst.isPresent()) {
            reapOrphansOnce();
            LocalRabbitNode node = LocalRabbitNode.start(inst.get(), spec);
            System.err.println("[warren test-support] started " + node + " in " + node.lastStartTime().toMillis() + " ms ("
                    + node.lastStartPhases() + ")");
            return node;
        }
        if (ContainerBroker.dockerAnswers()) {
            Class<?> type = ContainerBroker.containerClass();
            if (type != null) {
                return ContainerBroker.start(type, spec);
            }
        }
        throw new IllegalStateException("No RabbitMQ broker for tests. Either " + INSTALL_HINT
                + ", or set AMQP_TEST_URI=amqp://guest:guest@127.0.0.1:5672/%2F to use a running broker, or run a "
                + "Docker engine and add org.testcontainers:rabbitmq to the test classpath. .ci/run installs "
                + "rabbitmq-server.");
    }

    private static LocalRabbitCluster createCluster(ClusterSpec spec) {
        Optional<RabbitInstallation> inst = RabbitInstallation.detect();
        if (inst.isEmpty()) {
            String why = "A " + spec + " needs private nodes, started from a local rabbitmq-server, and none is "
                    + "installed: " + INSTALL_HINT + ". .ci/run installs rabbitmq-server.";
            String external = System.getenv("AMQP_TEST_URI");
            if (external != null && !external.isBlank()) {
                throw new TestAbortedException(why + " (AMQP_TEST_URI names one external broker, not a cluster)");
            }
            throw new IllegalStateException(why);
        }
        installHook();
        reapOrphansOnce();
        LocalRabbitCluster cluster = LocalRabbitCluster.start(inst.get(), spec);
        System.err.println("[warren test-support] started " + cluster + " (" + cluster.lastStartPhases() + ")");
        return cluster;
    }

    private static void reapOrphansOnce() {
        if (!reaped) {
            reaped = true;
            LocalRabbitNode.reapOrphans();
        }
    }

    private static void installHook() {
        if (hookInstalled) {
            return;
        }
        hookInstalled = true;
        Runtime.getRuntime().addShutdownHook(new Thread(Brokers::shutdownAll, "warren-rabbit-cleanup"));
    }

    private static void shutdownAll() {
        List<AbstractBroker> all = new ArrayList<>(); // a cluster's nodes too: all stop in parallel
        synchronized (Brokers.class) {
            for (Object o : STARTED.values()) {
                if (o instanceof AbstractBroker b) {
                    all.add(b);
                } else if (o instanceof LocalRabbitCluster c) {
                    all.addAll(c.localNodes());
                }
            }
            STARTED.clear();
        }
        List<Thread> threads = new ArrayList<>();
        for (AbstractBroker b : all) {
            Thread t = new Thread(b::shutdown, "warren-rabbit-stop");
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            try {
                t.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
