package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.FrameEncoder;
import io.warren.codec.FrameType;
import io.warren.codec.LongString;
import io.warren.codec.ProtocolHeader;
import io.warren.codec.QueueMethod;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Counterexamples found by {@link HostileClientFuzzTest}, kept as plain tests. */
@WithRabbitBroker
class HostileClientRegressionTest {
    static RabbitBroker broker;

    /**
     * Found by frameSequenceFuzz: bytes that arrive while Warren waits (here for the first upstream login, as for a
     * channel being scrubbed) are kept and replayed; a violation among them closed the client with reads left
     * paused, so its close-ok was never read and the socket stayed open for the 5 s grace period.
     */
    @Test
    void violationInBytesReplayedAfterAWaitStillReadsTheClientsCloseOk() throws Exception {
        try (WarrenHarness warren = WarrenHarness.start(broker);
                RawAmqpClient c = new RawAmqpClient("127.0.0.1", warren.port())) {
            // The whole handshake and a violation in one write: a fresh Warren has no login to vouch for guest, so
            // it waits for the broker after start-ok and keeps the rest for later.
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.writeBytes(ProtocolHeader.AMQP_0_9_1);
            write(all, 0, new ConnectionMethod.StartOk(FieldTable.EMPTY, "PLAIN",
                    LongString.of("\0guest\0guest".getBytes(StandardCharsets.UTF_8)), "en_US"));
            write(all, 0, new ConnectionMethod.TuneOk(0, 131072, 0));
            write(all, 0, new ConnectionMethod.Open("/", "", false));
            write(all, 1, new ChannelMethod.Open(""));
            all.write(FrameType.BODY); // a body frame with no publish before it
            all.writeBytes(new byte[] {0, 1, 0, 0, 0, 1, 7, (byte) FrameType.FRAME_END});
            c.send(all.toByteArray());

            ConnectionMethod.Close close = c.awaitConnectionClose(); // answers close-ok
            // The broker-equivalent code for what was wrong first (here connection.open pipelined ahead of the
            // login's outcome); what matters is what happens after it.
            assertThat(close).as("Warren closed the client with a connection.close").isNotNull();
            assertThat(c.closedWithin(Duration.ofSeconds(3)))
                    .as("Warren read the close-ok and closed at once, not after its 5 s grace period").isTrue();
        }
    }

    /**
     * Found by frameSequenceFuzz (seed 20261125): channel 2's channel.open, queued behind channel 1's incomplete
     * message, was cut off with that message when the client's violation abandoned it; channel 2 was then scrubbed
     * with basic.qos on an upstream channel the broker had never opened, and the broker closed the shared upstream
     * connection (504 "expected 'channel.open'") under every client on it.
     */
    @Test
    void channelOpenedBehindAnAbandonedMessageIsOpenedUpstreamBeforeItIsScrubbed() throws Exception {
        try (WarrenHarness warren = WarrenHarness.start(broker); Neighbour neighbour = new Neighbour(warren)) {
            String queue = neighbour.queue;
            try (RawAmqpClient c = RawAmqpClient.open("127.0.0.1", warren.port())) {
                c.openChannel(1);
                c.inOneWrite(() -> {
                    c.sendMethod(1, new BasicMethod.Publish(0, "", queue, false, false));
                    c.sendHeader(1, 100);
                    c.sendBody(1, new byte[10]); // 90 bytes short
                    c.sendMethod(2, new ChannelMethod.Open(""));
                    c.sendFrame(9, 0, new byte[0], FrameType.FRAME_END); // no such frame type: 501
                });
                assertThat(c.awaitConnectionClose().replyCode()).isEqualTo(501);
            }
            // Channel 2 is retired (scrubbed) once the client is gone; the broker must have seen it opened.
            neighbour.assertUpstreamSurvived();
            assertThat(neighbour.channel.messageCount(queue))
                    .as("the neighbour's three messages, not the half message").isEqualTo(3);
        }
    }

