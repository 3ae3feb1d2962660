package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.warren.codec.AmqpMethod;
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
import io.warren.testsupport.PortFinder;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue 8 item 4: bin/warren under a low file-descriptor limit ({@code ulimit -n 200}) says at start how many clients
 * the limit allows, answers the clients beyond with connection.close 530 (logged once per interval, with a count)
 * while the admitted ones keep working, and admits new clients again once some leave; and when the process does run
 * out of descriptors, its listener backs off instead of spinning.
 */
@WithRabbitBroker
class FileDescriptorLimitIT {
    static RabbitBroker broker;

    private static final int FILE_LIMIT = 200;
    private static final Pattern STARTUP = Pattern.compile(
            "File-descriptor limit " + FILE_LIMIT + ": (\\d+) open at startup, (\\d+) kept free .* room for (\\d+)"
                    + " clients");
    private static final Pattern ACCEPT_FAILED = Pattern.compile(
            "accept on 127\\.0\\.0\\.1:\\d+ failed (\\d+) time\\(s\\) since the last report: .*Too many open files");
    private static final Pattern REFUSAL_LINE = Pattern.compile("Refused (\\d+) client\\(s\\) since the last report");

    /** A client on a plain socket: the test reads the exact frames Warren answers with. */
    static final class RawClient implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final FrameDecoder decoder = new FrameDecoder(1 << 20);
        private ByteBuffer buffer = ByteBuffer.allocate(0);

        RawClient(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(30_000);
            socket.setTcpNoDelay(true);
            in = socket.getInputStream();
        }

        void send(ByteBuffer b) throws IOException {
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            socket.getOutputStream().write(bytes);
        }

        /** The next method from the server, or null when it closed the socket. */
        AmqpMethod next() throws IOException {
            while (true) {
                try {
                    Frame f = decoder.next(buffer);
                    if (f != null && f.type() == FrameType.METHOD) {
                        return MethodCodec.decode(f.payload());
                    } else if (f != null) {
                        continue;
                    }
                } catch (ProtocolException e) {
                    throw new IOException(e);
                }
                byte[] chunk = new byte[4096];
                int n = in.read(chunk);
                if (n < 0) {
                    return null;
                }
                buffer = ByteBuffer.allocate(buffer.remaining() + n).put(buffer).put(chunk, 0, n).flip();
            }
        }

        /** Header, start-ok, tune-ok and open as guest on "/"; returns what answers connection.open. */
        AmqpMethod handshake() throws IOException {
            send(ByteBuffer.wrap(ProtocolHeader.AMQP_0_9_1));
            assertThat(next()).isInstanceOf(ConnectionMethod.Start.class);
            send(FrameEncoder.method(0, new ConnectionMethod.StartOk(FieldTable.EMPTY, "PLAIN",
                    LongString.of("\0guest\0guest".getBytes(StandardCharsets.UTF_8)), "en_US")));
            AmqpMethod tune = next();
            assertThat(tune).isInstanceOf(ConnectionMethod.Tune.class);
            ConnectionMethod.Tune t = (ConnectionMethod.Tune) tune;
            send(FrameEncoder.method(0, new ConnectionMethod.TuneOk(t.channelMax(), t.frameMax(), 0)));
            send(FrameEncoder.method(0, new ConnectionMethod.Open("/", "", false)));
            AmqpMethod answer = next();
            if (answer instanceof ConnectionMethod.Close) {
                send(FrameEncoder.method(0, new ConnectionMethod.CloseOk()));
            }
            return answer;
        }

