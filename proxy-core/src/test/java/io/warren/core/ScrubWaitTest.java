package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.warren.core.admin.PoolView;
import io.warren.testsupport.FaultRelay;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The scrub pipeline: a client that finds no channel idle opens one at once while its key has fewer channels on their
 * way back (idle or being scrubbed) than its request rate and scrub round trip call for, unless a scrub should be back
 * within scrub-wait; once the key has them all, it waits. The broker is behind a {@link FaultRelay} whose link is
 * stalled, so scrubs stay under way exactly as long as the test says; scrub-wait is seconds, so a client that waited
 * when it should not have, or did not when it should have, shows in the counters.
 */
@WithRabbitBroker
class ScrubWaitTest {
    static RabbitBroker broker;
    FaultRelay relay;
    WarrenHarness warren;

    @BeforeEach
    void startRelay() throws Exception {
        relay = FaultRelay.start(broker.host(), broker.amqpPort());
    }

    private void startWarren(Duration scrubWait) throws Exception {
        warren = WarrenHarness.start(broker, relay.address(), c -> c.toBuilder().scrubWait(scrubWait).build(),
                "publish-safe");
    }

    @AfterEach
    void stop() {
        if (warren != null) {
            warren.close();
        }
        relay.close();
    }

    /**
     * Sequential clients 150 ms apart, each scrub a local round trip: afterwards the key needs 2 channels on their way
     * back (less than one in flight, and one for the next client), and has one, idle.
     */
    private void warmUp() throws Exception {
        long before = opened();
        for (int i = 0; i < 5; i++) {
            try (Connection c = warren.factory().newConnection()) {
                publishAndClose(c.createChannel());
            }
            int scrubbed = i + 1;
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> warren.proxy.stats().scrubsSucceeded() == scrubbed);
            Thread.sleep(150);
        }
        assertThat(pool().channelTarget()).isEqualTo(2);
        assertThat(opened() - before).isEqualTo(1); // one channel, lent 4 times
    }

    /** {@code c.createChannel()} on another thread: it may wait for a scrub. */
    private static CompletableFuture<Channel> createChannelAsync(Connection c) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return c.createChannel();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private void stallUpstream() {
        relay.openLinks().forEach(FaultRelay.Link::stall);
    }

    private void resumeUpstream() {
        relay.openLinks().forEach(FaultRelay.Link::resume);
    }

    private long opened() {
        return warren.proxy.stats().upstreamChannelsOpenedTotal();
    }

    private Map<String, Long> waits() {
        return warren.proxy.stats().scrubWaits();
    }

    private PoolView pool() throws Exception {
        List<PoolView> pools = warren.proxy.pools().get(10, TimeUnit.SECONDS);
        assertThat(pools).hasSize(1);
        return pools.get(0);
    }

    private static void publishAndClose(Channel ch) throws Exception {
        ch.basicPublish("", "no-such-queue", null, "x".getBytes(StandardCharsets.UTF_8));
        ch.close();
    }

    @Test
    void belowItsTargetAClientOpensAChannelInsteadOfWaitingForAScrub() throws Exception {
        startWarren(Duration.ofSeconds(5));
        try (Connection a = warren.factory().newConnection(); Connection b = warren.factory().newConnection()) {
            long before = opened();
            stallUpstream();
            publishAndClose(a.createChannel()); // its scrub's barrier is held by the relay
            await().atMost(Duration.ofSeconds(10)).until(() -> pool().channelsScrubbing() == 1);

            Channel chB = b.createChannel(); // answered by Warren; its channel.open waits in the relay

            // Nothing measured yet: the key may have up to max-idle-channels-per-key on their way, so no wait.
            assertThat(waits()).containsEntry("served", 0L).containsEntry("timed_out", 0L);
            assertThat(pool().channelTarget()).isEqualTo(warren.proxy.config().maxIdleChannelsPerKey());
            resumeUpstream();
            await().atMost(Duration.ofSeconds(10)).until(() -> warren.proxy.stats().scrubsSucceeded() == 1);
            assertThat(opened() - before).isEqualTo(2);
            publishAndClose(chB);
            await().atMost(Duration.ofSeconds(10)).until(() -> pool().channelsIdle() == 2);
            assertThat(waits()).containsEntry("served", 0L).containsEntry("timed_out", 0L);
        }
    }

    @Test
    void atItsTargetAClientWaitsForTheNextScrubAndGetsItsChannel() throws Exception {
        startWarren(Duration.ofSeconds(2));
        warmUp();
        long before = opened();
        long lentBefore = warren.proxy.stats().channelsLent();
        try (Connection a = warren.factory().newConnection(); Connection b = warren.factory().newConnection();
                Connection c = warren.factory().newConnection()) {
            Channel chA = a.createChannel(); // the idle one, lent
            Channel chB = b.createChannel(); // none idle, none in scrub: opened
            assertThat(opened() - before).isEqualTo(1);
            stallUpstream();
            publishAndClose(chA);
            publishAndClose(chB);
            await().atMost(Duration.ofSeconds(10)).until(() -> pool().channelsScrubbing() == 2);
            // Both long overdue, more than scrub-wait past their round trip: neither is due back "soon".
            Thread.sleep(2_500);

            // Two on their way back, the target: the third client waits for one of them.
            CompletableFuture<Channel> chC = createChannelAsync(c);
            Thread.sleep(300);
            assertThat(chC).isNotDone();
            resumeUpstream();
            Channel served = chC.get(10, TimeUnit.SECONDS);

            assertThat(waits()).containsEntry("served", 1L).containsEntry("timed_out", 0L);
            assertThat(opened() - before).isEqualTo(1);
            assertThat(warren.proxy.stats().channelsLent() - lentBefore).isEqualTo(2); // a, then c
            publishAndClose(served);
        }
    }

    @Test
    void belowItsTargetAClientWaitsForAScrubDueBackWithinScrubWait() throws Exception {
        startWarren(Duration.ofSeconds(5));
        warmUp();
        long before = opened();
        try (Connection a = warren.factory().newConnection(); Connection c = warren.factory().newConnection()) {
            Channel chA = a.createChannel(); // the idle one, lent
            stallUpstream();
            publishAndClose(chA);
            await().atMost(Duration.ofSeconds(10)).until(() -> pool().channelsScrubbing() == 1);

            // One on its way back, below the target of 2; but due within a local round trip, far inside scrub-wait.
            CompletableFuture<Channel> chC = createChannelAsync(c);
            Thread.sleep(300);
            assertThat(chC).isNotDone();
            resumeUpstream();
            Channel served = chC.get(10, TimeUnit.SECONDS);

            assertThat(waits()).containsEntry("served", 1L).containsEntry("timed_out", 0L);
            assertThat(opened() - before).isZero();
            publishAndClose(served);
        }
    }
}
