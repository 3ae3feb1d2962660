package io.warren.testsupport;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.opentest4j.TestAbortedException;

/** Per-JVM registry: resolves a broker for a {@link NodeSpec}, starts it once, stops all at JVM exit. */
final class Brokers {

    private static final Map<NodeSpec, Object> BROKERS = new LinkedHashMap<>(); // AbstractBroker or RuntimeException
    private static boolean hookInstalled;
    private static boolean reaped;

    private Brokers() {
    }

    static synchronized AbstractBroker get(NodeSpec spec) {
        Object cached = BROKERS.get(spec);
        if (cached instanceof AbstractBroker b) {
            return b;
        }
        if (cached instanceof RuntimeException e) {
            throw new IllegalStateException("the broker for " + spec + " failed to start earlier in this JVM: "
                    + e.getMessage(), e);
        }
        try {
            AbstractBroker broker = create(spec);
            BROKERS.put(spec, broker);
            return broker;
        } catch (TestAbortedException e) {
            throw e;
        } catch (RuntimeException e) {
            BROKERS.put(spec, e);
            throw e;
        }
    }

    /** The broker for this spec if one was already created (does not start one). */
    static synchronized Optional<AbstractBroker> existing(NodeSpec spec) {
        return BROKERS.get(spec) instanceof AbstractBroker b ? Optional.of(b) : Optional.empty();
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
            if (!reaped) {
                reaped = true;
                LocalRabbitNode.reapOrphans();
            }
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
        throw new IllegalStateException("No RabbitMQ broker for tests. Either install rabbitmq-server "
                + "(Debian/Ubuntu: apt-get install rabbitmq-server; the fixture starts its own private node, the "
                + "system service is not needed; or set WARREN_RABBITMQ_SBIN to the dir holding rabbitmq-server), "
                + "or set AMQP_TEST_URI=amqp://guest:guest@127.0.0.1:5672/%2F to use a running broker, or run a "
                + "Docker engine and add org.testcontainers:rabbitmq to the test classpath. .ci/run installs "
                + "rabbitmq-server.");
    }

    private static void installHook() {
        if (hookInstalled) {
            return;
        }
        hookInstalled = true;
        Runtime.getRuntime().addShutdownHook(new Thread(Brokers::shutdownAll, "warren-rabbit-cleanup"));
    }

    private static void shutdownAll() {
        List<AbstractBroker> all = new ArrayList<>();
        synchronized (Brokers.class) {
            for (Object o : BROKERS.values()) {
                if (o instanceof AbstractBroker b) {
                    all.add(b);
                }
            }
            BROKERS.clear();
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
