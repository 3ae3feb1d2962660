package io.warren.testsupport;

import static io.warren.testsupport.RabbitBrokerSmokeTest.connect;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** A 2-node cluster: formation, per-node handles, and the restore after stop_app, kill and stop. */
@WithRabbitCluster
@TestMethodOrder(MethodOrderer.MethodName.class)
class RabbitClusterTest {

    private static final String DECLARED_WHILE_NODE_1_DOWN = "cluster-declared-while-down-" + UUID.randomUUID();
    private static RabbitCluster fromBeforeAll;

    @BeforeAll
    static void keep(RabbitCluster cluster) {
        fromBeforeAll = cluster;
    }

    @Test
    void a_formsWithEachNodeRunningInTheOthersView(RabbitCluster cluster) {
        assertThat(cluster).isSameAs(fromBeforeAll);
        assertThat(cluster.size()).isEqualTo(2);
        List<String> names = cluster.nodes().stream().map(RabbitBroker::nodeName).toList();
        assertThat(names).doesNotHaveDuplicates();
        assertThat(cluster.runningNodes(0)).containsExactlyInAnyOrderElementsOf(names);
        assertThat(cluster.runningNodes(1)).containsExactlyInAnyOrderElementsOf(names);
        RabbitBroker n0 = cluster.node(0);
        RabbitBroker n1 = cluster.node(1);
        assertThat(n0.amqpPort()).isNotEqualTo(n1.amqpPort());
        assertThat(List.of(n0.amqpPort(), n1.amqpPort())).allSatisfy(p -> assertThat(p).isLessThan(32768));
        assertThat(cluster.amqpUrlList())
                .isEqualTo("amqp://127.0.0.1:" + n0.amqpPort() + ",amqp://127.0.0.1:" + n1.amqpPort());
        assertThat(cluster.amqpUris()).containsExactly(n0.amqpUri(), n1.amqpUri());
        assertThatThrownBy(() -> cluster.node(2)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void b_eachNodeServesItsOwnConnectionsAndSharesQueues(RabbitCluster cluster) throws Exception {
        String queue = "cluster-shared-" + UUID.randomUUID();
        String name0 = "to-node-0-" + UUID.randomUUID();
        String name1 = "to-node-1-" + UUID.randomUUID();
        try (Connection c0 = connect(cluster.node(0), name0); Connection c1 = connect(cluster.node(1), name1);
                Channel ch0 = c0.createChannel(); Channel ch1 = c1.createChannel()) {
            ch0.queueDeclare(queue, true, false, false, null);
            ch0.confirmSelect();
            ch0.basicPublish("", queue, MessageProperties.PERSISTENT_TEXT_PLAIN, bytes("from node 0"));
            ch0.waitForConfirmsOrDie(10_000);

            assertThat(ch1.queueDeclarePassive(queue).getMessageCount()).isEqualTo(1);
            assertThat(cluster.node(1).listQueues()).contains(queue);
            GetResponse got = ch1.basicGet(queue, true);
            assertThat(got).isNotNull();
            assertThat(new String(got.getBody(), StandardCharsets.UTF_8)).isEqualTo("from node 0");
            // each node lists only the connections made to it
            assertThat(connectionNames(cluster.node(0))).anyMatch(n -> n.contains(name0)).noneMatch(n -> n.contains(name1));
            assertThat(connectionNames(cluster.node(1))).anyMatch(n -> n.contains(name1)).noneMatch(n -> n.contains(name0));
            ch1.queueDelete(queue);
        }
    }

    @Test
    void c_stopAppTakesOneNodeOutAndStartAppBringsItBack(RabbitCluster cluster) throws Exception {
        RabbitBroker n0 = cluster.node(0);
        RabbitBroker n1 = cluster.node(1);
        long t0 = System.nanoTime();
        n1.stopApp();
        log("stop_app of node 1", t0);
        assertThatThrownBy(() -> connect(n1)).isInstanceOf(Exception.class);
        await("node 0 sees node 1 leave", () -> !cluster.runningNodes(0).contains(n1.nodeName()));
        connect(n0).close();
        t0 = System.nanoTime();
        n1.startApp();
        cluster.awaitHealthy();
        log("start_app of node 1 until healthy", t0);
        connect(n1).close();
    }

    @Test
    void d_killLeftForTheExtension(RabbitCluster cluster) throws Exception {
        RabbitBroker n1 = cluster.node(1);
        n1.kill();
        assertThatThrownBy(() -> connect(n1)).isInstanceOf(Exception.class);
        await("node 0 sees node 1 die", () -> !cluster.runningNodes(0).contains(n1.nodeName()));
        try (Connection c0 = connect(cluster.node(0)); Channel ch0 = c0.createChannel()) {
            ch0.queueDeclare(DECLARED_WHILE_NODE_1_DOWN, true, false, false, null);
        }
    }

    @Test
    void e_killedNodeIsBackAndRejoinedWithWhatItMissed(RabbitCluster cluster) throws Exception {
        assertHealthy(cluster);
        assertThat(cluster.node(1).listQueues()).contains(DECLARED_WHILE_NODE_1_DOWN);
        try (Connection c1 = connect(cluster.node(1)); Channel ch1 = c1.createChannel()) {
            ch1.queueDelete(DECLARED_WHILE_NODE_1_DOWN);
        }
    }

    @Test
    void f_everyNodeStopAppedOneBypassingTheHandleLeftForTheExtension(RabbitCluster cluster) {
        cluster.node(1).rabbitmqctl("stop_app"); // the handle does not know: the restore must notice by itself
        cluster.node(0).stopApp(); // the last one down: node 1 waits for it when it starts again
    }

    @Test
    void g_bothNodesAreBack(RabbitCluster cluster) throws Exception {
        assertHealthy(cluster);
    }

    @Nested
    class InANestedClass {
        @Test
        void sharesTheEnclosingClassCluster(RabbitCluster cluster) {
            assertThat(cluster).isSameAs(fromBeforeAll);
        }
    }

    private static List<String> connectionNames(RabbitBroker node) {
        return node.listConnections("client_properties").stream().map(row -> row.get("client_properties")).toList();
    }

    private static void assertHealthy(RabbitCluster cluster) throws Exception {
        List<String> names = cluster.nodes().stream().map(RabbitBroker::nodeName).toList();
        for (int i = 0; i < cluster.size(); i++) {
            assertThat(cluster.runningNodes(i)).containsExactlyInAnyOrderElementsOf(names);
            try (Connection conn = connect(cluster.node(i)); Channel ch = conn.createChannel()) {
                assertThat(ch.queueDeclare().getQueue()).isNotEmpty();
            }
        }
    }

    /** Polls a condition for up to 60 s. */
    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 60 s: " + what);
            }
            Thread.sleep(200);
        }
    }

    static void log(String what, long startNanos) {
        System.err.println("[timing] " + what + ": " + (System.nanoTime() - startNanos) / 1_000_000 + " ms");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
