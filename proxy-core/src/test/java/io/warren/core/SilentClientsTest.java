package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.Frame;
import io.warren.codec.FrameDecoder;
import io.warren.codec.FrameEncoder;
import io.warren.codec.FrameType;
import io.warren.codec.LongString;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.codec.ProtocolHeader;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Clients that open a connection and then say nothing, or trickle one byte a second, hold a socket each until the
 * handshake timeout, and no longer: Warren ends each of them at that timeout (not before), and serves other clients
 * normally while they are open.
 */
@WithRabbitBroker
class SilentClientsTest {
    static RabbitBroker broker;

    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(3);
    /** Ended "at the timeout": no earlier, and within this much after it (timers on a loaded 2-core machine). */
    private static final Duration LATE_MARGIN = Duration.ofSeconds(5);
    private static final int SILENT = 1000;
    private static final int TRICKLING = 20;

    /** How a hostile client behaves, and when Warren ended it. */
    enum Kind {
        /** Connects and sends nothing. */
        SILENT,
        /** Sends the protocol header one byte a second: never complete before the timeout. */
        HEADER_TRICKLE,
        /** Sends the protocol header, then a connection.start-ok one byte a second. */
        FRAME_TRICKLE
    }

    static final class Peer {
        final Kind kind;
        final SocketChannel channel;
        final long connectedNanos;
        final byte[] toTrickle;
        int trickled;
        final FrameDecoder decoder = new FrameDecoder(1 << 20);
        ByteBuffer received = ByteBuffer.allocate(0);
        /** When the socket reached end of stream (or was reset), or when connection.close arrived: 0 until then. */
        long endedNanos;
        String endedBy;

        Peer(Kind kind, SocketChannel channel, byte[] toTrickle) {
            this.kind = kind;
            this.channel = channel;
            this.connectedNanos = System.nanoTime();
            this.toTrickle = toTrickle;
        }

        void ended(String how) {
            if (endedNanos == 0) {
                endedNanos = System.nanoTime();
                endedBy = how;
            }
        }
    }

    @Test
    void silentAndTricklingClientsAreClosedAtTheHandshakeTimeoutWhileOthersAreServed() throws Exception {
        try (WarrenHarness warren = WarrenHarness.start(broker, c -> c.withHandshakeTimeout(HANDSHAKE_TIMEOUT));
                Selector selector = Selector.open()) {
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", warren.port());
            // A client on the pool's key first, so the later ones need no upstream login (they would not anyway).
            try (Connection warm = warren.factory().newConnection()) {
                warm.createChannel().close();
            }
            long acceptedBefore = warren.proxy.stats().clientConnectionsTotal();
            List<Peer> peers = new ArrayList<>();
            byte[] startOk = startOkFrame();
            for (int i = 0; i < SILENT + 2 * TRICKLING; i++) {
                Kind kind = i < SILENT ? Kind.SILENT : i < SILENT + TRICKLING ? Kind.HEADER_TRICKLE : Kind.FRAME_TRICKLE;
                SocketChannel ch = SocketChannel.open(address);
                if (kind == Kind.FRAME_TRICKLE) {
                    ch.write(ByteBuffer.wrap(ProtocolHeader.AMQP_0_9_1.clone()));
                }
                byte[] trickle = switch (kind) {
                    case SILENT -> new byte[0];
                    case HEADER_TRICKLE -> ProtocolHeader.AMQP_0_9_1.clone();
                    case FRAME_TRICKLE -> startOk;
                };
                Peer peer = new Peer(kind, ch, trickle);
                ch.configureBlocking(false);
                ch.register(selector, SelectionKey.OP_READ, peer);
                peers.add(peer);
            }
            long allOpenNanos = System.nanoTime();

            // While all of them are open: a new client connects, publishes with confirms and consumes, through Warren.
            int served = 0;
            int servedWhileAllOpen = -1;
            long nextTrickle = System.nanoTime();
            long deadline = System.nanoTime() + HANDSHAKE_TIMEOUT.plus(LATE_MARGIN).plusSeconds(10).toNanos();
            try (Connection normal = warren.factory().newConnection()) {
                Channel ch = normal.createChannel();
                ch.confirmSelect();
                String q = ch.queueDeclare().getQueue();
                while (peers.stream().anyMatch(p -> p.endedNanos == 0) && System.nanoTime() < deadline) {
                    ch.basicPublish("", q, null, ("m" + served).getBytes(StandardCharsets.UTF_8));
                    ch.waitForConfirmsOrDie(10_000);
                    GetResponse got = ch.basicGet(q, true);
                    assertThat(got).as("the message just published and confirmed").isNotNull();
                    assertThat(new String(got.getBody(), StandardCharsets.UTF_8)).isEqualTo("m" + served);
                    served++;
                    boolean noneEnded = peers.stream().allMatch(p -> p.endedNanos == 0);
                    if (noneEnded) {
                        servedWhileAllOpen = served;
                    }
                    if (System.nanoTime() >= nextTrickle) {
                        trickle(peers);
                        nextTrickle += TimeUnit.SECONDS.toNanos(1);
                    }
                    poll(selector, 0);
                }
                // The rest of the wait: no more clients needed, just watch the sockets.
                while (peers.stream().anyMatch(p -> p.endedNanos == 0) && System.nanoTime() < deadline) {
                    poll(selector, 50);
                }
                assertThat(normal.isOpen()).isTrue();
            }

            assertThat(warren.proxy.stats().clientConnectionsTotal() - acceptedBefore)
                    .as("Warren accepted every hostile connection").isGreaterThanOrEqualTo(SILENT + 2 * TRICKLING);
            assertThat(servedWhileAllOpen)
                    .as("round trips of a normal client completed while all %d hostile connections were open "
                            + "(connecting them took %d ms)", peers.size(),
                            (allOpenNanos - peers.get(0).connectedNanos) / 1_000_000)
                    .isPositive();
            for (Peer p : peers) {
                assertThat(p.endedNanos).as("%s client ended by Warren", p.kind).isPositive();
                long afterConnect = p.endedNanos - p.connectedNanos;
                assertThat(Duration.ofNanos(afterConnect)).as("%s client ended at the handshake timeout (%s)",
                        p.kind, p.endedBy)
                        .isGreaterThanOrEqualTo(HANDSHAKE_TIMEOUT.minusMillis(50))
                        .isLessThanOrEqualTo(HANDSHAKE_TIMEOUT.plus(LATE_MARGIN));
                String expected = p.kind == Kind.FRAME_TRICKLE ? "connection.close 320" : "end of stream";
                assertThat(p.endedBy).as("how Warren ended a %s client", p.kind).isEqualTo(expected);
            }
            assertThat(warren.proxy.stats().handshakesFailed().get("timeout"))
                    .isGreaterThanOrEqualTo((long) SILENT + 2 * TRICKLING);
            for (Peer p : peers) {
                p.channel.close();
            }
        }
    }

