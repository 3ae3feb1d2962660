package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.warren.api.transport.TransportSettings;
import io.warren.codec.BasicMethod;
import io.warren.codec.FieldTable;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md invariant 8, against clients that never read their socket. What Warren holds for them is bounded by
 * slow-client-buffer, not by what they are sent or send; a client that leaves its queue full stops the upstream
 * connections feeding it for at most slow-client-stall, is cut off beyond slow-client-buffer or after
 * slow-client-timeout, and clients sharing its upstream connection keep making progress.
 *
 * <p>The bounds asserted here (docs/reliability.md explains them):
 * <ul>
 *   <li>a client's write queue: slow-client-buffer plus the one write that crossed it, at most one upstream
 *       read's frames: {@link #CLIENT_QUEUE_CEILING};</li>
 *   <li>an upstream connection's write queue: high mark + one read's worth of frames (or one whole message, when
 *       it completes) from each client writing to it at that moment.</li>
 * </ul>
 */
@WithRabbitBroker
class SlowConsumerTest {
    static RabbitBroker broker;

    private static final Duration SLOW_CLIENT_TIMEOUT = Duration.ofSeconds(3);
    private static final long HIGH_MARK = TransportSettings.defaults().writeHighWaterMark();
    private static final long READ = 64 * 1024; // the transport's read buffer: at most this much per read
    private static final long SLOW_CLIENT_BUFFER = 2L * 1024 * 1024;
    /** slow-client-buffer + the write that crossed it: one upstream read, plus a frame it completed (frame_max). */
    private static final long CLIENT_QUEUE_CEILING = SLOW_CLIENT_BUFFER + READ + 128 * 1024;

    private static WarrenHarness startWarren() throws IOException {
        return WarrenHarness.start(broker, c -> c.toBuilder().slowClientTimeout(SLOW_CLIENT_TIMEOUT)
                .slowClientBuffer(SLOW_CLIENT_BUFFER).build());
    }

    /**
     * A consumer that never reads and comes back each time it is cut off, with slow-client-timeout at a minute:
     * each round stops the shared upstream connection for at most slow-client-stall (then Warren buffers for the
     * consumer and cuts it off at slow-client-buffer), so the client beside it gets its confirms through every round.
     * Without the stall limit each round cost its neighbours the whole minute.
     */
    @Test
    void consumerThatNeverReadsAndReconnectsStallsItsNeighboursOnlyBriefly() throws Exception {
        Duration slowClientTimeout = Duration.ofMinutes(1);
        try (WarrenHarness warren = WarrenHarness.start(broker, c -> c.toBuilder()
                .slowClientTimeout(slowClientTimeout).slowClientBuffer(SLOW_CLIENT_BUFFER).build())) {
            String q = "slow-" + UUID.randomUUID();
            try (Connection direct = warren.directFactory().newConnection(); Channel ch = direct.createChannel()) {
                ch.queueDeclare(q, false, false, false, null);
                byte[] body = new byte[64 * 1024];
                for (int i = 0; i < 400; i++) { // 25 MiB; unacked, so each cut-off round puts it back
                    ch.basicPublish("", q, null, body);
                }
            }
            try (Connection canary = warren.factory().newConnection()) {
                Channel c = canary.createChannel();
                c.confirmSelect();
                String cq = c.queueDeclare().getQueue();
                long start = System.nanoTime();
                int confirmed = 0;
                for (int round = 0; round < 3; round++) {
                    try (RawAmqpClient slow = RawAmqpClient.open("127.0.0.1", warren.port())) {
                        slow.openChannel(1);
                        slow.sendMethod(1, new BasicMethod.Consume(0, q, "", false, false, false, false,
                                FieldTable.EMPTY));
                        // ...and never read: Warren cuts it off once slow-client-buffer is queued for it.
                        long deadline = System.nanoTime() + Duration.ofSeconds(50).toNanos();
                        do {
                            for (int j = 0; j < 10; j++) {
                                c.basicPublish("", cq, null, new byte[100]);
                            }
                            c.waitForConfirmsOrDie(30_000);
                            confirmed += 10;
                        } while (warren.proxy.clientCount() > 1 && System.nanoTime() < deadline);
                        assertThat(warren.proxy.clientCount()).as("round %d: the consumer was cut off", round)
                                .isEqualTo(1);
                    }
                }
                Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
                assertThat(elapsed).as("three rounds, none waited out slow-client-timeout")
                        .isLessThan(slowClientTimeout);
                assertThat(confirmed).isGreaterThanOrEqualTo(30);
                assertThat(c.messageCount(cq)).isEqualTo(confirmed);
                assertThat(canary.isOpen()).isTrue();
                assertThat(warren.proxy.stats().peakClientWriteQueueBytes())
                        .as("bytes Warren held for the consumer that never read")
                        .isGreaterThan(HIGH_MARK)
                        .isLessThanOrEqualTo(CLIENT_QUEUE_CEILING);
            }
        }
    }

