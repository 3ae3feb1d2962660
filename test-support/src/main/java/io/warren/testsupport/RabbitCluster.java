package io.warren.testsupport;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * A real RabbitMQ cluster for a test, injected by {@link RabbitClusterExtension} (see {@link WithRabbitCluster}):
 * private nodes started from the installed {@code rabbitmq-server}, each with its own node name, data dir and
 * free loopback ports (AMQP, Erlang distribution, plugins), all sharing the Erlang cookie of the user they run as,
 * joined with {@code rabbitmqctl join_cluster} to node 0. Node {@code i} is a {@link RabbitBroker} handle: its
 * {@code stopApp}, {@code startApp}, {@code kill}, {@code start}, {@code stop}, {@code rabbitmqctl},
 * {@code listConnections} act on that node alone (users, vhosts and queue definitions are cluster-wide).
 *
 * <p>One cluster per JVM per (size, {@link BrokerConfig}), started once and shared by every test class that asks
 * for it: use unique queue, user and vhost names. After each test the extension calls {@link #restore()}, so a
 * test may leave nodes stopped, stop_app'ed or killed. A test that changes membership itself ({@code reset},
 * {@code forget_cluster_node}) must undo that itself. To bring several nodes back within a test, call
 * {@link #restore()} rather than {@code node(i).start()} one after the other: RabbitMQ makes a node that went down
 * before its peers wait at boot for one of them, so starting it first blocks until the node start times out.
 *
 * <p>No external or containerised cluster: without a local {@code rabbitmq-server} the test fails (or is skipped
 * when {@code AMQP_TEST_URI} names a single external broker).
 */
public interface RabbitCluster {

    /** Number of nodes. */
    int size();

    /**
     * Node {@code index} (0 to size - 1; node 0 is the one the others joined).
     *
     * @throws IndexOutOfBoundsException outside that range
     */
    RabbitBroker node(int index);

    /** All nodes, in index order. */
    List<RabbitBroker> nodes();

    /** Each node's {@link RabbitBroker#amqpUri()} (guest on vhost "/"), in index order. */
    List<URI> amqpUris();

    /**
     * The nodes as one comma-separated list without credentials or vhost, in index order, e.g.
     * {@code amqp://127.0.0.1:21001,amqp://127.0.0.1:21002}: the form Warren's {@code upstream} takes.
     */
    String amqpUrlList();

    /**
     * The node names node {@code index} reports as running ({@code rabbitmqctl cluster_status}), its own included.
     *
     * @throws IllegalStateException if the node does not answer
     */
    List<String> runningNodes(int index);

    /** {@link #awaitHealthy(Duration)} with two minutes. */
    void awaitHealthy();

    /**
     * Waits until every node's {@code cluster_status} lists every node in {@code running_nodes} and reports no
     * partition.
     *
     * @throws IllegalStateException after the timeout, with what each node reported and the log tails of the
     *                               nodes that were not running everywhere
     */
    void awaitHealthy(Duration timeout);

    /**
     * Brings every node that is not running back (in parallel: a node that stopped before its peers waits for
     * them at boot), whatever stopped it, then {@link #awaitHealthy()}. A killed or stopped node starts again on
     * its ports and data dir and rejoins by itself; a stop_app'ed one gets {@code start_app}. When every node
     * looks up and none was restarted since the cluster was last seen healthy, this costs no rabbitmqctl call.
     */
    void restore();
}
