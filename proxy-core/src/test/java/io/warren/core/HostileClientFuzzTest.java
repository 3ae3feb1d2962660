package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.Frame;
import io.warren.codec.FrameDecoder;
import io.warren.codec.FrameType;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.codec.ProtocolHeader;
import io.warren.core.HostileInput.Piece;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.RabbitBrokerExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import io.warren.codec.ChannelMethod;
import io.warren.testsupport.gen.Generator;
import io.warren.testsupport.gen.Generators;
import io.warren.testsupport.gen.Property;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md invariant 5 under random input: random handshakes and random frame sequences after a clean handshake
 * (test-support's seeded generators, {@link HostileInput}) are sent from raw sockets, to one Warren in front of the real broker. A canary client with the same credentials
 * (so on the same pooled upstream connection) publishes with confirms throughout. After every try Warren has
 * closed the hostile connection (it never hangs on what it was sent) with well-formed frames and never with its
 * internal-error close; the canary has seen no error; at the end of each property the broker still lists the same
 * upstream connection, every canary publish was confirmed, and Warren still accepts and serves a new client.
 *
 * <p>The Warren, the canary and the broker are shared by all tries: each try costs one client connection, a few
 * loopback round trips, so the 10,000 tries take about a minute.
 *
 * <p>Most tries (8,000) come from fixed seeds, the same on every run, so that CI fails on a change rather than on a
 * broker behaviour chance happens to find; 2,000 more come from the build's run seed ({@link Property}), so each run
 * also explores. A failure names the seed of its try: {@code -Dwarren.seed=SEED} with {@code -Dtest=} this class and
 * property checks that try alone. What a new seed finds becomes a plain test in {@link HostileClientRegressionTest}
 * or {@link IsolationTest}. To explore for longer, run with {@code -Dwarren.runSeed=} other values.
 */
class HostileClientFuzzTest {
    /** Generous for one try on a loaded machine; a try that hits it is a Warren that hangs. */
    private static final Duration TRY_TIMEOUT = Duration.ofSeconds(15);
    private static final String INTERNAL_ERROR_TEXT = "internal error in proxy";

    static RabbitBroker broker;
    static WarrenHarness warren;
    static Canary canary;

    static Set<String> sharedUpstream;

    /**
     * A client with the fuzzing clients' credentials, so on their pooled upstream connection: one channel publishes
     * with confirms in the background throughout; {@link #probe()} publishes one more with confirms after each try.
     * The broker handles an upstream connection's frames in order, so when a try made it close the connection, the
     * probe after that try is what fails: the failure is pinned on the try and its seed.
     */
    static final class Canary implements AutoCloseable {
        final Connection connection;
        final Channel probeChannel;
        final String queue;
        final Thread loop;
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final AtomicLong confirmed = new AtomicLong();

        Canary() throws Exception {
            connection = warren.factory().newConnection();
            Channel ch = connection.createChannel();
            ch.confirmSelect();
            queue = ch.queueDeclare("fuzz-canary-" + UUID.randomUUID(), false, true, true, null).getQueue();
            probeChannel = connection.createChannel();
            probeChannel.confirmSelect();
            loop = new Thread(() -> {
                try {
                    while (running.get()) {
                        for (int i = 0; i < 10; i++) {
                            ch.basicPublish("", queue, null, new byte[32]);
                        }
                        ch.waitForConfirmsOrDie(30_000); // throws on a nack or a closed channel
                        confirmed.addAndGet(10);
                        ch.queuePurge(queue);
                        Thread.sleep(5);
                    }
                } catch (Throwable t) {
                    if (running.get()) {
                        error.set(t);
                    }
                }
            }, "fuzz-canary");
            loop.start();
        }

        void probe() throws Exception {
            probeChannel.basicPublish("", queue, null, new byte[8]);
            probeChannel.waitForConfirmsOrDie(TRY_TIMEOUT.toMillis());
        }

        @Override
        public void close() throws Exception {
            running.set(false);
            loop.join(30_000);
            if (connection.isOpen()) {
                connection.close();
            }
        }
    }

    /** How each try ended, counted per property and printed after it (the reply code of Warren's close...). */
    static final Map<String, Integer> outcomes = new TreeMap<>();

    @BeforeAll
    static void start() throws Exception {
        broker = RabbitBrokerExtension.defaultBroker();
        Set<String> before = WarrenHarness.brokerConnectionPidsFromWarren(broker);
        warren = WarrenHarness.start(broker, c -> c, "publish-safe");
        canary = new Canary();
        sharedUpstream = new java.util.HashSet<>(WarrenHarness.brokerConnectionPidsFromWarren(broker));
        sharedUpstream.removeAll(before);
        assertThat(sharedUpstream).as("one upstream connection shared by the canary and the fuzzing clients")
                .hasSize(1);
    }

    @AfterAll
    static void stop() throws Exception {
        if (canary != null) {
            canary.close();
        }
        if (warren != null) {
            warren.close();
        }
    }

    // ---------------------------------------------------------------- properties

    /** One try of {@link #handshakeFuzz}: what the client sends, and whether it then resets instead of a FIN. */
    record HandshakeTry(List<Piece> pieces, boolean endWithReset) {}

    /** One try of {@link #frameSequenceFuzz}: what the client sends after its handshake, and how it ends. */
    record FrameTry(List<Piece> pieces, boolean endWithReset) {}

    /** One try in five ends with a reset instead of a FIN (no replies are read then). */
    private static final Generator<Boolean> RESETS = Generators.<Boolean>weighted(1, Generators.constant(true))
            .or(4, Generators.constant(false));

    /** A protocol header (or what passes for one), then up to 6 handshake steps. */
    static Generator<HandshakeTry> handshakes() {
        Generator<Piece> headers = HostileInput.protocolHeader();
        Generator<List<Piece>> steps = HostileInput.handshakeStep().list(0, 6);
        return r -> {
            List<Piece> all = new ArrayList<>();
            all.add(headers.next(r));
            all.addAll(steps.next(r));
            return new HandshakeTry(all, RESETS.next(r));
        };
    }

    /** Mostly after opening channel 1 or 1 and 2, so that more of the sequence reaches the broker. */
    static Generator<FrameTry> frameSequences() {
        Generator<Integer> opened = Generators.ints(0, 2);
        Generator<List<Piece>> rest = HostileInput.postHandshakeStep().list(1, 10);
        return r -> {
            List<Piece> all = new ArrayList<>();
            for (int ch = 1, n = opened.next(r); ch <= n; ch++) {
                all.add(new HostileInput.Method(ch, new ChannelMethod.Open("")));
            }
            all.addAll(rest.next(r));
            return new FrameTry(all, RESETS.next(r));
        };
    }

    /** Random bytes before and after a protocol header, then connection methods in any order with any values. */
    @Test
    void handshakeFuzz() {
        Property.forAll(handshakes()).seed(4823649451069903438L).cases(3000).runCases(1000).check(t -> {
            long started = System.nanoTime();
            try (Socket s = connect()) {
                send(s, HostileInput.render(t.pieces));
                count(finishAndCheck(s, t.endWithReset));
            }
            count("duration " + durationBucket(started));
            probeCanary();
        });
    }

    /**
     * After a clean handshake: random frames, methods, content sequences and garbage on random channels.
     *
     * <p>It found two isolation bugs, both now kept as plain tests in {@link HostileClientRegressionTest} or fixed
     * with a test: a channel.close-ok sent upstream twice while releasing a channel whose close crossed the
     * broker's, and a Warren-generated frame (channel.open) queued behind an incomplete message and cut off with
     * it. Each made the broker close the shared upstream connection (504 "expected 'channel.open'"). A third seed
     * found a broker hard error Warren did not screen: a server-named queue.declare with an unknown x-queue-type
     * (541 INTERNAL_ERROR), now in HardErrorScreen and IsolationTest. (Those seeds drove an earlier generator
     * library; the findings stay as the plain tests named.)
     */
    @Test
    void frameSequenceFuzz() {
        Property.forAll(frameSequences()).seed(1709503590747036060L).cases(5000).runCases(1000).check(t -> {
            long started = System.nanoTime();
            try (RawAmqpClient c = new RawAmqpClient("127.0.0.1", warren.port())) {
                c.handshake("guest", "guest", "/", 0);
                try {
                    c.send(HostileInput.render(t.pieces));
                } catch (IOException e) {
                    // Warren closed while we were still writing: what it sent before is still checked below.
                }
                // RawAmqpClient already read the handshake's frames; the rest of the stream is read from its socket.
                count(finishAndCheck(c.socket(), t.endWithReset));
            }
            count("duration " + durationBucket(started));
            probeCanary();
        });
    }

    private static void count(String outcome) {
        outcomes.merge(outcome, 1, Integer::sum);
    }

    @AfterEach
    void sharedUpstreamSurvived() throws Exception {
        System.out.println("how the tries ended: " + outcomes);
        outcomes.clear();
        checkBackgroundCanary();
        long confirmedBefore = canary.confirmed.get();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (canary.confirmed.get() < confirmedBefore + 20 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        checkBackgroundCanary();
        assertThat(canary.confirmed.get()).as("the canary's publishes are still confirmed")
                .isGreaterThanOrEqualTo(confirmedBefore + 20);
        assertThat(WarrenHarness.brokerConnectionPidsFromWarren(broker))
                .as("the broker never closed the shared upstream connection")
                .containsAll(sharedUpstream);
        // Its event loops still accept and serve: a new client completes a handshake and a channel round trip.
        try (RawAmqpClient fresh = RawAmqpClient.open("127.0.0.1", warren.port())) {
            fresh.openChannel(1);
            fresh.closeChannel(1);
            fresh.closeConnection();
        }
    }

    // ---------------------------------------------------------------- one try

    private static Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", warren.port());
        s.setTcpNoDelay(true);
        s.setSoTimeout((int) TRY_TIMEOUT.toMillis());
        return s;
    }

    private static void send(Socket s, byte[] bytes) {
        try {
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
        } catch (IOException e) {
            // Warren closed while we were still writing: fine, what it sent before is checked.
        }
    }

    /**
     * Ends the client's side (FIN, or an abrupt reset) and, after a FIN, reads what Warren sends until it closes:
     * it must close within the try timeout, and what it sent must be well formed and not an internal error.
     *
     * @return how the try ended, for the counts printed after each property: the reply code of Warren's
     *     connection.close, or what else happened
     */
    private static String finishAndCheck(Socket s, boolean reset) throws IOException {
        if (reset) {
            s.setSoLinger(true, 0);
            s.close();
            return "client reset";
        }
        try {
            s.shutdownOutput();
        } catch (IOException e) {
            return "reset by Warren while sending";
        }
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        InputStream in = s.getInputStream();
        byte[] chunk = new byte[8192];
        boolean reachedEnd = false;
        try {
            int n;
            while ((n = in.read(chunk)) >= 0) {
                received.write(chunk, 0, n);
            }
            reachedEnd = true;
        } catch (SocketTimeoutException e) {
            throw new AssertionError("Warren did not close a client that had finished sending within "
                    + TRY_TIMEOUT);
        } catch (IOException e) {
            // Reset by Warren (it closed with our bytes unread): what arrived before is still checked.
        }
        return checkReplies(received.toByteArray(), reachedEnd);
    }

    /** Warren's replies: an optional protocol header (its answer to a wrong one), then whole, valid frames. */
    private static String checkReplies(byte[] bytes, boolean complete) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        if (bytes.length >= ProtocolHeader.LENGTH
                && Arrays.equals(bytes, 0, ProtocolHeader.LENGTH, ProtocolHeader.AMQP_0_9_1, 0, ProtocolHeader.LENGTH)) {
            in.position(ProtocolHeader.LENGTH);
            assertThat(in.hasRemaining()).as("nothing follows Warren's protocol header answer").isFalse();
            return "protocol header answered";
        }
        String outcome = "closed without connection.close";
        FrameDecoder decoder = new FrameDecoder(1 << 20);
        try {
            Frame f;
            while ((f = decoder.next(in)) != null) {
                if (f.type() == FrameType.METHOD
                        && MethodCodec.decode(f.payload()) instanceof ConnectionMethod.Close close) {
                    assertThat(close.replyText()).as("Warren hit an internal error (code %d)", close.replyCode())
                            .doesNotContain(INTERNAL_ERROR_TEXT);
                    assertThat(close.replyCode()).as("connection.close carries an error code or 200")
                            .isIn(200, 320, 402, 403, 501, 502, 503, 504, 505, 506, 530, 540, 541);
                    outcome = "connection.close " + close.replyCode();
                }
            }
        } catch (ProtocolException e) {
            throw new AssertionError("Warren sent a malformed frame: " + e.getMessage(), e);
        }
        if (complete) {
            assertThat(in.hasRemaining()).as("Warren ended in the middle of a frame").isFalse();
        }
        return outcome;
    }

    private static String durationBucket(long startedNanos) {
        long ms = (System.nanoTime() - startedNanos) / 1_000_000;
        return ms < 5 ? "<5ms" : ms < 20 ? "<20ms" : ms < 100 ? "<100ms" : ms < 1000 ? "<1s" : ">=1s";
    }

    /** Fails this try if it broke the shared upstream connection; a new canary then serves the next tries. */
    private static void probeCanary() throws Exception {
        try {
            canary.probe();
        } catch (Exception e) {
            canary.close();
            canary = new Canary(); // on a new upstream connection, so the checks after the property can run
            throw new AssertionError("this try broke the upstream connection the canary shares", e);
        }
    }

    private static void checkBackgroundCanary() {
        Throwable t = canary.error.get();
        if (t != null) {
            throw new AssertionError("the canary sharing the upstream connection failed", t);
        }
        assertThat(canary.connection.isOpen()).as("canary connection open").isTrue();
    }
}