    /**
     * Many clients that stop reading at once cannot make Warren hold clients x slow-client-buffer: with the buffer
     * at 8 MiB and slow-client-buffer-total at 3 MiB, four consumers on one upstream connection that never read are
     * all cut off, what Warren buffered for them together never exceeded the total plus one write, and it is back
     * to 0 once they are gone. Without the total the first of them alone reaches 8 MiB.
     */
    @Test
    void clientsThatStopReadingTogetherStayWithinTheTotalBuffer() throws Exception {
        long total = 3L * 1024 * 1024;
        int consumers = 4;
        try (WarrenHarness warren = WarrenHarness.start(broker, c -> c.toBuilder()
                .slowClientTimeout(SLOW_CLIENT_TIMEOUT).slowClientBuffer(8L * 1024 * 1024)
                .slowClientBufferTotal(total).build())) {
            String q = "slow-" + UUID.randomUUID();
            try (Connection direct = warren.directFactory().newConnection(); Channel ch = direct.createChannel()) {
                ch.queueDeclare(q, false, false, false, null);
                byte[] body = new byte[64 * 1024];
                for (int i = 0; i < 400; i++) { // 25 MiB, shared round-robin by the consumers
                    ch.basicPublish("", q, null, body);
                }
            }
            List<RawAmqpClient> slow = new ArrayList<>();
            try (Connection canary = warren.factory().newConnection()) {
                Channel c = canary.createChannel();
                c.confirmSelect();
                String cq = c.queueDeclare().getQueue();
                for (int i = 0; i < consumers; i++) {
                    RawAmqpClient client = RawAmqpClient.open("127.0.0.1", warren.port());
                    slow.add(client);
                    client.openChannel(1);
                }
                for (RawAmqpClient client : slow) { // ...and never read
                    client.sendMethod(1, new BasicMethod.Consume(0, q, "", false, false, false, false,
                            FieldTable.EMPTY));
                }
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (warren.proxy.clientCount() > 1 && System.nanoTime() < deadline) {
                    c.basicPublish("", cq, null, new byte[100]);
                    c.waitForConfirmsOrDie(30_000);
                }
                assertThat(warren.proxy.clientCount()).as("every consumer that never read was cut off").isEqualTo(1);
                assertThat(warren.proxy.stats().peakSlowClientBufferedBytes())
                        .as("bytes buffered for the slow clients together, at their peak")
                        .isGreaterThan(total / 2)
                        .isLessThanOrEqualTo(total + READ + 128 * 1024);
                assertThat(warren.proxy.stats().slowClientBufferedBytes()).as("nothing counted once they are gone")
                        .isZero();
                assertThat(canary.isOpen()).isTrue();
            } finally {
                for (RawAmqpClient client : slow) {
                    client.close();
                }
            }
        }
    }

