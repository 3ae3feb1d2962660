package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ExchangeMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.Frame;
import io.warren.codec.FrameType;
import io.warren.codec.QueueMethod;
import io.warren.core.stats.ProxyStats;
import io.warren.core.stats.ProxyStats.Direction;
import io.warren.core.stats.ProxyStats.Peer;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The traffic counters are added to once per read, not per frame: what they show once a read is done is still every
 * frame and message of it, also when the read ends in a violation. Heartbeats are off, so that nothing but the test's
 * frames is counted.
 */
@WithRabbitBroker
class TrafficCountsTest {
    static RabbitBroker broker;

    private static WarrenHarness start() throws Exception {
        return WarrenHarness.start(broker, c -> c.withHeartbeats(Duration.ZERO, Duration.ZERO));
    }

    /**
     * A round trip through the broker: the counts of every read before it are added once its answer arrives (a
     * client read's counts are added at its end, which may come after Warren wrote its answer to the client).
     */
    private static void settle(RawAmqpClient c) throws Exception {
        c.sendMethod(1, new ExchangeMethod.Declare(0, "amq.direct", "direct", true, false, false, false, false,
                FieldTable.EMPTY));
        c.expect(ExchangeMethod.DeclareOk.class);
    }

    @Test
    void framesAndMessagesOfOneReadAreAllCounted() throws Exception {
        try (WarrenHarness warren = start(); RawAmqpClient c = RawAmqpClient.open("127.0.0.1", warren.port())) {
            c.openChannel(1);
            settle(c);
            ProxyStats stats = warren.proxy.stats();
            long clientFrames = stats.frames(Peer.CLIENT, Direction.RECEIVED);
            long upstreamFrames = stats.frames(Peer.UPSTREAM, Direction.SENT);
            long messages = stats.messagesPublished();

            c.inOneWrite(() -> {
                for (int i = 0; i < 5; i++) {
                    c.publish(1, "", "nowhere-" + UUID.randomUUID(), new byte[10]);
                }
                c.sendMethod(1, new ChannelMethod.Close(200, "bye", 0, 0));
            });
            c.expect(ChannelMethod.CloseOk.class);

            assertThat(stats.frames(Peer.CLIENT, Direction.RECEIVED) - clientFrames).isEqualTo(16);
            assertThat(stats.messagesPublished() - messages).isEqualTo(5);
            assertThat(stats.frames(Peer.UPSTREAM, Direction.SENT) - upstreamFrames).isEqualTo(16);
        }
    }

    @Test
    void deliveriesReadFromUpstreamAreAllCounted() throws Exception {
        String queue = "traffic-counts-" + UUID.randomUUID();
        try (WarrenHarness warren = start(); RawAmqpClient c = RawAmqpClient.open("127.0.0.1", warren.port())) {
            c.openChannel(1);
            c.sendMethod(1, new QueueMethod.Declare(0, queue, false, false, false, true, false,
                    FieldTable.EMPTY));
            c.expect(QueueMethod.DeclareOk.class);
            c.inOneWrite(() -> {
                for (int i = 0; i < 5; i++) {
                    c.publish(1, "", queue, new byte[10]);
                }
            });
            // Publishes get no answer: the declare-ok was the last frame from upstream before the snapshot.
            ProxyStats stats = warren.proxy.stats();
            long upstreamFrames = stats.frames(Peer.UPSTREAM, Direction.RECEIVED);
            long clientFrames = stats.frames(Peer.CLIENT, Direction.SENT);

            c.sendMethod(1, new BasicMethod.Consume(0, queue, "", false, true, false, false,
                    FieldTable.EMPTY));
            int frames = 0;
            int deliveries = 0;
            while (deliveries < 5) {
                Frame f = c.nextFrame();
                frames++;
                if (f.type() == FrameType.BODY) {
                    deliveries++;
                }
            }

            assertThat(frames).isEqualTo(16); // consume-ok and 5 x (deliver, header, body)
            assertThat(stats.frames(Peer.UPSTREAM, Direction.RECEIVED) - upstreamFrames).isEqualTo(16);
            assertThat(stats.frames(Peer.CLIENT, Direction.SENT) - clientFrames).isEqualTo(16);
        }
    }

    @Test
    void framesOfAReadThatEndsInAViolationAreCounted() throws Exception {
        try (WarrenHarness warren = start(); RawAmqpClient c = RawAmqpClient.open("127.0.0.1", warren.port())) {
            c.openChannel(1);
            settle(c);
            ProxyStats stats = warren.proxy.stats();
            long clientFrames = stats.frames(Peer.CLIENT, Direction.RECEIVED);
            long messages = stats.messagesPublished();

            c.inOneWrite(() -> {
                c.publish(1, "", "nowhere", new byte[10]);
                c.publish(1, "", "nowhere", new byte[10]);
                c.sendFrame(FrameType.BODY, 1, new byte[1], FrameType.FRAME_END); // no publish before it: 505
            });
            AmqpMethod close = c.awaitConnectionClose(); // answers close-ok: one more frame
            assertThat(close).isNotNull();

            // The close-ok's read ends after Warren closed the socket: wait for its count, then check it is exact.
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> stats.frames(Peer.CLIENT, Direction.RECEIVED) - clientFrames >= 8);
            assertThat(stats.frames(Peer.CLIENT, Direction.RECEIVED) - clientFrames).isEqualTo(8);
            assertThat(stats.messagesPublished() - messages).isEqualTo(2);
        }
    }
}
