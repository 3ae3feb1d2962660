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
 * way back (idle or being scrubbed) than its request rate and scrub round trip call for, unless its scrubs take less
 * than scrub-wait (a broker close by); once the key has them all, it waits. The broker is behind a {@link FaultRelay} whose link is
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

    /**
     * One event loop: the key's idle channels, scrubs and waiters are then one set, which these tests count (with
     * more loops each loop keeps its own, see {@code ClientOperationsTest}).
     */
    private void startWarren(Duration scrubWait) throws Exception {
        warren = WarrenHarness.start(broker, relay.address(), c -> c.toBuilder().scrubWait(scrubWait).build(),
                "publish-safe", 1);
    }

    @AfterEach
    void stop() {
        if (warren != null) {
            warren.close();
        }
        relay.close();
    }

    /**
     * Sequential clients {@code pauseMillis} apart, each waiting for its scrub: afterwards the key has one channel,
     * idle, and a request rate far below one per scrub round trip. Returns the key's target.
     */
    private int warmUp(long pauseMillis) throws Exception {
        long before = opened();
        long scrubbedBefore = warren.proxy.stats().scrubsSucceeded();
        for (int i = 0; i < 5; i++) {
            try (Connection c = warren.factory().newConnection()) {
                publishAndClose(c.createChannel());
            }
            long scrubbed = scrubbedBefore + i + 1;
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> warren.proxy.stats().scrubsSucceeded() == scrubbed);
            Thread.sleep(pauseMillis);
        }
        assertThat(opened() - before).as("one channel, lent again and again").isLessThanOrEqualTo(1);
        return pool().channelTarget();
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
    void atItsTargetAClientWaitsForAScrubThatIsNotDueYet() throws Exception {
        startWarren(Duration.ofMillis(50));
        warren.connectOnEveryLoop(); // the key's upstream connections, now through the relay
        // The broker 200 ms away: each scrub takes a round trip far longer than scrub-wait.
        relay.openLinks().forEach(l -> l.delay(Duration.ofMillis(100)));
        int target = warmUp(700);
        // Less than one channel in flight (a request a second, 200 ms scrubs), and one for the next client.
        assertThat(target).isEqualTo(2);
        long lentBefore = warren.proxy.stats().channelsLent();
        try (Connection a = warren.factory().newConnection(); Connection b = warren.factory().newConnection();
                Connection c = warren.factory().newConnection()) {
            Channel chA = a.createChannel(); // the idle one, lent
            Channel chB = b.createChannel(); // none idle, none in scrub: opened
            long before = opened();
            publishAndClose(chA);
            publishAndClose(chB);
            assertThat(pool().channelsScrubbing()).isEqualTo(2);

            // Two on their way back, the target; neither due within scrub-wait: the third client waits (and, the
            // scrubs a round trip away, opens one when scrub-wait is over).
            Channel chC = c.createChannel();

            assertThat(waits()).containsEntry("timed_out", 1L).containsEntry("served", 0L);
            assertThat(opened() - before).isEqualTo(1);
            assertThat(warren.proxy.stats().channelsLent() - lentBefore).isEqualTo(1); // a only
            publishAndClose(chC);
        }
    }

    @Test
    void belowItsTargetAClientWaitsForAScrubWhenScrubsTakeLessThanScrubWait() throws Exception {
        startWarren(Duration.ofSeconds(5));
        assertThat(warmUp(150)).isEqualTo(2);
        long before = opened();
        try (Connection a = warren.factory().newConnection(); Connection c = warren.factory().newConnection()) {
            Channel chA = a.createChannel(); // the idle one, lent
            stallUpstream();
            publishAndClose(chA);
            await().atMost(Duration.ofSeconds(10)).until(() -> pool().channelsScrubbing() == 1);

            // One on its way back, below the target of 2; but the key's scrubs take a local round trip, far less than
            // scrub-wait: waiting for one costs the client less than a new channel costs the broker.
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