    /**
     * A client that reads nothing at all is not waited for a whole slow-client-stall: the first check comes after a
     * tenth of it and asks only for some progress. With the stall at 20 s, the client beside a consumer that never
     * reads waits about 2 s for its confirms, not 20 s (which it does when the first check asks for 64 KiB at the
     * end of the period, as before).
     */
    @Test
    void clientThatReadsNothingIsNotWaitedForAWholeStall() throws Exception {
        Duration stall = Duration.ofSeconds(20);
        try (WarrenHarness warren = WarrenHarness.start(broker, c -> c.toBuilder().slowClientStall(stall)
                .slowClientTimeout(Duration.ofMinutes(2)).slowClientBuffer(SLOW_CLIENT_BUFFER).build())) {
            String q = "slow-" + UUID.randomUUID();
            try (Connection direct = warren.directFactory().newConnection(); Channel ch = direct.createChannel()) {
                ch.queueDeclare(q, false, false, false, null);
                byte[] body = new byte[64 * 1024];
                for (int i = 0; i < 400; i++) {
                    ch.basicPublish("", q, null, body);
                }
            }
            try (Connection canary = warren.factory().newConnection();
                    RawAmqpClient slow = RawAmqpClient.open("127.0.0.1", warren.port())) {
                Channel c = canary.createChannel();
                c.confirmSelect();
                String cq = c.queueDeclare().getQueue();
                slow.openChannel(1);
                slow.sendMethod(1, new BasicMethod.Consume(0, q, "", false, false, false, false, FieldTable.EMPTY));
                // ...and never read.
                long longestWait = 0;
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                do {
                    long sent = System.nanoTime();
                    for (int j = 0; j < 10; j++) {
                        c.basicPublish("", cq, null, new byte[100]);
                    }
                    c.waitForConfirmsOrDie(60_000);
                    longestWait = Math.max(longestWait, System.nanoTime() - sent);
                } while (warren.proxy.clientCount() > 1 && System.nanoTime() < deadline);
                assertThat(warren.proxy.clientCount()).as("the consumer was cut off").isEqualTo(1);
                assertThat(Duration.ofNanos(longestWait)).as("the neighbour's longest wait for confirms")
                        .isLessThan(stall.dividedBy(2));
            }
        }
    }

    @Test
    void consumerThatNeverReadsIsCutOffAndOthersCarryOn() throws Exception {
        try (WarrenHarness warren = startWarren()) {
            String q = "slow-" + UUID.randomUUID();
            try (Connection direct = warren.directFactory().newConnection(); Channel ch = direct.createChannel()) {
                ch.queueDeclare(q, false, false, false, null);
                byte[] body = new byte[64 * 1024];
                for (int i = 0; i < 400; i++) { // 25 MiB, far above any write queue mark
                    ch.basicPublish("", q, null, body);
                }
            }
            try (RawAmqpClient slow = RawAmqpClient.open("127.0.0.1", warren.port());
                    Connection canary = warren.factory().newConnection()) {
                slow.openChannel(1);
                slow.sendMethod(1, new BasicMethod.Consume(0, q, "", false, true, false, false, FieldTable.EMPTY));
                // ...and never read again.
                Channel c = canary.createChannel();
                String cq = c.queueDeclare().getQueue();
                long start = System.nanoTime();
                boolean slowGone = false;
                int roundTrips = 0;
                while (System.nanoTime() - start < Duration.ofSeconds(40).toNanos()) {
                    c.basicPublish("", cq, null, new byte[8]);
                    if (c.basicGet(cq, true) != null) {
                        roundTrips++;
                    }
                    if (!slowGone && warren.proxy.clientCount() == 1) {
                        slowGone = true; // cut off: only the canary is left
                    }
                    if (slowGone && roundTrips > 20) {
                        break;
                    }
                }
                assertThat(slowGone).as("the client that does not read was disconnected").isTrue();
                assertThat(roundTrips).as("the canary on the same upstream connection carried on").isGreaterThan(20);
                assertThat(canary.isOpen()).isTrue();
                assertThat(warren.proxy.stats().violations()).containsKey(320);
                assertThat(warren.proxy.stats().peakClientWriteQueueBytes())
                        .as("bytes Warren held for the consumer that never read, of the 25 MiB queued for it")
                        .isGreaterThan(HIGH_MARK)
                        .isLessThanOrEqualTo(CLIENT_QUEUE_CEILING);
            }
        }
    }