    /**
     * Found while fixing the above: a message held across reads on channel 1 that completes behind channel 2's
     * incomplete inline message was queued after it, so abandoning channel 2's message also cut off channel 1's
     * whole one (lost, and with confirms the channel's delivery tags would no longer match the broker's).
     */
    @Test
    void messageCompletedBehindAnotherChannelsAbandonedMessageStillGoesUpstream() throws Exception {
        try (WarrenHarness warren = WarrenHarness.start(broker);
                com.rabbitmq.client.Connection reader = warren.factory().newConnection()) {
            com.rabbitmq.client.Channel ch = reader.createChannel();
            String queue = ch.queueDeclare("regression-" + UUID.randomUUID(), false, true, true, null).getQueue();
            byte[] whole = new byte[20];
            Arrays.fill(whole, (byte) 'a');
            try (RawAmqpClient c = RawAmqpClient.open("127.0.0.1", warren.port())) {
                c.openChannel(1);
                c.openChannel(2);
                c.inOneWrite(() -> {
                    c.sendMethod(1, new BasicMethod.Publish(0, "", queue, false, false));
                    c.sendHeader(1, whole.length);
                    c.sendBody(1, Arrays.copyOf(whole, 10));
                });
                // A round trip on channel 2 ends that read: channel 1's half message is now held on its own.
                c.sendMethod(2, new BasicMethod.Qos(0, 10, false));
                assertThat(c.nextMethod()).isInstanceOf(BasicMethod.QosOk.class);
                c.inOneWrite(() -> {
                    c.sendMethod(2, new BasicMethod.Publish(0, "", queue, false, false));
                    c.sendHeader(2, 100);
                    c.sendBody(2, new byte[10]); // channel 2's message stays incomplete
                    c.sendBody(1, Arrays.copyOfRange(whole, 10, 20)); // channel 1's is complete
                    c.sendFrame(9, 0, new byte[0], FrameType.FRAME_END);
                });
                assertThat(c.awaitConnectionClose().replyCode()).isEqualTo(501);
            }
            com.rabbitmq.client.GetResponse got = null;
            for (int i = 0; i < 50 && got == null; i++) {
                got = ch.basicGet(queue, true);
                Thread.sleep(got == null ? 100 : 0);
            }
            assertThat(got).as("channel 1's complete message reached the queue").isNotNull();
            assertThat(got.getBody()).isEqualTo(whole);
            assertThat(ch.messageCount(queue)).as("and channel 2's half message did not").isZero();
        }
    }

    /**
     * Found by frameSequenceFuzz (seed -4345909461437398598): RabbitMQ 3.10.8 sends channel.close twice for a failed
     * passive queue.declare followed by basic.get of "the last declared queue"; the client vanishes, so Warren's
     * own channel.close crosses them. Answering each with close-ok made the second reach a channel the broker had
     * already forgotten (504 "expected 'channel.open'" closes the shared upstream connection).
     */
    @Test
    void brokersRepeatedChannelCloseIsAnsweredOnceWhenTheClientVanishes() throws Exception {
        try (WarrenHarness warren = WarrenHarness.start(broker); Neighbour neighbour = new Neighbour(warren)) {
            for (int round = 0; round < 20; round++) {
                RawAmqpClient c = RawAmqpClient.open("127.0.0.1", warren.port());
                c.openChannel(1);
                c.inOneWrite(() -> {
                    c.sendMethod(1, new QueueMethod.Declare(0, "no-such-queue", true, false, false, false, false,
                            FieldTable.EMPTY)); // the broker's 404
                    c.sendMethod(1, new BasicMethod.Get(0, "", false)); // "the last declared queue": none
                });
                if (round % 2 == 0) {
                    c.abort();
                } else {
                    c.vanish();
                }
            }
            neighbour.assertUpstreamSurvived();
        }
    }

    /**
     * A client with the same credentials, so on the shared upstream connection, and the broker's connections of
     * Warren when it joined: what a try must not break.
     */
    private static final class Neighbour implements AutoCloseable {
        final com.rabbitmq.client.Connection connection;
        final com.rabbitmq.client.Channel channel;
        final String queue;
        final Set<String> upstream;

        Neighbour(WarrenHarness warren) throws Exception {
            connection = warren.factory().newConnection();
            channel = connection.createChannel();
            channel.confirmSelect();
            queue = channel.queueDeclare("regression-" + UUID.randomUUID(), false, true, true, null).getQueue();
            warren.connectOnEveryLoop(); // the key's connections on the other loops are not the try's doing
            upstream = WarrenHarness.brokerConnectionPidsFromWarren(broker);
        }

        /** Publishes with confirms while what the try left behind reaches the broker, then checks the connection. */
        void assertUpstreamSurvived() throws Exception {
            for (int i = 0; i < 3; i++) {
                channel.basicPublish("", queue, null, new byte[8]);
                channel.waitForConfirmsOrDie(10_000);
                Thread.sleep(200);
            }
            assertThat(WarrenHarness.brokerConnectionPidsFromWarren(broker))
                    .as("the broker kept Warren's upstream connection").isEqualTo(upstream);
        }

        @Override
        public void close() throws Exception {
            connection.close();
        }
    }

    private static void write(ByteArrayOutputStream out, int channel, io.warren.codec.AmqpMethod m) {
        ByteBuffer b = FrameEncoder.method(channel, m);
        out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
    }
}
