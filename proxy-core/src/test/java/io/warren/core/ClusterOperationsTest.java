package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.warren.core.admin.Reconfiguration;
import io.warren.core.admin.UpstreamView;
import io.warren.core.config.ProxyConfig;
import io.warren.core.config.UpstreamNode;
import io.warren.core.stats.NodeStatus;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.RabbitCluster;
import io.warren.testsupport.WithRabbitCluster;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator's changes to the upstream cluster (issue 14) on a real two-node cluster: a node drained (no new
 * connections, idle ones closed, busy ones left to finish) and undrained, and the node list changed by a reload.
 */
@WithRabbitCluster(nodes = 2)
class ClusterOperationsTest {
    private static final int USERS = 6;
    private static final String PASSWORD = "cluster-ops";
    static RabbitCluster cluster;

    @BeforeAll
    static void users(RabbitCluster c) {
        cluster = c;
        for (int i = 0; i < USERS; i++) {
            c.node(0).addUser(user(i), PASSWORD);
            c.node(0).setPermissions("/", user(i));
        }
    }

    private static String user(int i) {
        return "cluster-ops-" + i;
    }

    private static ConnectionFactory as(WarrenHarness w, int user) {
        ConnectionFactory f = w.factory();
        f.setUsername(user(user));
        f.setPassword(PASSWORD);
        return f;
    }

    private static String nodeName(int i) {
        RabbitBroker b = cluster.node(i);
        return b.host() + ":" + b.amqpPort();
    }

    private static List<UpstreamView> upstreamsOf(WarrenHarness w, int user) throws Exception {
        return w.proxy.upstreams().get(10, TimeUnit.SECONDS).stream().filter(u -> u.user().equals(user(user)))
                .toList();
    }

    private static List<UpstreamView> upstreamsOn(WarrenHarness w, String node) throws Exception {
        return w.proxy.upstreams().get(10, TimeUnit.SECONDS).stream().filter(u -> u.node().equals(node)).toList();
    }

    private static NodeStatus status(WarrenHarness w, String node) {
        return w.proxy.nodes().stream().filter(n -> n.name().equals(node)).findFirst().orElseThrow();
    }

    private static void works(Channel ch) throws Exception {
        String q = ch.queueDeclare("", false, true, true, null).getQueue();
        ch.basicPublish("", q, null, "x".getBytes(StandardCharsets.UTF_8));
        assertThat(await().atMost(Duration.ofSeconds(10)).until(() -> ch.basicGet(q, true), r -> r != null)
                .getBody()).isEqualTo("x".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aDrainedNodeTakesNoNewConnectionsClosesIdleOnesAndLetsBusyOnesFinish() throws Exception {
        try (WarrenHarness w = WarrenHarness.start(cluster, b -> b, "never")) {
            Connection busy = as(w, 0).newConnection();
            Channel busyChannel = busy.createChannel();
            String drained = upstreamsOf(w, 0).get(0).node();
            String other = drained.equals(nodeName(0)) ? nodeName(1) : nodeName(0);
            as(w, 1).newConnection().close(); // key 1: a connection without clients, on the other node (fewest first)
            Connection idleKey = as(w, 2).newConnection(); // key 2: a client without channels, on the drained node
            assertThat(upstreamsOf(w, 2)).extracting(UpstreamView::node).containsExactly(drained);
            idleKey.close();

            assertThat(w.proxy.drainNode(drained, true)).hasValueSatisfying(c -> {
                assertThat(c.changed()).isTrue();
                assertThat(c.node().state()).isEqualTo("draining");
                assertThat(c.node().reason()).isEqualTo("drained by the operator");
            });
            assertThat(w.proxy.drainNode(drained, true).orElseThrow().changed()).as("already").isFalse();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(upstreamsOn(w, drained))
                    .as("only the busy client's connection is left").extracting(UpstreamView::user)
                    .containsExactly(user(0)));
            works(busyChannel);
            try (Channel second = busy.createChannel()) {
                works(second);
            }
            // Held open together: by fewest connections alone, one of the two would go to the drained node.
            try (Connection c3 = as(w, 3).newConnection(); Connection c4 = as(w, 4).newConnection()) {
                for (Connection c : List.of(c3, c4)) {
                    try (Channel ch = c.createChannel()) {
                        works(ch);
                    }
                }
                for (int k = 3; k < 5; k++) {
                    assertThat(upstreamsOf(w, k)).extracting(UpstreamView::node).as("key " + k).containsOnly(other);
                }
            }
            busy.close();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(upstreamsOn(w, drained)).isEmpty());
            assertThat(status(w, drained).connections()).isZero();

            assertThat(w.proxy.drainNode(drained, false).orElseThrow().changed()).isTrue();
            assertThat(status(w, drained).state()).isEqualTo("up");
            try (Connection c = as(w, 5).newConnection(); Channel ch = c.createChannel()) {
                works(ch);
                assertThat(upstreamsOf(w, 5)).extracting(UpstreamView::node).as("fewest connections: the undrained")
                        .containsOnly(drained);
            }
            assertThat(w.proxy.drainNode("127.0.0.1:1", true)).isEmpty();
            assertThat(w.proxy.nodesNamed("nope")).isEmpty();
            assertThat(w.proxy.nodesNamed(drained)).containsExactly(drained);
        }
    }

    @Test
    void aReloadRemovesANodeOnceItsClientsLeaveAndAddsOneBack() throws Exception {
        try (WarrenHarness w = WarrenHarness.start(cluster, b -> b, "never")) {
            ProxyConfig both = w.proxy.config();
            Connection onNode1 = null;
            for (int k = 0; k < 3 && onNode1 == null; k++) { // fewest connections first: one of the first keys
                Connection c = as(w, k).newConnection();
                if (upstreamsOf(w, k).get(0).node().equals(nodeName(1))) {
                    onNode1 = c;
                } else {
                    c.close();
                }
            }
            assertThat(onNode1).as("a key on node 1").isNotNull();
            Channel ch = onNode1.createChannel();

            ProxyConfig onlyNode0 = both.toBuilder().upstreams(List.of(UpstreamNode.of(
                    new InetSocketAddress(cluster.node(0).host(), cluster.node(0).amqpPort())))).build();
            Reconfiguration r = w.proxy.reconfigure(onlyNode0);
            assertThat(r.applied()).containsExactly("upstreams");
            assertThat(r.notes()).containsExactly(
                    "upstream node " + nodeName(1) + " removed: it drains (1 connection(s) left)");
            assertThat(status(w, nodeName(1)).reason()).isEqualTo("removed from the configuration");
            works(ch); // a busy client on the removed node finishes its work
            try (Connection c = as(w, 4).newConnection()) {
                assertThat(upstreamsOf(w, 4)).extracting(UpstreamView::node).containsOnly(nodeName(0));
            }
            onNode1.close();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(w.proxy.nodes())
                    .extracting(NodeStatus::name).containsExactly(nodeName(0)));

            Reconfiguration back = w.proxy.reconfigure(both);
            assertThat(back.notes()).containsExactly("upstream node " + nodeName(1) + " added");
            await().atMost(Duration.ofSeconds(10)).until(() -> status(w, nodeName(1)).up());
            try (Connection c = as(w, 5).newConnection(); Channel c5 = c.createChannel()) {
                works(c5);
                assertThat(upstreamsOf(w, 5)).extracting(UpstreamView::node).containsOnly(nodeName(1));
            }
        }
    }
}