    /**
     * A publisher that never reads, and is sent nothing: it is not a slow client, only a fast one. TCP back-pressure
     * throttles it (its reads pause while the shared upstream queue is above the high mark), it is never cut off,
     * and a client publishing with confirms on the same upstream connection gets every confirm meanwhile.
     */
    @Test
    void publisherThatNeverReadsIsThrottledWhileOthersOnItsUpstreamKeepPublishing() throws Exception {
        try (WarrenHarness warren = startWarren();
                RawAmqpClient hog = RawAmqpClient.open("127.0.0.1", warren.port());
                Connection canary = warren.factory().newConnection()) {
            hog.openChannel(1);
            Hog publisher = new Hog(hog, false);
            publisher.thread.start();
            try {
                publisher.awaitPublished(200); // 12.5 MiB: well past every buffer
                Channel c = canary.createChannel();
                c.confirmSelect();
                String cq = c.queueDeclare().getQueue();
                long hogBefore = publisher.published.get();
                for (int i = 0; i < 20; i++) {
                    for (int j = 0; j < 10; j++) {
                        c.basicPublish("", cq, null, new byte[100]);
                    }
                    c.waitForConfirmsOrDie(30_000);
                }
                assertThat(c.messageCount(cq)).as("all 200 confirmed messages are in the queue").isEqualTo(200);
                assertThat(publisher.error.get()).as("the hog was never cut off").isNull();
                assertThat(publisher.published.get()).as("the hog kept publishing meanwhile")
                        .isGreaterThan(hogBefore);
                assertThat(warren.proxy.clientCount()).isEqualTo(2);
                assertThat(warren.proxy.stats().peakUpstreamWriteQueueBytes())
                        .as("bytes queued for the shared upstream connection")
                        .isLessThanOrEqualTo(HIGH_MARK + 2 * (READ + Hog.MESSAGE + 1024));
            } finally {
                publisher.stop();
            }
        }
    }

    /**
     * A publisher that never reads what it is sent back (mandatory publishes that the broker returns, body and
     * all): its write queue fills, Warren stops reading their shared upstream connection for at most
     * slow-client-timeout, then cuts it off; the other client gets its confirms again, and Warren held no more than
     * the bound for the hog.
     */
    @Test
    void publisherThatNeverReadsItsReturnsIsCutOffAndOthersCarryOn() throws Exception {
        try (WarrenHarness warren = startWarren();
                RawAmqpClient hog = RawAmqpClient.open("127.0.0.1", warren.port());
                Connection canary = warren.factory().newConnection()) {
            hog.openChannel(1);
            Hog publisher = new Hog(hog, true);
            publisher.thread.start();
            try {
                Channel c = canary.createChannel();
                c.confirmSelect();
                String cq = c.queueDeclare().getQueue();
                int confirmed = 0;
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while ((warren.proxy.clientCount() > 1 || confirmed < 100) && System.nanoTime() < deadline) {
                    for (int j = 0; j < 10; j++) {
                        c.basicPublish("", cq, null, new byte[100]);
                    }
                    c.waitForConfirmsOrDie(30_000);
                    confirmed += 10;
                }
                assertThat(warren.proxy.clientCount()).as("the hog was cut off").isEqualTo(1);
                assertThat(confirmed).as("the other client's publishes were all confirmed").isGreaterThanOrEqualTo(100);
                assertThat(canary.isOpen()).isTrue();
                assertThat(warren.proxy.stats().violations()).containsKey(320);
                assertThat(warren.proxy.stats().peakClientWriteQueueBytes())
                        .as("bytes Warren held for the hog that never read its returns")
                        .isGreaterThan(HIGH_MARK)
                        .isLessThanOrEqualTo(CLIENT_QUEUE_CEILING);
            } finally {
                publisher.stop();
            }
        }
    }

    /** Publishes 64 KiB messages to a routing key no queue is bound to, as fast as its socket takes them. */
    private static final class Hog {
        static final int MESSAGE = 64 * 1024;
        final AtomicLong published = new AtomicLong();
        final AtomicReference<IOException> error = new AtomicReference<>();
        final Thread thread;
        volatile boolean running = true;

        Hog(RawAmqpClient client, boolean mandatory) {
            String key = "nowhere-" + UUID.randomUUID();
            byte[] body = new byte[MESSAGE];
            thread = new Thread(() -> {
                try {
                    while (running) {
                        client.sendMethod(1, new BasicMethod.Publish(0, "", key, mandatory, false));
                        client.sendHeader(1, body.length);
                        client.sendBody(1, body);
                        published.incrementAndGet();
                    }
                } catch (IOException e) {
                    error.set(e);
                }
            }, "hog");
            thread.setDaemon(true);
        }

        void awaitPublished(long n) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (published.get() < n && error.get() == null && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(published.get()).as("the hog published").isGreaterThanOrEqualTo(n);
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join(100); // it may sit blocked in a write to a socket nobody reads: closing the client ends it
        }
    }
}
