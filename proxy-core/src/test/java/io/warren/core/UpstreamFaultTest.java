package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.MessageProperties;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.core.config.ProxyConfig;
import io.warren.testsupport.FaultRelay.Direction;
import io.warren.testsupport.FaultRelay;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Warren when the broker or the network between them fails: the broker killed, an upstream connection that stalls or
 * is reset in the middle of a frame, a broker that refuses connections. Faults are injected by a {@link FaultRelay}
 * between Warren and the broker (DESIGN.md invariant 7: no lost confirm, no hung client, no partial message, no
 * connection storm).
 */
@WithRabbitBroker
class UpstreamFaultTest {
    static RabbitBroker broker;

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void cleanUp() throws Exception {
        threads.shutdownNow();
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closeLater(T resource) {
        resources.add(resource);
        return resource;
    }

    /** A client connection aborted after the test (it may have been closed by Warren already). */
    private Connection abortLater(Connection c) {
        resources.add(c::abort);
        return c;
    }

    private FaultRelay relay() throws Exception {
        return closeLater(FaultRelay.start(broker.host(), broker.amqpPort()));
    }

    /** Warren behind {@code relay}; the relay forgets Warren's check of the node at start, so tests count clients'. */
    private WarrenHarness warren(FaultRelay relay, java.util.function.UnaryOperator<ProxyConfig> tweak)
            throws Exception {
        WarrenHarness warren = closeLater(WarrenHarness.start(broker, relay.address(), tweak, "publish-safe"));
        relay.forgetConnections();
        return warren;
    }

    /** A second user: its clients get their own upstream connection (another pool key). */
    private ConnectionFactory otherUser(WarrenHarness warren) {
        String user = "fault-" + UUID.randomUUID();
        broker.addUser(user, "secret");
        broker.setPermissions("/", user);
        ConnectionFactory f = warren.factory();
        f.setUsername(user);
        f.setPassword("secret");
        return f;
    }

    private String declareQueue(boolean durable) throws Exception {
        String q = "fault-" + UUID.randomUUID();
        try (Connection c = directFactory().newConnection(); Channel ch = c.createChannel()) {
            ch.queueDeclare(q, durable, false, false, null);
        }
        return q;
    }

    private static ConnectionFactory directFactory() {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost(broker.host());
        f.setPort(broker.amqpPort());
        f.setAutomaticRecoveryEnabled(false);
        return f;
    }

    /** Every message in the queue (taken off it): message id to body. Fails on a duplicate id. */
    private static Map<String, byte[]> drain(String queue) throws Exception {
        Map<String, byte[]> got = new HashMap<>();
        try (Connection c = directFactory().newConnection(); Channel ch = c.createChannel()) {
            com.rabbitmq.client.GetResponse r;
            while ((r = ch.basicGet(queue, true)) != null) {
                String id = r.getProps().getMessageId();
                assertThat(got.put(id, r.getBody())).as("message %s routed twice", id).isNull();
            }
        }
        return got;
    }

    /** A body that tells whether it arrived whole: the id, then bytes derived from it, {@code size} in all. */
    private static byte[] body(String id, int size) {
        byte[] head = id.getBytes(StandardCharsets.UTF_8);
        byte[] b = new byte[Math.max(size, head.length)];
        System.arraycopy(head, 0, b, 0, head.length);
        int seed = id.hashCode();
        for (int i = head.length; i < b.length; i++) {
            seed = seed * 1103515245 + 12345;
            b[i] = (byte) (seed >>> 16);
        }
        return b;
    }

    /** How many upstream attempts fit in {@code nanos} when attempt k waits 100 ms * 2^(k-1), at most 5 s, after k-1. */
    private static int attemptsAllowedByBackoff(long nanos) {
        int attempts = 1;
        long at = 0;
        while (true) {
            at += Math.min(5_000_000_000L, 100_000_000L << Math.min(attempts - 1, 6));
            if (at > nanos) {
                return attempts;
            }
            attempts++;
        }
    }

    /** The connection.close a client library was answered with, from the exception it threw. */
    private static AMQP.Connection.Close connectionClose(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ShutdownSignalException s && s.getReason() instanceof AMQP.Connection.Close close) {
                return close;
            }
        }
        throw new AssertionError("no connection.close behind " + e, e);
    }

    // ------------------------------------------------------------------------------------------------ kill -9

    @Test
    void killedBrokerLosesNoConfirmedMessageAndEveryClientLearnsOfTheRest() throws Exception {
        Assumptions.assumeTrue(broker.supportsKillAndRestart(), "needs a private node");
        String queue = declareQueue(true);
        broker.rabbitmqctl("eval", "mnesia:sync_log()."); // the queue itself must survive the kill
        FaultRelay relay = relay(); // no faults: it counts Warren's connection attempts while the broker is down
        WarrenHarness warren = warren(relay, c -> c);
        List<ConfirmingPublisher> clients = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ConfirmingPublisher p = new ConfirmingPublisher("c" + i, warren.factory(), queue, 64, 50, Integer.MAX_VALUE);
            clients.add(p);
            threads.submit(p);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> clients.stream().allMatch(p -> p.confirmed.size() >= 20));

        int attemptsBefore = relay.acceptedConnections();
        long killedAt = System.nanoTime();
        broker.kill();
        // No client may hang: each learns that its connection is gone (or had everything confirmed).
        for (ConfirmingPublisher p : clients) {
            assertThat(p.ended.await(30, TimeUnit.SECONDS)).as("%s was told its connection failed", p.name).isTrue();
        }
        // Clients reconnect through Warren at once, retrying every 200 ms while the broker is down, and carry on:
        // each publishes 10 more and gets them all confirmed.
        List<Future<Set<String>>> carriedOn = new ArrayList<>();
        for (ConfirmingPublisher p : clients) {
            carriedOn.add(threads.submit(() -> p.reconnectAndPublish(10)));
        }
        broker.start();
        Set<String> confirmedAfter = new java.util.HashSet<>();
        for (Future<Set<String>> f : carriedOn) {
            confirmedAfter.addAll(f.get(120, TimeUnit.SECONDS));
        }
        long outage = System.nanoTime() - killedAt;
        int attempts = relay.acceptedConnections() - attemptsBefore;
        System.out.printf("kill -9: outage of %d ms with 20 clients retrying every 200 ms: %d upstream attempts%n",
                TimeUnit.NANOSECONDS.toMillis(outage), attempts);
        // No storm against the restarting broker: one attempt per backoff step (and the one that succeeds).
        assertThat(attempts).isLessThanOrEqualTo(attemptsAllowedByBackoff(outage) + 1);
        assertThat(confirmedAfter).hasSize(200);

        Map<String, byte[]> inQueue = drain(queue);
        Set<String> published = new java.util.HashSet<>(confirmedAfter);
        long confirmedBefore = 0;
        long failedBefore = 0;
        for (ConfirmingPublisher p : clients) {
            p.assertEveryPublishSettled();
            assertThat(inQueue.keySet()).as("confirmed messages of %s", p.name).containsAll(p.confirmed);
            published.addAll(p.published);
            published.addAll(p.publishedAgain);
            confirmedBefore += p.confirmed.size();
            failedBefore += p.failed.size();
        }
        assertThat(inQueue.keySet()).containsAll(confirmedAfter);
        assertThat(published).containsAll(inQueue.keySet()); // nothing in the queue that nobody sent
        System.out.printf("kill -9: %d confirmed before the kill, %d reported failed, %d in the queue after%n",
                confirmedBefore, failedBefore, inQueue.size());
    }

    // ------------------------------------------------------------------------------------------------ stall

    @Test
    void stalledUpstreamClosesItsClientsWithinTwoHeartbeatsAndSparesOtherConnections() throws Exception {
        Duration heartbeat = Duration.ofSeconds(2);
        FaultRelay relay = relay();
        WarrenHarness warren = warren(relay, c -> c.withHeartbeats(Duration.ofSeconds(60), heartbeat));
        String queue = declareQueue(false);
        warren.connectOnEveryLoop(); // guest's key: an upstream connection per event loop, all of them stalled below
        Map<Connection, Long> closedAt = new ConcurrentHashMap<>();
        Map<Connection, ShutdownSignalException> closedBy = new ConcurrentHashMap<>();
        List<Connection> affected = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Connection c = abortLater(warren.factory().newConnection());
            c.addShutdownListener(s -> {
                closedAt.put(c, System.nanoTime());
                closedBy.put(c, s);
            });
            Channel ch = c.createChannel();
            if (i == 0) {
                ch.basicConsume(queue, true, (t, d) -> { }, t -> { });
            } else {
                ch.basicPublish("", queue, null, new byte[10]);
            }
            affected.add(c);
        }
        List<FaultRelay.Link> stalled = relay.links();
        assertThat(stalled).as("guest's upstream connections, one per event loop").hasSize(warren.eventLoops());
        Connection other = abortLater(otherUser(warren).newConnection());
        Channel otherChannel = other.createChannel();
        otherChannel.confirmSelect();
        List<FaultRelay.Link> links = relay.awaitLinks(stalled.size() + 1, Duration.ofSeconds(5));
        assertThat(links).as("the other user's own upstream connection").hasSize(stalled.size() + 1);
        FaultRelay.Link spared = links.get(stalled.size());

        stalled.forEach(FaultRelay.Link::stall);
        long stalledAt = System.nanoTime();
        // Meanwhile the other user's client publishes with confirms, undisturbed.
        int confirmedMeanwhile = 0;
        while (closedAt.size() < affected.size() && System.nanoTime() - stalledAt < TimeUnit.SECONDS.toNanos(20)) {
            otherChannel.basicPublish("", queue, null, new byte[10]);
            otherChannel.waitForConfirmsOrDie(5_000);
            confirmedMeanwhile++;
            Thread.sleep(100);
        }
        assertThat(closedAt).as("every client of the stalled upstream connection was closed").hasSize(3);
        // Each client's own connection went silent no earlier than the first of them.
        long lastByte = stalled.stream().mapToLong(l -> l.lastForwardNanos(Direction.TO_CLIENT)).min().orElseThrow();
        for (Connection c : affected) {
            long sinceStall = TimeUnit.NANOSECONDS.toMillis(closedAt.get(c) - stalledAt);
            long sinceLastByte = TimeUnit.NANOSECONDS.toMillis(closedAt.get(c) - lastByte);
            System.out.printf("stall: client closed %d ms after the stall, %d ms after the broker's last byte%n",
                    sinceStall, sinceLastByte);
            // By the upstream heartbeat check, which says so: two intervals without a byte from the broker, never
            // fewer (a loaded machine only makes it later); the loop above waited at most 20 s, ten intervals.
            ShutdownSignalException s = closedBy.get(c);
            assertThat(s.isHardError()).isTrue();
            assertThat(s.getMessage()).contains("reply-code=320").contains("missed heartbeats from upstream");
            assertThat(sinceLastByte).as("closed after two upstream heartbeat intervals (%s) of silence", heartbeat)
                    .isGreaterThanOrEqualTo(2 * heartbeat.toMillis());
        }
        assertThat(confirmedMeanwhile).isPositive();
        assertThat(other.isOpen()).isTrue();
        assertThat(spared.isOpen()).isTrue();
        stalled.forEach(FaultRelay.Link::resume);
        // The stalled key recovers on a fresh upstream connection, once the node passed its check again (the
        // connection that missed heartbeats took the node down): the stalled ones, the other user's, the check, the
        // fresh one (and perhaps, in the background, one for the other event loop).
        try (Connection again = warren.factory().newConnection(); Channel ch = again.createChannel()) {
            ch.confirmSelect();
            ch.basicPublish("", queue, null, new byte[10]);
            ch.waitForConfirmsOrDie(10_000);
        }
        assertThat(relay.links().size()).isBetween(stalled.size() + 3, stalled.size() + 4);
    }

    @Test
    void afterItsUpstreamConnectionDiedAKeyStillClosesIdleConnections() throws Exception {
        FaultRelay relay = relay();
        // Policy "never": a closed channel is closed upstream, not pooled, so the connection can fall idle.
        WarrenHarness warren = closeLater(WarrenHarness.start(broker, relay.address(),
                c -> c.withIdleConnectionTimeout(Duration.ofSeconds(1)), "never"));
        relay.forgetConnections(); // Warren's check of the node at start
        Connection victim = abortLater(warren.factory().newConnection());
        victim.createChannel();
        relay.awaitLinks(1, Duration.ofSeconds(10)).get(0).drop();
        await().atMost(Duration.ofSeconds(10)).until(() -> !victim.isOpen());
        try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel()) {
            ch.confirmSelect();
            ch.basicPublish("", "", null, new byte[1]);
            ch.waitForConfirmsOrDie(10_000);
        }
        // The dropped connection took the node down: a check of it, then the client's fresh connection.
        assertThat(relay.links()).hasSize(3);
        // Nobody uses the key any more: its last upstream connection closes at the idle timeout, as it would have
        // without the outage (the dead connection's clients must not still count as users of the key).
        await().atMost(Duration.ofSeconds(15)).until(() -> relay.openLinks().isEmpty());
    }

    // ------------------------------------------------------------------------------------------------ reset mid-frame

    @Test
    void resetInTheMiddleOfAPublishRoutesNoPartialMessageAndSparesOtherConnections() throws Exception {
        int size = 1024 * 1024; // 9 body frames at frame_max 131072
        FaultRelay relay = relay();
        WarrenHarness warren = warren(relay, c -> c);
        String queue = declareQueue(false);
        ConnectionFactory otherUser = otherUser(warren);
        // Two clients of one user share the upstream connection that will be reset; they publish until it is. The
        // second is put on the first one's event loop, where that connection is: silent sockets held on the other
        // loops leave the first one's loop with no more accepted connections than any other.
        ConfirmingPublisher first = new ConfirmingPublisher("a0", warren.factory(), queue, size, 4, Integer.MAX_VALUE);
        threads.submit(first);
        FaultRelay.Link cut = relay.awaitLinks(1, Duration.ofSeconds(10)).get(0);
        List<java.net.Socket> steering = warren.holdSockets(warren.eventLoops() - 1);
        ConfirmingPublisher second = new ConfirmingPublisher("a1", warren.factory(), queue, size, 4, Integer.MAX_VALUE);
        threads.submit(second);
        await().atMost(Duration.ofSeconds(30)).until(() -> !second.confirmed.isEmpty());
        for (java.net.Socket s : steering) {
            s.close();
        }
        ConfirmingPublisher other = new ConfirmingPublisher("b0", otherUser, queue, size, 4, Integer.MAX_VALUE);
        threads.submit(other);
        assertThat(relay.awaitLinks(2, Duration.ofSeconds(10))).hasSize(2);
        await().atMost(Duration.ofSeconds(30)).until(() -> first.confirmed.size() >= 2 && second.confirmed.size() >= 2);

        cut.resetMidFrame(Direction.TO_TARGET, FaultRelay.FRAME_BODY, 3);
        for (ConfirmingPublisher p : List.of(first, second)) {
            assertThat(p.ended.await(30, TimeUnit.SECONDS)).as("%s was told its connection failed", p.name).isTrue();
            assertThat(p.failure).as("%s was told", p.name).isNotNull();
        }
        assertThat(cut.isOpen()).as("the reset happened").isFalse();
        // The other user's client carries on undisturbed on its own upstream connection.
        int confirmedAtReset = other.confirmed.size();
        await().atMost(Duration.ofSeconds(30)).until(() -> other.confirmed.size() >= confirmedAtReset + 3
                || other.ended.getCount() == 0);
        other.stopRequested = true;
        assertThat(other.ended.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(other.failure).as("the other user's client saw no error").isNull();
        assertThat(other.confirmed).hasSameSizeAs(other.published).hasSizeGreaterThan(confirmedAtReset);
        Set<String> again = first.reconnectAndPublish(2);

        Map<String, byte[]> inQueue = drain(queue);
        for (Map.Entry<String, byte[]> m : inQueue.entrySet()) {
            assertThat(m.getValue()).as("body of %s is whole and correct", m.getKey())
                    .hasSize(size).isEqualTo(body(m.getKey(), size));
        }
        for (ConfirmingPublisher p : List.of(first, second, other)) {
            p.assertEveryPublishSettled();
            assertThat(inQueue.keySet()).containsAll(p.confirmed);
        }
        assertThat(inQueue.keySet()).containsAll(again);
        System.out.printf("reset mid-frame: %d + %d confirmed, %d + %d failed on the reset connection; %d in queue%n",
                first.confirmed.size(), second.confirmed.size(), first.failed.size(), second.failed.size(),
                inQueue.size());
    }

    @Test
    void resetInTheMiddleOfADeliveryHandsNoConsumerAPartialMessage() throws Exception {
        int size = 1024 * 1024; // 9 body frames at frame_max 131072: 8 of 131064 bytes and one of 64
        int messages = 6;
        FaultRelay relay = relay();
        WarrenHarness warren = warren(relay, c -> c);
        ConnectionFactory otherUser = otherUser(warren);
        String mine = declareQueue(false);
        String others = declareQueue(false);
        try (Connection c = directFactory().newConnection(); Channel ch = c.createChannel()) {
            for (int i = 0; i < messages; i++) {
                for (String q : List.of(mine, others)) {
                    String id = q + "-" + i;
                    ch.basicPublish("", q, MessageProperties.BASIC.builder().messageId(id).build(), body(id, size));
                }
            }
        }
        Connection consumer = abortLater(warren.factory().newConnection());
        List<ShutdownSignalException> closed = new CopyOnWriteArrayList<>();
        consumer.addShutdownListener(closed::add);
        FaultRelay.Link cut = relay.awaitLinks(1, Duration.ofSeconds(10)).get(0);
        cut.resetMidFrame(Direction.TO_CLIENT, FaultRelay.FRAME_BODY, 2 * 9 + 4); // in the 5th frame of the 3rd message
        Connection other = abortLater(otherUser.newConnection());
        assertThat(relay.awaitLinks(2, Duration.ofSeconds(10))).hasSize(2);

        Deliveries got = new Deliveries(size);
        consumer.createChannel().basicConsume(mine, false, got::take, t -> { });
        Deliveries othersGot = new Deliveries(size);
        other.createChannel().basicConsume(others, false, othersGot::take, t -> { });

        await().atMost(Duration.ofSeconds(30)).until(() -> !closed.isEmpty());
        assertThat(closed.get(0).getMessage()).contains("reply-code=320").contains("lost");
        await().atMost(Duration.ofSeconds(30)).until(() -> othersGot.whole.size() == messages);
        assertThat(got.broken).as("partial or corrupt deliveries").isEmpty();
        assertThat(got.whole).as("only the messages before the cut").hasSizeLessThanOrEqualTo(2);
        assertThat(othersGot.broken).isEmpty();
        assertThat(other.isOpen()).isTrue();

        // The broker requeued what the cut-off consumer had not acknowledged; a new consumer gets it all, whole.
        try (Connection again = warren.factory().newConnection()) {
            Deliveries redelivered = new Deliveries(size);
            again.createChannel().basicConsume(mine, true, redelivered::take, t -> { });
            await().atMost(Duration.ofSeconds(30)).until(() -> redelivered.whole.size() == messages);
            assertThat(redelivered.broken).isEmpty();
        }
    }

    /** Deliveries sorted into whole (the body its message id promises) and broken. */
    private static final class Deliveries {
        final int size;
        final List<String> whole = new CopyOnWriteArrayList<>();
        final List<String> broken = new CopyOnWriteArrayList<>();

        Deliveries(int size) {
            this.size = size;
        }

        void take(String consumerTag, com.rabbitmq.client.Delivery d) {
            String id = d.getProperties().getMessageId();
            (Arrays.equals(d.getBody(), body(id, size)) ? whole : broken).add(id);
        }
    }

    // ------------------------------------------------------------------------------------------------ refusing broker

    @Test
    void refusingBrokerGivesClientsAClearErrorAtOnceWithoutAConnectionStorm() throws Exception {
        FaultRelay relay = relay();
        relay.refuseNewConnections(true);
        // Every timeout far above the answer time asserted below: an answer can only come from Warren's backoff.
        Duration timeouts = Duration.ofSeconds(60);
        WarrenHarness warren = warren(relay, c -> c.toBuilder().handshakeTimeout(timeouts)
                .upstreamConnectTimeout(timeouts).build());
        ConnectionFactory factory = warren.factory();
        factory.setConnectionTimeout((int) timeouts.toMillis());
        factory.setHandshakeTimeout((int) timeouts.toMillis());
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        List<Long> millis = new CopyOnWriteArrayList<>();
        // 100 clients, one every 30 ms, at most 8 at a time (a burst of 100 client threads would only measure CPU).
        ExecutorService eight = Executors.newFixedThreadPool(8);
        closeLater(eight::shutdownNow);
        List<Future<?>> done = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < 100; i++) {
            done.add(eight.submit(() -> {
                long t0 = System.nanoTime();
                try (Connection c = factory.newConnection()) {
                    errors.add(new AssertionError("connected through a refusing broker"));
                } catch (Exception e) {
                    errors.add(e);
                }
                millis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                return null;
            }));
            Thread.sleep(30);
        }
        for (Future<?> f : done) {
            f.get(120, TimeUnit.SECONDS);
        }
        long span = System.nanoTime() - start;
        List<Long> accepts = relay.acceptTimesNanos();
        List<Long> sorted = millis.stream().sorted().toList();
        System.out.printf("refusing broker: %d clients over %d ms, %d upstream attempts; answer ms median %d, max %d%n",
                errors.size(), TimeUnit.NANOSECONDS.toMillis(span), accepts.size(), sorted.get(sorted.size() / 2),
                sorted.get(sorted.size() - 1));
        System.out.println("first error: " + errors.get(0) + " cause " + errors.get(0).getCause());
        assertThat(errors).hasSize(100);
        // The client learns the broker's state at connection.open, not a suspected authentication failure.
        String upstream = "upstream broker " + relay.address().getHostString() + ":" + relay.port();
        assertThat(errors).allSatisfy(e -> {
            assertThat(e).isNotInstanceOf(com.rabbitmq.client.PossibleAuthenticationFailureException.class);
            AMQP.Connection.Close close = connectionClose(e);
            assertThat(close.getReplyCode()).isEqualTo(320);
            assertThat(close.getReplyText()).startsWith("CONNECTION_FORCED - " + upstream)
                    .containsAnyOf(" unreachable: ", " dropped the connection during the AMQP handshake: ");
        });
        assertThat(errors).anySatisfy(e -> assertThat(connectionClose(e).getReplyText()).contains("; next attempt in "));
        // Backoff: each attempt waits at least 100 ms doubled per failure in a row (capped at 5 s) after the last.
        // The relay stamps each accept when its thread gets to it, so one stamped late makes the next gap look
        // shorter by that delay (seen: 60 us): a 10 ms allowance, far below the doubling it checks.
        long stampSlack = 10_000_000L;
        for (int k = 1; k < accepts.size(); k++) {
            long gap = accepts.get(k) - accepts.get(k - 1);
            long backoff = Math.min(5_000_000_000L, 100_000_000L << Math.min(k - 1, 6));
            assertThat(gap).as("gap before upstream attempt %d", k).isGreaterThanOrEqualTo(backoff - stampSlack);
        }
        assertThat(accepts.size()).as("upstream attempts for 100 clients over %d ms", TimeUnit.NANOSECONDS.toMillis(span))
                .isGreaterThanOrEqualTo(2).isLessThanOrEqualTo(attemptsAllowedByBackoff(span));
        assertThat(millis).as("answered long before any timeout").allSatisfy(ms -> assertThat(ms)
                .isLessThan(timeouts.toMillis() / 3));

        relay.refuseNewConnections(false);
        // After the backoff (at most 5 s) the next client reaches the broker again; then everyone does.
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            try (Connection c = warren.factory().newConnection()) {
                return c.isOpen();
            }
        });
        String queue = declareQueue(false);
        List<Future<?>> back = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            back.add(threads.submit(() -> {
                try (Connection c = warren.factory().newConnection(); Channel ch = c.createChannel()) {
                    ch.confirmSelect();
                    ch.basicPublish("", queue, null, new byte[10]);
                    ch.waitForConfirmsOrDie(10_000);
                }
                return null;
            }));
        }
        for (Future<?> f : back) {
            f.get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * One client publishing persistent messages (message id = body prefix) with publisher confirms, at most
     * {@code window} unconfirmed. It records what the broker confirmed, and what it was told failed: nacked,
     * unconfirmed when the connection or channel closed, or refused by the client library because it had closed.
     */
    static final class ConfirmingPublisher implements Runnable {
        final String name;
        final ConnectionFactory factory;
        final String queue;
        final int bodySize;
        final int window;
        final int limit;
        final Set<String> published = ConcurrentHashMap.newKeySet();
        /** What {@link #reconnectAndPublish} sent, including attempts that failed while the broker came back. */
        final Set<String> publishedAgain = ConcurrentHashMap.newKeySet();
        final Set<String> confirmed = ConcurrentHashMap.newKeySet();
        final Set<String> failed = ConcurrentHashMap.newKeySet();
        final ConcurrentSkipListMap<Long, String> outstanding = new ConcurrentSkipListMap<>();
        final CountDownLatch ended = new CountDownLatch(1);
        volatile Throwable failure;
        /** Set to make the client stop publishing, wait for its confirms and close. */
        volatile boolean stopRequested;
        private int next;

        ConfirmingPublisher(String name, ConnectionFactory factory, String queue, int bodySize, int window, int limit) {
            this.name = name;
            this.factory = factory;
            this.queue = queue;
            this.bodySize = bodySize;
            this.window = window;
            this.limit = limit;
        }

        @Override
        public void run() {
            try (Connection conn = factory.newConnection(name)) {
                Channel ch = conn.createChannel();
                ch.confirmSelect();
                ch.addConfirmListener((tag, multiple) -> settle(tag, multiple, confirmed),
                        (tag, multiple) -> settle(tag, multiple, failed));
                ch.addShutdownListener(this::closed);
                while (ch.isOpen() && next < limit && !stopRequested) {
                    while (outstanding.size() >= window && ch.isOpen()) {
                        LockSupport.parkNanos(200_000);
                    }
                    String id = name + "-" + next++;
                    outstanding.put(ch.getNextPublishSeqNo(), id);
                    published.add(id);
                    ch.basicPublish("", queue, props(id), body(id, bodySize));
                }
                while (!outstanding.isEmpty() && ch.isOpen()) {
                    LockSupport.parkNanos(1_000_000);
                }
            } catch (Exception e) {
                failure = e;
            } finally {
                failOutstanding();
                ended.countDown();
            }
        }

        private void closed(ShutdownSignalException cause) {
            if (!cause.isInitiatedByApplication()) {
                failure = cause;
            }
            failOutstanding();
        }

        private void settle(long tag, boolean multiple, Set<String> into) {
            if (multiple) {
                Map.Entry<Long, String> e;
                while ((e = outstanding.headMap(tag, true).pollFirstEntry()) != null) {
                    into.add(e.getValue());
                }
            } else {
                String id = outstanding.remove(tag);
                if (id != null) {
                    into.add(id);
                }
            }
        }

        private void failOutstanding() {
            Map.Entry<Long, String> e;
            while ((e = outstanding.pollFirstEntry()) != null) {
                failed.add(e.getValue());
            }
        }

        /** Every message either confirmed, or the client was told (an error) that it may not be. */
        void assertEveryPublishSettled() {
            assertThat(outstanding).as("%s: publishes neither confirmed nor failed", name).isEmpty();
            Set<String> settled = new java.util.HashSet<>(confirmed);
            settled.addAll(failed);
            assertThat(settled).as("%s: every publish settled", name).isEqualTo(published);
            Set<String> both = new java.util.HashSet<>(confirmed);
            both.retainAll(failed);
            assertThat(both).as("%s: both confirmed and failed", name).isEmpty();
            if (!failed.isEmpty()) {
                assertThat(failure).as("%s: failed publishes were reported to the client", name).isNotNull();
            }
        }

        /** Reconnects (retrying while the broker comes back) and publishes {@code n} confirmed messages. */
        Set<String> reconnectAndPublish(int n) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(100);
            for (int attempt = 0; ; attempt++) {
                try (Connection conn = factory.newConnection(name + "-again"); Channel ch = conn.createChannel()) {
                    ch.confirmSelect();
                    Set<String> ids = new java.util.HashSet<>();
                    for (int i = 0; i < n; i++) {
                        String id = name + "-again" + attempt + "-" + i;
                        publishedAgain.add(id);
                        ch.basicPublish("", queue, props(id), body(id, bodySize));
                        ids.add(id);
                    }
                    ch.waitForConfirmsOrDie(20_000);
                    return ids;
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(200);
                }
            }
        }

        private static AMQP.BasicProperties props(String id) {
            return MessageProperties.PERSISTENT_BASIC.builder().messageId(id).build();
        }
    }
}
