package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.warren.codec.BasicMethod;
import io.warren.codec.BasicProperties;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.ContentHeader;
import io.warren.codec.ExchangeMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.FieldValue;
import io.warren.codec.FrameEncoder;
import io.warren.codec.FrameType;
import io.warren.codec.LongString;
import io.warren.codec.QueueMethod;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * DESIGN.md invariant 5: whatever one client sends, only that client is closed, with the code the broker itself
 * would have used; a canary client sharing the same upstream connection never notices, and the broker keeps that
 * connection open. Each violation is sent both straight to the broker and through Warren, and the codes compared.
 */
@WithRabbitBroker
class IsolationTest {
    static RabbitBroker broker;
    static WarrenHarness warren;
    static Connection canary;
    static Thread canaryLoop;
    static final AtomicBoolean canaryRunning = new AtomicBoolean(true);
    static final AtomicReference<Throwable> canaryError = new AtomicReference<>();
    static final AtomicLong canaryRoundTrips = new AtomicLong();

    /** Something a client sends after a clean handshake. */
    @FunctionalInterface
    interface Violation {
        void send(RawAmqpClient c) throws Exception;
    }

    record Case(String name, Violation violation) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> violations() {
        return Stream.of(
                new Case("frame larger than frame_max", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new BasicMethod.Publish(0, "", "nowhere", false, false));
                    c.sendHeader(1, 200_000);
                    c.sendBody(1, new byte[200_000]);
                }),
                new Case("bad frame end octet", c -> {
                    c.openChannel(1);
                    ByteBuffer frame = FrameEncoder.method(1, new BasicMethod.Qos(0, 1, false));
                    frame.put(frame.limit() - 1, (byte) 0);
                    c.send(frame);
                }),
                new Case("body without header", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new BasicMethod.Publish(0, "", "nowhere", false, false));
                    c.sendBody(1, new byte[10]);
                }),
                new Case("header without method", c -> {
                    c.openChannel(1);
                    c.sendHeader(1, 10);
                }),
                new Case("method in the middle of content", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new BasicMethod.Publish(0, "", "nowhere", false, false));
                    c.sendHeader(1, 10);
                    c.sendMethod(1, new ChannelMethod.Close(200, "bye", 0, 0));
                }),
                new Case("body longer than the header said", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new BasicMethod.Publish(0, "", "nowhere", false, false));
                    c.sendHeader(1, 10);
                    c.sendBody(1, new byte[20]);
                }),
                new Case("method on a channel never opened", c -> c.sendMethod(5, new BasicMethod.Qos(0, 1, false))),
                new Case("second channel.open", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new ChannelMethod.Open(""));
                }),
                new Case("channel.close-ok on an open channel", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new ChannelMethod.CloseOk());
                }),
                new Case("consumer tag reused on a channel", c -> {
                    c.openChannel(1);
                    String q = "iso-" + UUID.randomUUID();
                    c.sendMethod(1, new QueueMethod.Declare(0, q, false, false, false, true, false,
                            FieldTable.EMPTY));
                    c.expect(QueueMethod.DeclareOk.class);
                    c.sendMethod(1, new BasicMethod.Consume(0, q, "tag", false, true, false, false,
                            FieldTable.EMPTY));
                    c.sendMethod(1, new BasicMethod.Consume(0, q, "tag", false, true, false, false,
                            FieldTable.EMPTY));
                }),
                new Case("more channels than channel_max", c -> {
                    c.openChannel(1);
                    c.openChannel(2);
                    c.sendMethod(3, new ChannelMethod.Open(""));
                }),
                new Case("connection.open after the handshake", c ->
                        c.sendMethod(0, new ConnectionMethod.Open("/", "", false))),
                new Case("connection.tune-ok after the handshake", c ->
                        c.sendMethod(0, new ConnectionMethod.TuneOk(0, 131072, 0))),
                new Case("channel method on channel 0", c -> c.sendMethod(0, new BasicMethod.Qos(0, 1, false))),
                new Case("content header on channel 0", c -> c.sendHeader(0, 1)),
                new Case("unknown frame type", c -> c.sendFrame(9, 0, new byte[4], FrameType.FRAME_END)),
                new Case("unknown class id", c -> {
                    c.openChannel(1);
                    c.sendFrame(FrameType.METHOD, 1, new byte[] {0, 99, 0, 10}, FrameType.FRAME_END);
                }),
                new Case("unknown method id", c -> {
                    c.openChannel(1);
                    c.sendFrame(FrameType.METHOD, 1, new byte[] {0, 60, 0, 99}, FrameType.FRAME_END);
                }),
                new Case("truncated method arguments", c -> {
                    c.openChannel(1);
                    c.sendFrame(FrameType.METHOD, 1, new byte[] {0, 50, 0, 10, 0}, FrameType.FRAME_END);
                }),
                new Case("garbage", c -> {
                    byte[] junk = new byte[64];
                    new Random(42).nextBytes(junk);
                    junk[0] = 1; // a method frame type, so the size field is garbage
                    c.send(junk);
                }),
                new Case("basic.qos with prefetch_size", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new BasicMethod.Qos(1, 0, false));
                }),
                new Case("channel.flow active=false", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new ChannelMethod.Flow(false));
                }),
                new Case("basic.publish immediate=true", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new BasicMethod.Publish(0, "", "nowhere", false, true));
                    c.sendHeader(1, 1);
                    c.sendBody(1, new byte[1]);
                }),
                new Case("exchange.declare of an unknown type", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new ExchangeMethod.Declare(0, "x-" + UUID.randomUUID(), "no-such-type",
                            false, false, true, false, false, FieldTable.EMPTY));
                }),
                new Case("server-named queue.declare of an unknown x-queue-type", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new QueueMethod.Declare(0, "", false, false, false, true, false,
                            FieldTable.builder().put("x-queue-type", LongString.of("bogus")).build()));
                }),
                new Case("server-named queue.declare with a non-string x-queue-type", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new QueueMethod.Declare(0, "", false, true, false, true, false,
                            FieldTable.builder().put("x-queue-type", new FieldValue.UnsignedByte(185)).build()));
                }),
                // RabbitMQ 3.10.8's parse_table has no clause for a float that is not finite: its reader crashes and
                // drops the connection (found by HostileClientFuzzTest with test-support's generators)
                new Case("an infinite double in a method's table", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new QueueMethod.Declare(0, "", false, false, false, true, false,
                            FieldTable.builder().put("x-match", new FieldValue.Float64(Double.POSITIVE_INFINITY))
                                    .build()));
                }),
                new Case("a NaN float in a method's table", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new ExchangeMethod.Unbind(0, "amq.direct", "amq.fanout", "k", true,
                            FieldTable.builder().put("k", new FieldValue.Float32(Float.NaN)).build()));
                }),
                new Case("an infinite double in a message's headers", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new BasicMethod.Publish(0, "", "nowhere", false, false));
                    ByteBuffer header = ByteBuffer.allocate(256);
                    FrameEncoder.writeHeader(header, 1, ContentHeader.basic(1, BasicProperties.builder().headers(
                            FieldTable.builder().put("h", new FieldValue.Float64(Double.NEGATIVE_INFINITY)).build())
                            .build()));
                    c.send(header.flip());
                    c.sendBody(1, new byte[1]);
                }),
                new Case("basic.recover-async requeue=false", c -> {
                    c.openChannel(1);
                    c.sendMethod(1, new BasicMethod.RecoverAsync(false));
                }));
    }

    @BeforeAll
    static void start() throws Exception {
        warren = WarrenHarness.start(broker);
        canary = warren.factory().newConnection();
        Channel ch = canary.createChannel();
        String q = ch.queueDeclare("canary-" + UUID.randomUUID(), false, true, true, null).getQueue();
        canaryLoop = new Thread(() -> {
            try {
                while (canaryRunning.get()) {
                    ch.basicPublish("", q, null, new byte[32]);
                    while (ch.basicGet(q, true) == null) {
                        Thread.onSpinWait();
                    }
                    canaryRoundTrips.incrementAndGet();
                }
            } catch (Throwable t) {
                canaryError.set(t);
            }
        }, "canary");
        canaryLoop.start();
    }

    @AfterAll
    static void stop() throws Exception {
        canaryRunning.set(false);
        canaryLoop.join(10_000);
        canary.close();
        warren.close();
    }

    /** Runs a violation on a fresh connection and returns the reply code of the connection.close it got. */
    private static int replyCodeFor(Violation v, int port) throws Exception {
        try (RawAmqpClient c = new RawAmqpClient("127.0.0.1", port)) {
            c.requestedChannelMax = 2;
            c.handshake("guest", "guest", "/", 0);
            // The broker answers a violation at once or never (it stalls on a few): don't wait long for never.
            c.readTimeout(java.time.Duration.ofSeconds(3));
            try {
                v.send(c);
            } catch (java.io.IOException e) {
                // The peer may close while we are still writing: its close frame is still readable.
            }
            ConnectionMethod.Close close = c.awaitConnectionClose();
            return close == null ? -1 : close.replyCode();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("violations")
    void onlyTheOffendingClientIsClosedWithTheBrokersCode(Case testCase) throws Exception {
        Set<String> upstreamBefore = WarrenHarness.brokerConnectionPidsFromWarren(broker);
        long canaryBefore = canaryRoundTrips.get();

        int direct = replyCodeFor(testCase.violation(), broker.amqpPort());
        int proxied = replyCodeFor(testCase.violation(), warren.port());

        if (direct > 0) {
            assertThat(proxied).as("Warren answers with the broker's code").isEqualTo(direct);
        } else {
            // The broker drops the socket or stalls without a word; Warren says what is wrong instead.
            assertThat(proxied).as("Warren closes with an explanation").isGreaterThan(0);
        }
        // The canary shares the upstream connection and keeps working through it.
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (canaryRoundTrips.get() < canaryBefore + 5 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(canaryError.get()).isNull();
        assertThat(canaryRoundTrips.get()).isGreaterThanOrEqualTo(canaryBefore + 5);
        assertThat(canary.isOpen()).isTrue();
        assertThat(WarrenHarness.brokerConnectionPidsFromWarren(broker)).containsAll(upstreamBefore);
    }
}
