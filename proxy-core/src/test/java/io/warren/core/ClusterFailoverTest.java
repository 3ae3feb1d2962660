package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AuthenticationFailureException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.core.admin.UpstreamView;
import io.warren.core.stats.NodeStatus;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.RabbitCluster;
import io.warren.testsupport.WithRabbitCluster;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Warren in front of a real two-node RabbitMQ cluster (issue 13): connections spread over the nodes by pool key, a
 * node stopped or killed under publishers with confirms, a wrong password with a node down, and every node down.
 */
@WithRabbitCluster(nodes = 2)
class ClusterFailoverTest {
    private static final int USERS = 4;
    private static final String PASSWORD = "failover";
    static RabbitCluster cluster;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeAll
    static void users(RabbitCluster c) {
        cluster = c;
        for (int i = 0; i < USERS; i++) {
            c.node(0).addUser(user(i), PASSWORD); // users are the cluster's
            c.node(0).setPermissions("/", user(i));
        }
    }

    private static String user(int i) {
        return "cluster-failover-" + i;
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    private WarrenHarness warren(Duration hold) throws Exception {
        WarrenHarness w = WarrenHarness.start(cluster, b -> b.upstreamHold(hold).upstreamHeartbeat(Duration.ofSeconds(5)),
                "never");
        toClose.add(w);
        return w;
    }

    private static ConnectionFactory as(WarrenHarness w, int user) {
        ConnectionFactory f = w.factory();
        f.setUsername(user(user));
        f.setPassword(PASSWORD);
        return f;
    }

    private static NodeStatus node(WarrenHarness w, int i) {
        RabbitBroker b = cluster.node(i);
        return w.proxy.nodes().stream().filter(n -> n.name().equals(b.host() + ":" + b.amqpPort())).findFirst()
                .orElseThrow();
    }

    /** A durable classic queue declared through node {@code on}, so it lives there and survives the other. */
    private static String queueOn(int on) throws Exception {
        String q = "cluster-failover-" + UUID.randomUUID();
        ConnectionFactory f = new ConnectionFactory();
        f.setUri(cluster.node(on).amqpUri());
        try (Connection c = f.newConnection(); Channel ch = c.createChannel()) {
            ch.queueDeclare(q, true, false, false, null);
        }
        return q;
    }

    @Test
    void keysSpreadOverTheNodesAndEachKeyStaysOnItsNode() throws Exception {
        WarrenHarness w = warren(Duration.ofSeconds(2));
        List<Connection> clients = new ArrayList<>();
        for (int i = 0; i < USERS; i++) {
            clients.add(as(w, i).newConnection());
        }
        assertThat(node(w, 0).connections()).as("first connections of 4 keys, fewest first").isEqualTo(2);
        assertThat(node(w, 1).connections()).isEqualTo(2);
        String first = w.proxy.upstreams().get().stream().filter(u -> u.user().equals(user(0))).findFirst()
                .orElseThrow().node();
        for (int k = 0; k < 5; k++) {
            clients.add(as(w, 0).newConnection()); // more clients of one key share its connection on their loop
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> w.proxy.upstreams().get().stream()
                .allMatch(u -> u.state().equals("ready")));
        List<UpstreamView> ofFirstKey = w.proxy.upstreams().get().stream().filter(u -> u.user().equals(user(0)))
                .toList();
        assertThat(ofFirstKey).as("a connection per event loop at most").hasSizeBetween(1, w.eventLoops());
        assertThat(ofFirstKey).extracting(UpstreamView::node).as("all on the key's node").containsOnly(first);
        assertThat(w.proxy.upstreamConnectionCount()).isEqualTo(USERS - 1 + ofFirstKey.size());
        for (Connection c : clients) {
            c.close();
        }
    }

    @Test
    void stopAppOfANodeUnderPublishersLosesNoConfirmedMessageAndOnlyItsClientsFail() throws Exception {
        // stop_app closes each connection with 320, or, for a connection whose process it ends first, resets it
        // (seen once in a fresh-clone run: every client's text said "lost: Connection reset by peer").
        assertNodeDeathUnderPublishers(() -> cluster.node(1).stopApp(), "closed the connection", "lost");
    }

    @Test
    void killOfANodeIsHandledLikeStopApp() throws Exception {
        assertNodeDeathUnderPublishers(() -> cluster.node(1).kill(), "lost");
    }

    /**
     * 20 publishers with confirms (5 of each of 4 users, so keys on both nodes) reconnect whenever they are closed;
     * node 1 dies. Only clients of node 1 fail, with 320 naming it; every connection made once Warren saw it down
     * succeeds; every confirmed message is in the queue (on node 0).
     */
    private void assertNodeDeathUnderPublishers(Runnable death, String... how) throws Exception {
        WarrenHarness w = warren(Duration.ofSeconds(2));
        String queue = queueOn(0);
        String dead = cluster.node(1).host() + ":" + cluster.node(1).amqpPort();
        Set<String> confirmed = ConcurrentHashMap.newKeySet();
        List<String> errors = new CopyOnWriteArrayList<>();
        List<String> failedAfterDown = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean seenDown = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(20);
        List<Future<?>> publishers = new ArrayList<>();
        for (int p = 0; p < 20; p++) {
            int user = p % USERS;
            int id = p;
            publishers.add(pool.submit(() -> {
                int n = 0;
                while (!stop.get()) {
                    boolean afterDown = seenDown.get();
                    try (Connection c = as(w, user).newConnection(); Channel ch = c.createChannel()) {
                        ch.confirmSelect();
                        while (!stop.get()) {
                            String m = id + "-" + n++;
                            ch.basicPublish("", queue, null, m.getBytes(StandardCharsets.UTF_8));
                            ch.waitForConfirmsOrDie(10_000);
                            confirmed.add(m);
                            afterDown = seenDown.get();
                        }
                    } catch (Exception e) {
                        errors.add(reason(e));
                        if (afterDown) {
                            failedAfterDown.add(reason(e));
                        }
                    }
                }
                return null;
            }));
        }
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> confirmed.size() >= 200);
            death.run();
            await().atMost(Duration.ofSeconds(30)).until(() -> !node(w, 1).up());
            seenDown.set(true);
            int before = confirmed.size();
            await().atMost(Duration.ofSeconds(30)).until(() -> confirmed.size() >= before + 400);
        } finally {
            stop.set(true);
            pool.shutdown();
            assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        }
        for (Future<?> f : publishers) {
            f.get();
        }
        assertThat(errors).as("the clients on node 1 were closed").isNotEmpty();
        assertThat(errors).allSatisfy(e -> assertThat(e).contains("reply-code=320").contains(dead));
        assertThat(errors).anySatisfy(e -> assertThat(e).containsAnyOf(how));
        assertThat(failedAfterDown).as("clients that connected once the node was seen down").isEmpty();
        assertThat(node(w, 1).failovers()).isEqualTo(1);
        assertThat(messagesIn(queue)).as("every confirmed message is in the queue").containsAll(confirmed);

    }

    private static Set<String> messagesIn(String queue) throws Exception {
        Set<String> in = ConcurrentHashMap.newKeySet();
        ConnectionFactory f = new ConnectionFactory();
        f.setUri(cluster.node(0).amqpUri());
        try (Connection c = f.newConnection(); Channel ch = c.createChannel()) {
            com.rabbitmq.client.GetResponse r;
            while ((r = ch.basicGet(queue, true)) != null) {
                in.add(new String(r.getBody(), StandardCharsets.UTF_8));
            }
        }
        return in;
    }

    @Test
    void aNodeThatComesBackTakesNewConnections() throws Exception {
        WarrenHarness w = warren(Duration.ofSeconds(2));
        cluster.node(1).stopApp();
        List<Connection> clients = new ArrayList<>();
        for (int i = 0; i < USERS; i++) {
            clients.add(as(w, i).newConnection());
        }
        assertThat(node(w, 1).up()).isFalse();
        assertThat(node(w, 0).connections()).as("every key on the node that is up").isEqualTo(USERS);
        cluster.node(1).startApp();
        await().atMost(Duration.ofSeconds(30)).until(() -> node(w, 1).up()); // its probe's full handshake
        ConnectionFactory guest = w.factory(); // a fifth key: its first connection goes to the emptier node
        try (Connection c = guest.newConnection()) {
            assertThat(node(w, 1).connections()).isEqualTo(1);
        }
        for (Connection c : clients) {
            c.close();
        }
    }

    @Test
    void aWrongPasswordIsStill403WithANodeDown() throws Exception {
        WarrenHarness w = warren(Duration.ofSeconds(2));
        cluster.node(1).stopApp();
        for (int i = 0; i < 4; i++) { // whichever node each login is sent to first
            ConnectionFactory f = as(w, i % USERS);
            f.setPassword("wrong");
            assertThatThrownBy(f::newConnection).isInstanceOf(AuthenticationFailureException.class);
        }
        try (Connection c = as(w, 0).newConnection()) {
            assertThat(c.isOpen()).isTrue();
        }
    }

    @Test
    void withEveryNodeDownAClientWaitsForTheHoldThenGets320AndOneThatNodeBackInTimeIsServed() throws Exception {
        Duration hold = Duration.ofSeconds(2);
        WarrenHarness shortHold = warren(hold);
        WarrenHarness longHold = warren(Duration.ofSeconds(90));
        // Node 0 last, so that it may start again alone (a node that went down first waits for its peers at boot).
        cluster.node(1).stopApp();
        cluster.node(0).stopApp();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> as(shortHold, 0).newConnection()).satisfies(e -> {
            assertThat(e).isNotInstanceOf(AuthenticationFailureException.class);
            assertThat(reason(e)).contains("reply-code=320");
        });
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("held for upstream-hold first")
                .isGreaterThanOrEqualTo(hold);

        ConnectionFactory patient = as(longHold, 1);
        patient.setHandshakeTimeout(120_000);
        ExecutorService one = Executors.newSingleThreadExecutor();
        try {
            Future<Connection> held = one.submit(() -> patient.newConnection());
            await().atMost(Duration.ofSeconds(30)).until(() -> longHold.proxy.stats().heldClients() == 1);
            cluster.node(0).startApp();
            try (Connection c = held.get(90, TimeUnit.SECONDS); Channel ch = c.createChannel()) {
                assertThat(ch.queueDeclare().getQueue()).startsWith("amq.gen-"); // served by node 0
            }
            assertThat(longHold.proxy.stats().heldClients()).isZero();
        } finally {
            one.shutdownNow();
        }
    }

    private static String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ShutdownSignalException s) {
                return s.getMessage();
            }
        }
        return String.valueOf(e);
    }
}