    /** A connection.start-ok frame with good credentials, which the trickling clients never finish sending. */
    private static byte[] startOkFrame() {
        ByteBuffer b = FrameEncoder.method(0, new ConnectionMethod.StartOk(FieldTable.EMPTY, "PLAIN",
                LongString.of("\0guest\0guest".getBytes(StandardCharsets.UTF_8)), "en_US"));
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private static void trickle(List<Peer> peers) throws IOException {
        for (Peer p : peers) {
            if (p.endedNanos == 0 && p.trickled < p.toTrickle.length) {
                try {
                    p.channel.write(ByteBuffer.wrap(p.toTrickle, p.trickled, 1));
                    p.trickled++;
                } catch (IOException e) {
                    p.ended("reset");
                }
            }
        }
    }

    /** Reads whatever Warren sent; records when each socket ends or receives connection.close. */
    private static void poll(Selector selector, long timeoutMillis) throws IOException {
        if (timeoutMillis == 0 ? selector.selectNow() == 0 : selector.select(timeoutMillis) == 0) {
            return;
        }
        ByteBuffer chunk = ByteBuffer.allocate(4096);
        for (SelectionKey key : selector.selectedKeys()) {
            Peer p = (Peer) key.attachment();
            chunk.clear();
            int n;
            try {
                n = p.channel.read(chunk);
            } catch (IOException e) {
                n = -2;
            }
            if (n < 0) {
                p.ended(n == -1 ? "end of stream" : "reset");
                key.cancel();
                continue;
            }
            chunk.flip();
            ByteBuffer joined = ByteBuffer.allocate(p.received.remaining() + chunk.remaining());
            joined.put(p.received).put(chunk).flip();
            p.received = joined;
            if (p.received.remaining() >= 8 && p.received.get(0) == 'A') {
                p.received.position(p.received.position() + 8); // Warren's answer to a wrong protocol header
            }
            try {
                Frame f;
                while ((f = p.decoder.next(p.received)) != null) {
                    if (f.type() == FrameType.METHOD
                            && MethodCodec.decode(f.payload()) instanceof ConnectionMethod.Close close) {
                        p.ended("connection.close " + close.replyCode());
                    }
                }
            } catch (ProtocolException e) {
                throw new AssertionError("Warren sent a malformed frame", e);
            }
        }
        selector.selectedKeys().clear();
    }
}