        void closeConnection() throws IOException {
            send(FrameEncoder.method(0, new ConnectionMethod.Close(200, "bye", 0, 0)));
            assertThat(next()).isInstanceOf(ConnectionMethod.CloseOk.class);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** The counts of the "accept ... failed N time(s)" lines so far. */
    private static List<Long> acceptFailureCounts(WarrenProcess warren) {
        return ACCEPT_FAILED.matcher(warren.output()).results().map(m -> Long.parseLong(m.group(1))).toList();
    }

    private static long refusalLines(WarrenProcess warren) {
        return REFUSAL_LINE.matcher(warren.output()).results().count();
    }

    private static void assertRefused(int port, long capacity) throws IOException {
        try (RawClient extra = new RawClient(port)) {
            AmqpMethod answer = extra.handshake();
            assertThat(answer).as("a client beyond the capacity").isInstanceOf(ConnectionMethod.Close.class);
            ConnectionMethod.Close close = (ConnectionMethod.Close) answer;
            assertThat(close.replyCode()).isEqualTo(530);
            assertThat(close.replyText()).isEqualTo("NOT_ALLOWED - connection limit (" + capacity
                    + ", set by the file-descriptor limit " + FILE_LIMIT + ") is reached");
            assertThat(close.failingClassId()).isEqualTo(10);
            assertThat(close.failingMethodId()).isEqualTo(40);
            assertThat(extra.next()).as("then the socket closes").isNull();
        }
    }

    @Test
    void refusesClientsBeyondTheFileDescriptorLimitWith530AndAdmitsAgainWhenSomeLeave() throws Exception {
        int amqp = PortFinder.freePort();
        int http = PortFinder.freePort();
        List<RawClient> clients = new ArrayList<>();
        // Idle HTTP connections are this test's way to exhaust the descriptors, so the HTTP endpoint's own connection
        // limit is lifted (an operator's -D wins over Warren's default). One event loop: guest's key then has one
        // upstream connection, not one more per loop as clients arrive there, so the room left for clients is fixed.
        try (WarrenProcess warren = WarrenProcess.startWithFileLimit(FILE_LIMIT,
                Map.of("JAVA_OPTS", "-Djdk.httpserver.maxConnections=0"), "--event-loops", "1",
                "--listen", "127.0.0.1:" + amqp, "--http", "127.0.0.1:" + http,
                "amqp://" + broker.host() + ":" + broker.amqpPort())) {
            warren.awaitOutput("/healthz /readyz /metrics", Duration.ofSeconds(30));
            Matcher startup = STARTUP.matcher(warren.output());
            assertThat(startup.find()).as(warren.output()).isTrue();
            long openAtStart = Long.parseLong(startup.group(1));
            long reserve = Long.parseLong(startup.group(2));
            long capacity = Long.parseLong(startup.group(3));
            assertThat(capacity).isEqualTo(FILE_LIMIT - openAtStart - reserve).isPositive();

            // One client through amqp-client (to publish with confirms later), then raw ones up to the capacity.
            ConnectionFactory cf = new ConnectionFactory();
            cf.setPort(amqp);
            cf.setAutomaticRecoveryEnabled(false);
            Connection library = cf.newConnection();
            long upstream = (long) WarrenProcess.sample(WarrenProcess.get(http, "/metrics").body(),
                    "warren_upstream_connections");
            assertThat(upstream).as("guest's clients share upstream connections").isBetween(1L, 2L);
            long admittable = capacity - upstream;
            for (int i = 1; i < admittable; i++) {
                RawClient c = new RawClient(amqp);
                clients.add(c);
                assertThat(c.handshake()).as("client %d of %d", i + 1, admittable)
                        .isInstanceOf(ConnectionMethod.OpenOk.class);
            }
            assertThat(refusalLines(warren)).isZero();

            // Three more: each refused with 530; one log line for the three (they come within the interval).
            for (int i = 0; i < 3; i++) {
                assertRefused(amqp, capacity);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> refusalLines(warren) == 1);
            assertThat(warren.output()).contains("Refused 1 client(s) since the last report: the file-descriptor"
                    + " limit " + FILE_LIMIT + " leaves room for " + capacity);

            // The admitted clients carry on.
            Channel ch = library.createChannel();
            ch.confirmSelect();
            String q = ch.queueDeclare().getQueue();
            ch.basicPublish("", q, null, "still here".getBytes(StandardCharsets.UTF_8));
            ch.waitForConfirmsOrDie(10_000);
            assertThat(ch.messageCount(q)).isEqualTo(1);

            // The process runs out of descriptors (idle HTTP connections take the reserve): accept() fails with
            // EMFILE; the listener pauses a second between attempts instead of spinning, says so once per interval,
            // and accepts the waiting client once descriptors are free again (refusing it: Warren is full).
            List<Socket> httpHogs = new ArrayList<>();
            CompletableFuture<AmqpMethod> waiting;
            try {
                // Until Warren holds every descriptor it may.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (warren.openFiles() < FILE_LIMIT) {
                    assertThat(System.nanoTime()).as("descriptors exhausted in time").isLessThan(deadline);
                    Socket hog = new Socket();
                    try {
                        hog.connect(new InetSocketAddress("127.0.0.1", http), 2000);
                        httpHogs.add(hog);
                    } catch (SocketTimeoutException e) {
                        hog.close(); // the HTTP server's backlog is full until it accepts (or cannot any more)
                    }
                }
                waiting = CompletableFuture.supplyAsync(() -> {
                    try (RawClient c = new RawClient(amqp)) {
                        return c.handshake();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                await().atMost(Duration.ofSeconds(10)).until(() -> acceptFailureCounts(warren).size() == 1);
                assertThat(acceptFailureCounts(warren)).containsExactly(1L);
                ch.basicPublish("", q, null, "during EMFILE".getBytes(StandardCharsets.UTF_8));
                ch.waitForConfirmsOrDie(10_000);
                assertThat(waiting).isNotDone();
                await().atMost(Duration.ofSeconds(15)).until(() -> acceptFailureCounts(warren).size() == 2);
            } finally {
                for (Socket s : httpHogs) {
                    s.close();
                }
            }
            long failuresInTheInterval = acceptFailureCounts(warren).get(1);
            assertThat(failuresInTheInterval).as("one attempt a second over a 5 s interval, not a spin")
                    .isBetween(1L, 10L);
            AmqpMethod answer = waiting.get(20, TimeUnit.SECONDS);
            assertThat(answer).isInstanceOf(ConnectionMethod.Close.class);
            assertThat(((ConnectionMethod.Close) answer).replyCode()).isEqualTo(530);
            // More than the 5 s interval after the first refusal line: the next one counts the two kept quiet.
            await().atMost(Duration.ofSeconds(5)).until(() -> refusalLines(warren) == 2);
            assertThat(warren.output()).contains("Refused 3 client(s) since the last report");

            // Five clients leave: five new ones are admitted.
            for (int i = 0; i < 5; i++) {
                RawClient c = clients.remove(clients.size() - 1);
                c.closeConnection();
                c.close();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> WarrenProcess.sample(
                    WarrenProcess.get(http, "/metrics").body(), "warren_client_connections") == admittable - 5);
            for (int i = 0; i < 5; i++) {
                RawClient c = new RawClient(amqp);
                clients.add(c);
                assertThat(c.handshake()).isInstanceOf(ConnectionMethod.OpenOk.class);
            }
            assertRefused(amqp, capacity);
            assertThat(WarrenProcess.sample(WarrenProcess.get(http, "/metrics").body(),
                    "warren_handshakes_total{outcome=\"connection_limit\"}")).as("refusals counted").isEqualTo(5);
            library.close();
            String out = warren.output();
            System.out.println(out.lines().filter(l -> l.contains("File-descriptor") || l.contains("Refused") || l.contains("accept on"))
                    .reduce("", (a, b) -> a + b + "\n")); // the numbers, for the record
            assertThat(out).as("no stack traces").doesNotContain("\tat ");
        } finally {
            for (RawClient c : clients) {
                c.close();
            }
        }
    }
}
