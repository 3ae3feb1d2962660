package io.warren.testsupport;

import static io.warren.testsupport.RabbitBrokerSmokeTest.connect;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** A 3-node cluster: a quorum queue keeps accepting and delivering while one node (its leader) is down. */
@WithRabbitCluster(nodes = 3)
class RabbitClusterQuorumTest {

    @Test
    void quorumQueueSurvivesItsLeaderStopApp(RabbitCluster cluster) throws Exception {
        assertThat(cluster.size()).isEqualTo(3);
        String queue = "quorum-" + UUID.randomUUID();
        try (Connection c0 = connect(cluster.node(0)); Channel ch = c0.createChannel()) {
            ch.queueDeclare(queue, true, false, false, Map.of("x-queue-type", "quorum"));
            publishConfirmed(ch, queue, "before");
        }
        Map<String, String> info = Json.parseRows(cluster.node(1).rabbitmqctl("list_queues", "-q", "--formatter",
                "json", "name", "type", "leader", "members")).stream().filter(row -> queue.equals(row.get("name")))
                .findFirst().orElseThrow();
        assertThat(info.get("type")).isEqualTo("quorum");
        for (RabbitBroker node : cluster.nodes()) {
            assertThat(info.get("members")).contains(node.nodeName());
        }
        int leader = indexOf(cluster, info.get("leader"));
        int other = (leader + 1) % cluster.size();

        long t0 = System.nanoTime();
        cluster.node(leader).stopApp();
        RabbitClusterTest.log("stop_app of the quorum queue's leader (node " + leader + ")", t0);
        t0 = System.nanoTime();
        List<String> bodies = new ArrayList<>();
        try (Connection conn = connect(cluster.node(other)); Channel ch = conn.createChannel()) {
            publishConfirmed(ch, queue, "after");
            RabbitClusterTest.log("publish with confirms on node " + other + " with the leader down", t0);
            for (GetResponse got = ch.basicGet(queue, true); got != null; got = ch.basicGet(queue, true)) {
                bodies.add(new String(got.getBody(), StandardCharsets.UTF_8));
            }
            ch.queueDelete(queue);
        }
        List<String> expected = new ArrayList<>();
        for (String phase : List.of("before", "after")) {
            for (int i = 0; i < 10; i++) {
                expected.add(phase + "-" + i);
            }
        }
        assertThat(bodies).containsExactlyElementsOf(expected);
    }

    private static void publishConfirmed(Channel ch, String queue, String phase) throws Exception {
        ch.confirmSelect();
        for (int i = 0; i < 10; i++) {
            ch.basicPublish("", queue, MessageProperties.PERSISTENT_TEXT_PLAIN,
                    (phase + "-" + i).getBytes(StandardCharsets.UTF_8));
        }
        ch.waitForConfirmsOrDie(60_000);
    }

    private static int indexOf(RabbitCluster cluster, String nodeName) {
        for (int i = 0; i < cluster.size(); i++) {
            if (cluster.node(i).nodeName().equals(nodeName)) {
                return i;
            }
        }
        throw new AssertionError("no node named " + nodeName + " in " + cluster);
    }
}
