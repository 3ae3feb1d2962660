package io.warren.core;

import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.BasicProperties;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.ContentHeader;
import io.warren.codec.FieldTable;
import io.warren.codec.Frame;
import io.warren.codec.FrameDecoder;
import io.warren.codec.FrameEncoder;
import io.warren.codec.FrameType;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.codec.ProtocolHeader;
import io.warren.codec.ReplyCode;
import io.warren.core.internal.upstream.AmqpClientHandshake;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Many AMQP 0-9-1 clients on one selector thread, built on Warren's codec, that time every frame Warren sends them:
 * hundreds of held connections without a thread each, and an honest count of heartbeat frames per client (client
 * libraries swallow them).
 *
 * <p>Threading: the loop thread owns every client until it ends; the test thread reads the {@link Result}s that
 * {@link #finish} returns, after the loop has stopped.
 */
final class HeldClients implements AutoCloseable {
    /** What a client sends while it is held. */
    enum Behaviour {
        /** Sends a heartbeat when it has sent nothing for half the interval, as client libraries do. */
        IDLE,
        /** Sends a heartbeat every 200 ms, far more often than the interval. */
        CHATTY,
        /** Publishes a small message every 20 ms on channel 1 without confirms (Warren has nothing to answer). */
        PUBLISHER,
        /** Publishes like {@link #PUBLISHER} but reads nothing while held: Warren's frames wait in its socket. */
        DEAF_PUBLISHER
    }

    /**
     * What one client saw.
     *
     * @param heartbeats heartbeat frames received after the handshake (for a deaf client: read at the end)
     * @param maxSilenceMillis longest time without any frame from Warren while held, the end included (-1 for a
     *     deaf client, which does not look)
     * @param published messages it published (each sent whole before its connection.close)
     * @param failure why the client did not end with its own connection.close answered, or null
     */
    record Result(Behaviour behaviour, int heartbeats, long maxSilenceMillis, int published, String failure) {
    }

    /** HANDSHAKE until open-ok (driven by Warren's own {@link AmqpClientHandshake}), then the channel and the hold. */
    private enum Stage { HANDSHAKE, AWAIT_CHANNEL_OPEN_OK, HELD, CLOSING, DONE }

    private static final long CHATTY_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long PUBLISH_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final Selector selector;
    private final List<Client> clients = new ArrayList<>();
    private final int heartbeatSeconds;
    private final long heartbeatNanos;
    private final String routingKey;
    private final Thread thread;
    private final CountDownLatch held;
    private final CountDownLatch done;
    private volatile boolean finishing;
    private volatile boolean stopped;
    private volatile Throwable loopFailure;

    private HeldClients(InetSocketAddress warren, int heartbeatSeconds, List<Behaviour> behaviours,
            String routingKey) throws IOException {
        this.selector = Selector.open();
        this.heartbeatSeconds = heartbeatSeconds;
        this.heartbeatNanos = TimeUnit.SECONDS.toNanos(heartbeatSeconds);
        this.routingKey = routingKey;
        this.held = new CountDownLatch(behaviours.size());
        this.done = new CountDownLatch(behaviours.size());
        for (Behaviour b : behaviours) {
            SocketChannel ch = SocketChannel.open(warren); // blocking: loopback connects complete at once
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            Client c = new Client(b, ch);
            clients.add(c);
            c.key = ch.register(selector, SelectionKey.OP_READ, c);
            c.send(ByteBuffer.wrap(ProtocolHeader.AMQP_0_9_1.clone()));
        }
        this.thread = new Thread(this::loop, "held-clients");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Connects one client per element of {@code behaviours} to Warren as guest on "/", each negotiating
     * {@code heartbeatSeconds}; publishers publish to the default exchange with {@code routingKey}.
     */
    static HeldClients connect(InetSocketAddress warren, int heartbeatSeconds, List<Behaviour> behaviours,
            String routingKey) throws IOException {
        return new HeldClients(warren, heartbeatSeconds, behaviours, routingKey);
    }

    /** Waits until every client finished its handshake (and publishers opened their channel). */
    void awaitHeld(Duration timeout) throws InterruptedException, TimeoutException {
        if (!held.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException(held.getCount() + " of " + clients.size() + " clients not held after "
                    + timeout + "; loop failure: " + loopFailure);
        }
    }

    /**
     * Ends the hold: every client closes its connection (connection.close, then waits for close-ok, reading what
     * came before it). Returns what each client saw once all are done or {@code timeout} passed.
     */
    List<Result> finish(Duration timeout) throws InterruptedException {
        finishing = true;
        selector.wakeup();
        done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        stopped = true;
        selector.wakeup();
        thread.join(10_000);
        if (loopFailure != null) {
            throw new AssertionError("client loop failed", loopFailure);
        }
        List<Result> results = new ArrayList<>(clients.size());
        for (Client c : clients) {
            String failure = c.failure;
            if (failure == null && c.stage != Stage.DONE) {
                failure = "no connection.close-ok in " + timeout + " (stage " + c.stage + ")";
            }
            results.add(new Result(c.behaviour, c.heartbeats,
                    c.behaviour == Behaviour.DEAF_PUBLISHER ? -1 : TimeUnit.NANOSECONDS.toMillis(c.maxSilenceNanos),
                    c.published, failure));
        }
        return results;
    }

    @Override
    public void close() throws IOException {
        stopped = true;
        selector.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Client c : clients) {
            c.channel.close();
        }
        selector.close();
    }

    // ---------------------------------------------------------------- loop thread only

    private void loop() {
        boolean closesSent = false;
        try {
            while (!stopped) {
                selector.select(20);
                long now = System.nanoTime();
                for (SelectionKey key : selector.selectedKeys()) {
                    Client c = (Client) key.attachment();
                    try {
                        if (key.isValid() && key.isWritable()) {
                            c.flush();
                        }
                        if (key.isValid() && key.isReadable()) {
                            c.read(now);
                        }
                    } catch (IOException | ProtocolException | RuntimeException e) {
                        c.fail(e.toString());
                    }
                }
                selector.selectedKeys().clear();
                if (finishing && !closesSent) {
                    closesSent = true;
                    for (Client c : clients) {
                        try {
                            c.startClosing(now);
                        } catch (IOException | RuntimeException e) {
                            c.fail(e.toString());
                        }
                    }
                }
                for (Client c : clients) {
                    try {
                        c.tick(now);
                    } catch (IOException | RuntimeException e) {
                        c.fail(e.toString());
                    }
                }
            }
        } catch (Throwable t) {
            loopFailure = t;
        }
    }

    /** One connection's state; touched by the loop thread only. */
    private final class Client {
        final Behaviour behaviour;
        final SocketChannel channel;
        final FrameDecoder decoder = new FrameDecoder(1 << 20);
        final ByteBuffer readBuffer = ByteBuffer.allocate(4096);
        final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
        SelectionKey key;
        Stage stage = Stage.HANDSHAKE;
        final AmqpClientHandshake handshake = new AmqpClientHandshake(FieldTable.EMPTY, "guest",
                "guest".getBytes(StandardCharsets.UTF_8), new AmqpClientHandshake.Limits(0, 0, heartbeatSeconds));
        int heartbeats;
        long lastFrameNanos;
        long maxSilenceNanos;
        long lastSentNanos;
        long lastPublishNanos;
        int published;
        String failure;

        Client(Behaviour behaviour, SocketChannel channel) {
            this.behaviour = behaviour;
            this.channel = channel;
        }

        boolean reads() {
            return behaviour != Behaviour.DEAF_PUBLISHER || stage != Stage.HELD;
        }

        void read(long now) throws IOException, ProtocolException {
            while (true) {
                readBuffer.clear();
                int n = channel.read(readBuffer);
                if (n < 0) {
                    fail("Warren closed the socket in stage " + stage);
                    return;
                }
                if (n == 0) {
                    return;
                }
                readBuffer.flip();
                Frame frame;
                while (stage != Stage.DONE && (frame = decoder.next(readBuffer)) != null) {
                    onFrame(frame, now);
                }
                if (stage == Stage.DONE || !reads()) {
                    return;
                }
            }
        }

        void onFrame(Frame frame, long now) throws IOException, ProtocolException {
            if (stage == Stage.HELD || stage == Stage.CLOSING) {
                maxSilenceNanos = Math.max(maxSilenceNanos, now - lastFrameNanos);
                lastFrameNanos = now;
            }
            if (frame.type() == FrameType.HEARTBEAT) {
                if (stage == Stage.HELD || stage == Stage.CLOSING) {
                    heartbeats++;
                }
                return;
            }
            if (frame.type() != FrameType.METHOD) {
                fail("unexpected frame of type " + frame.type() + " in stage " + stage);
                return;
            }
            AmqpMethod m = MethodCodec.decode(frame.payload());
            if (m instanceof ConnectionMethod.Close close && stage != Stage.CLOSING) {
                fail("Warren closed the connection: " + close.replyCode() + " " + close.replyText());
                return;
            }
            switch (stage) {
                case HANDSHAKE -> {
                    for (AmqpMethod reply : handshake.receive(m)) {
                        send(FrameEncoder.method(0, reply));
                    }
                    if (handshake.stage() == AmqpClientHandshake.Stage.TUNED) {
                        for (AmqpMethod open : handshake.open("/")) {
                            send(FrameEncoder.method(0, open));
                        }
                    } else if (handshake.stage() == AmqpClientHandshake.Stage.OPEN) {
                        if (behaviour == Behaviour.PUBLISHER || behaviour == Behaviour.DEAF_PUBLISHER) {
                            send(FrameEncoder.method(1, new ChannelMethod.Open("")));
                            stage = Stage.AWAIT_CHANNEL_OPEN_OK;
                        } else {
                            hold(now);
                        }
                    }
                }
                case AWAIT_CHANNEL_OPEN_OK -> {
                    expect(m, ChannelMethod.OpenOk.class);
                    hold(now);
                }
                case CLOSING -> {
                    if (m instanceof ConnectionMethod.CloseOk) {
                        stage = Stage.DONE;
                        channel.close();
                        done.countDown();
                    }
                }
                default -> fail("unexpected " + m.name() + " in stage " + stage);
            }
        }

        private <T extends AmqpMethod> T expect(AmqpMethod m, Class<T> type) throws ProtocolException {
            if (!type.isInstance(m)) {
                throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME,
                        "expected " + type.getSimpleName() + " in stage " + stage + ", got " + m);
            }
            return type.cast(m);
        }

        private void hold(long now) {
            stage = Stage.HELD;
            lastFrameNanos = now;
            updateInterest();
            held.countDown();
        }

        void startClosing(long now) throws IOException {
            if (stage != Stage.HELD) {
                if (failure == null) {
                    fail("still in stage " + stage + " when the hold ended");
                }
                return;
            }
            // The silence up to now counts too: a Warren that went quiet at the end is caught.
            if (behaviour != Behaviour.DEAF_PUBLISHER) {
                maxSilenceNanos = Math.max(maxSilenceNanos, now - lastFrameNanos);
            }
            stage = Stage.CLOSING;
            send(FrameEncoder.method(0, new ConnectionMethod.Close(200, "bye", 0, 0)));
            updateInterest();
        }

        /** Heartbeats and publishes that are due. */
        void tick(long now) throws IOException {
            if (stage != Stage.HELD) {
                return;
            }
            switch (behaviour) {
                case IDLE -> {
                    if (now - lastSentNanos >= heartbeatNanos / 2) {
                        sendHeartbeat();
                    }
                }
                case CHATTY -> {
                    if (now - lastSentNanos >= CHATTY_PERIOD_NANOS) {
                        sendHeartbeat();
                    }
                }
                case PUBLISHER, DEAF_PUBLISHER -> {
                    if (now - lastPublishNanos >= PUBLISH_PERIOD_NANOS) {
                        lastPublishNanos = now;
                        publish();
                    }
                }
            }
        }

        private void sendHeartbeat() throws IOException {
            ByteBuffer b = ByteBuffer.allocate(FrameType.OVERHEAD);
            FrameEncoder.writeHeartbeat(b);
            b.flip();
            send(b);
        }

        private void publish() throws IOException {
            byte[] body = "held".getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(1024);
            FrameEncoder.writeMethod(b, 1, new BasicMethod.Publish(0, "", routingKey, false, false));
            FrameEncoder.writeHeader(b, 1, ContentHeader.basic(body.length, BasicProperties.EMPTY));
            FrameEncoder.writeBody(b, 1, ByteBuffer.wrap(body));
            b.flip();
            send(b);
            published++;
        }

        void send(ByteBuffer b) throws IOException {
            lastSentNanos = System.nanoTime();
            pending.add(b);
            flush();
        }

        void flush() throws IOException {
            while (!pending.isEmpty()) {
                ByteBuffer b = pending.peek();
                channel.write(b);
                if (b.hasRemaining()) {
                    break;
                }
                pending.poll();
            }
            updateInterest();
        }

        void updateInterest() {
            if (!key.isValid()) {
                return;
            }
            int ops = reads() ? SelectionKey.OP_READ : 0;
            if (!pending.isEmpty()) {
                ops |= SelectionKey.OP_WRITE;
            }
            key.interestOps(ops);
        }

        void fail(String why) {
            if (stage == Stage.DONE) {
                return;
            }
            if (failure == null) {
                failure = why;
            }
            if (stage.compareTo(Stage.HELD) < 0) {
                held.countDown(); // do not keep the test waiting for a client that will never be held
            }
            stage = Stage.DONE;
            done.countDown();
            try {
                channel.close();
            } catch (IOException e) {
                failure += "; closing: " + e; // the failure is what counts
            }
        }
    }
}
