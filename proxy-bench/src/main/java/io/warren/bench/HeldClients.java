package io.warren.bench;

import io.warren.codec.AmqpMethod;
import io.warren.codec.ChannelMethod;
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
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A fleet of long-lived AMQP 0-9-1 clients held by one thread and one selector, so that 10,000 connections cost the
 * benchmark a few MiB and no thread each. Each client does what a well-behaved client does: protocol header,
 * start-ok (PLAIN), tune-ok with the negotiated heartbeat, connection.open, channel.open on channel 1; then it
 * stays idle, sends a heartbeat whenever it has sent nothing for half the negotiated interval, counts the
 * heartbeats it receives and the longest time it heard nothing, and notices a close by the server. At the end
 * it sends connection.close and waits for close-ok and for the server to close the socket.
 *
 * <p>Opening is paced by a window: at most {@code inFlight} clients are between TCP connect and channel.open-ok
 * at any time (10,000 simultaneous SYNs would only measure the listen backlog).
 *
 * <p>Threading: the fleet's thread owns every {@link Client}; other threads act through {@link #call}, which runs
 * on that thread, and the futures returned by {@link #open} and {@link #closeAll}.
 */
final class HeldClients implements AutoCloseable {
    enum Phase { CONNECTING, AWAIT_START, AWAIT_TUNE, AWAIT_OPEN_OK, AWAIT_CHANNEL_OPEN_OK, OPEN, CLOSING, CLOSED,
        FAILED }

    /** One client; fields are the fleet thread's. */
    static final class Client {
        final int index;
        SocketChannel socket;
        SelectionKey key;
        final FrameDecoder decoder = new FrameDecoder(131072);
        Phase phase = Phase.CONNECTING;
        /** Bytes the socket did not take yet; null when nothing waits. */
        ByteBuffer pending;
        int heartbeatSeconds;
        boolean channelOpen;
        long startNanos;
        long openedNanos;
        long closeOkNanos;
        long lastReadNanos;
        long lastWriteNanos;
        /** Longest time between two reads once open (the heartbeat promise: at most the interval, plus slack). */
        long longestSilenceNanos;
        int heartbeatsReceived;
        /** Why it failed or was closed by the server; null while fine. */
        String failure;
        /** Phase it was in when it failed. */
        Phase failedIn;

        Client(int index) {
            this.index = index;
        }

        boolean alive() {
            return phase == Phase.OPEN && channelOpen;
        }
    }

    /** A storm's outcome: when the last client was open or failed ({@link System#nanoTime()}), and the fleet then. */
    record Storm(long openedAtNanos, Summary opened) {}

    /**
     * A storm of held connections as {@link CpuPerWorkBench} and {@link ProfileWarren} measure it: {@code n} guest
     * clients opened on 127.0.0.1:{@code port} ({@code inFlight} handshakes at a time, heartbeat 60 s, a channel
     * each), then all closed.
     */
    static Storm storm(int port, int n, int inFlight, String name) throws Exception {
        try (HeldClients fleet = new HeldClients(new InetSocketAddress("127.0.0.1", port), "guest", "guest", 60,
                inFlight, 120_000, name)) {
            long openedAt = fleet.open(n).get(600, TimeUnit.SECONDS);
            Summary opened = fleet.call(fleet::summary);
            fleet.closeAll(120_000).get(300, TimeUnit.SECONDS);
            return new Storm(openedAt, opened);
        }
    }

    /** What the fleet looks like at one moment. */
    record Summary(int total, int opened, int alive, int failed, int closed, Map<String, Integer> failures,
            int heartbeatsMin, int heartbeatsMedian, int heartbeatsMax, long heartbeatsTotal,
            double longestSilenceSeconds, int silentOverTwoIntervals, int negotiatedHeartbeatMin,
            int negotiatedHeartbeatMax) {}

    private static final byte[] HEARTBEAT = {FrameType.HEARTBEAT, 0, 0, 0, 0, 0, 0, (byte) FrameType.FRAME_END};

    private final InetSocketAddress target;
    private final String user;
    private final String password;
    private final int wantedHeartbeat;
    private final int inFlightLimit;
    private final long handshakeTimeoutNanos;
    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final ByteBuffer readBuffer = ByteBuffer.allocate(64 * 1024);
    private final ByteBuffer scratch = ByteBuffer.allocate(4096);
    private final List<Client> clients = new ArrayList<>();
    private volatile boolean stopping;

    private int toOpen; // clients not launched yet
    private int inFlight; // launched, not yet open or failed
    private int closingCount; // connection.close sent, no close-ok yet
    private CompletableFuture<Long> opening; // completes with nanoTime when the last client is open or failed
    private CompletableFuture<Long> closing;
    private long closeTimeoutNanos;
    private long closeStartNanos;
    private long lastTickNanos;

    /**
     * @param heartbeatSeconds the heartbeat the clients ask for; each takes the lower non-zero of it and the
     *     server's offer, as clients do
     * @param inFlight most clients between TCP connect and channel.open-ok at once
     */
    HeldClients(InetSocketAddress target, String user, String password, int heartbeatSeconds, int inFlight,
            long handshakeTimeoutMillis, String name) throws IOException {
        this.target = target;
        this.user = user;
        this.password = password;
        this.wantedHeartbeat = heartbeatSeconds;
        this.inFlightLimit = inFlight;
        this.handshakeTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(handshakeTimeoutMillis);
        this.selector = Selector.open();
        this.thread = new Thread(this::run, "held-clients-" + name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Opens {@code n} more clients; completes with {@link System#nanoTime()} when each of them is open or failed. */
    CompletableFuture<Long> open(int n) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        tasks.add(() -> {
            opening = done;
            toOpen = n;
            launchWithinWindow();
        });
        selector.wakeup();
        return done;
    }

    /**
     * Sends connection.close on every open client; completes with {@link System#nanoTime()} when each has its
     * close-ok (or failed, or {@code timeoutMillis} passed).
     */
    CompletableFuture<Long> closeAll(long timeoutMillis) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        tasks.add(() -> {
            closing = done;
            closeStartNanos = System.nanoTime();
            closeTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            for (Client c : clients) {
                if (c.phase == Phase.OPEN) {
                    c.phase = Phase.CLOSING;
                    closingCount++;
                    try {
                        sendMethod(c, 0, new ConnectionMethod.Close(200, "Goodbye", 0, 0));
                    } catch (IOException | RuntimeException e) {
                        fail(c, e.toString());
                    }
                }
            }
            checkClosed(System.nanoTime());
        });
        selector.wakeup();
        return done;
    }

    /** Runs {@code query} on the fleet's thread (where the clients' state may be read). */
    <T> T call(Supplier<T> query) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        tasks.add(() -> {
            try {
                f.complete(query.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        selector.wakeup();
        return f.get(60, TimeUnit.SECONDS);
    }

    /** The clients; read them only inside {@link #call}. */
    List<Client> clients() {
        return clients;
    }

    /** Fleet thread only. */
    Summary summary() {
        long now = System.nanoTime();
        int opened = 0;
        int alive = 0;
        int failed = 0;
        int closed = 0;
        int silentTooLong = 0;
        long longest = 0;
        long hbTotal = 0;
        int hbNegMin = Integer.MAX_VALUE;
        int hbNegMax = 0;
        Map<String, Integer> failures = new TreeMap<>();
        List<Integer> beats = new ArrayList<>();
        for (Client c : clients) {
            if (c.openedNanos != 0) {
                opened++;
            }
            if (c.phase == Phase.FAILED) {
                failed++;
                failures.merge(c.failedIn + ": " + c.failure, 1, Integer::sum);
            }
            if (c.phase == Phase.CLOSED) {
                closed++;
            }
            if (c.openedNanos != 0) {
                hbTotal += c.heartbeatsReceived;
                hbNegMin = Math.min(hbNegMin, c.heartbeatSeconds);
                hbNegMax = Math.max(hbNegMax, c.heartbeatSeconds);
            }
            if (c.alive()) {
                alive++;
                beats.add(c.heartbeatsReceived);
                long silence = Math.max(c.longestSilenceNanos, now - c.lastReadNanos);
                longest = Math.max(longest, silence);
                if (c.heartbeatSeconds > 0 && silence > TimeUnit.SECONDS.toNanos(2L * c.heartbeatSeconds)) {
                    silentTooLong++;
                }
            }
        }
        int[] b = beats.stream().mapToInt(Integer::intValue).sorted().toArray();
        return new Summary(clients.size(), opened, alive, failed, closed, failures,
                b.length == 0 ? 0 : b[0], b.length == 0 ? 0 : b[b.length / 2], b.length == 0 ? 0 : b[b.length - 1],
                hbTotal, longest / 1e9, silentTooLong, hbNegMin == Integer.MAX_VALUE ? 0 : hbNegMin, hbNegMax);
    }

    /** Handshake times (TCP connect started to channel.open-ok) of the clients that opened, in ms. Fleet thread. */
    double[] handshakeMillis() {
        return clients.stream().filter(c -> c.openedNanos != 0)
                .mapToDouble(c -> (c.openedNanos - c.startNanos) / 1e6).toArray();
    }

    @Override
    public void close() throws IOException {
        stopping = true;
        selector.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Client c : clients) {
            if (c.socket != null) {
                c.socket.close();
            }
        }
        selector.close();
    }

    // ---- the fleet's thread ---------------------------------------------------------------------------------

    private void run() {
        try {
            while (!stopping) {
                selector.select(100);
                long now = System.nanoTime();
                for (SelectionKey k : selector.selectedKeys()) {
                    Client c = (Client) k.attachment();
                    try {
                        if (!k.isValid()) {
                            continue;
                        }
                        if (k.isConnectable()) {
                            finishConnect(c);
                        } else {
                            if (k.isWritable()) {
                                writePending(c);
                            }
                            if (k.isValid() && k.isReadable()) {
                                read(c, now);
                            }
                        }
                    } catch (IOException | ProtocolException | RuntimeException e) {
                        fail(c, e.toString());
                    }
                }
                selector.selectedKeys().clear();
                Runnable t;
                while ((t = tasks.poll()) != null) {
                    t.run();
                }
                if (opening != null && !opening.isDone()) {
                    launchWithinWindow();
                }
                checkClosed(System.nanoTime());
                if (now - lastTickNanos >= TimeUnit.MILLISECONDS.toNanos(250)) {
                    lastTickNanos = now;
                    tick(now);
                }
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("held clients: the fleet's loop died: " + e);
            e.printStackTrace();
        }
    }

    private void launchWithinWindow() {
        while (toOpen > 0 && inFlight < inFlightLimit) {
            toOpen--;
            inFlight++;
            Client c = new Client(clients.size());
            clients.add(c);
            c.startNanos = System.nanoTime();
            try {
                c.socket = SocketChannel.open();
                c.socket.configureBlocking(false);
                c.socket.setOption(StandardSocketOptions.TCP_NODELAY, true);
                c.key = c.socket.register(selector, 0, c);
                if (c.socket.connect(target)) {
                    connected(c);
                } else {
                    c.key.interestOps(SelectionKey.OP_CONNECT);
                }
            } catch (IOException | RuntimeException e) {
                fail(c, e.toString());
            }
        }
        checkOpened();
    }

    private void finishConnect(Client c) throws IOException {
        if (c.socket.finishConnect()) {
            connected(c);
        }
    }

    private void connected(Client c) throws IOException {
        c.phase = Phase.AWAIT_START;
        c.key.interestOps(SelectionKey.OP_READ);
        send(c, ByteBuffer.wrap(ProtocolHeader.AMQP_0_9_1));
    }

    private void read(Client c, long now) throws IOException, ProtocolException {
        while (true) {
            readBuffer.clear();
            int n = c.socket.read(readBuffer);
            if (n < 0) {
                fail(c, "server closed the socket");
                return;
            }
            if (n == 0) {
                return;
            }
            if (c.phase == Phase.OPEN || c.phase == Phase.CLOSING) {
                c.longestSilenceNanos = Math.max(c.longestSilenceNanos, now - c.lastReadNanos);
            }
            c.lastReadNanos = now;
            readBuffer.flip();
            Frame f;
            while (c.phase != Phase.FAILED && c.phase != Phase.CLOSED && (f = c.decoder.next(readBuffer)) != null) {
                frame(c, f, now);
            }
            if (c.phase == Phase.FAILED || c.phase == Phase.CLOSED || n < readBuffer.capacity()) {
                return;
            }
        }
    }

    private void frame(Client c, Frame f, long now) throws IOException, ProtocolException {
        if (f.type() == FrameType.HEARTBEAT) {
            c.heartbeatsReceived++;
            return;
        }
        if (f.type() != FrameType.METHOD) {
            fail(c, "unexpected frame type " + f.type() + " on channel " + f.channel());
            return;
        }
        AmqpMethod m = MethodCodec.decode(f.payload());
        if (m instanceof ConnectionMethod.Close close) {
            sendMethod(c, 0, new ConnectionMethod.CloseOk());
            fail(c, "server closed the connection: " + close.replyCode() + " " + close.replyText());
            return;
        }
        if (m instanceof ChannelMethod.Close close) {
            c.channelOpen = false;
            sendMethod(c, f.channel(), new ChannelMethod.CloseOk());
            fail(c, "server closed channel " + f.channel() + ": " + close.replyCode() + " " + close.replyText());
            return;
        }
        switch (c.phase) {
            case AWAIT_START -> {
                expect(c, m, ConnectionMethod.Start.class);
                FieldTable props = FieldTable.builder().put("product", "warren-bench-held-client").build();
                byte[] plain = ("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8);
                c.phase = Phase.AWAIT_TUNE;
                sendMethod(c, 0, new ConnectionMethod.StartOk(props, "PLAIN", LongString.of(plain), "en_US"));
            }
            case AWAIT_TUNE -> {
                ConnectionMethod.Tune tune = expect(c, m, ConnectionMethod.Tune.class);
                c.heartbeatSeconds = negotiate(wantedHeartbeat, tune.heartbeat());
                long frameMax = tune.frameMax() == 0 ? 131072 : Math.min(tune.frameMax(), 131072);
                c.decoder.setMaxFrameSize((int) frameMax);
                c.phase = Phase.AWAIT_OPEN_OK;
                scratch.clear();
                FrameEncoder.writeMethod(scratch, 0, new ConnectionMethod.TuneOk(tune.channelMax(), frameMax,
                        c.heartbeatSeconds));
                FrameEncoder.writeMethod(scratch, 0, new ConnectionMethod.Open("/", "", false));
                send(c, scratch.flip());
            }
            case AWAIT_OPEN_OK -> {
                expect(c, m, ConnectionMethod.OpenOk.class);
                c.phase = Phase.AWAIT_CHANNEL_OPEN_OK;
                sendMethod(c, 1, new ChannelMethod.Open(""));
            }
            case AWAIT_CHANNEL_OPEN_OK -> {
                expect(c, m, ChannelMethod.OpenOk.class);
                c.channelOpen = true;
                c.phase = Phase.OPEN;
                c.openedNanos = now;
                c.lastReadNanos = now;
                inFlight--; // the loop launches the next one
            }
            case CLOSING -> {
                expect(c, m, ConnectionMethod.CloseOk.class);
                c.phase = Phase.CLOSED;
                closingCount--;
                c.channelOpen = false;
                c.closeOkNanos = now;
                // The client closes the socket after close-ok (RabbitMQ waits up to 30 s for it to do so).
                c.key.cancel();
                c.socket.close();
                checkClosed(now);
            }
            default -> fail(c, "unexpected " + m + " in phase " + c.phase);
        }
    }

    private <T extends AmqpMethod> T expect(Client c, AmqpMethod m, Class<T> type) throws ProtocolException {
        if (!type.isInstance(m)) {
            throw new IllegalStateException("expected " + type.getSimpleName() + ", got " + m);
        }
        return type.cast(m);
    }

    private static int negotiate(int wanted, int offered) {
        if (wanted == 0 || offered == 0) {
            return Math.max(wanted, offered);
        }
        return Math.min(wanted, offered);
    }

    private void sendMethod(Client c, int channel, AmqpMethod m) throws IOException {
        scratch.clear();
        FrameEncoder.writeMethod(scratch, channel, m);
        send(c, scratch.flip());
    }

    /** Writes {@code bytes} (fully consumed: what the socket does not take is copied aside). */
    private void send(Client c, ByteBuffer bytes) throws IOException {
        c.lastWriteNanos = System.nanoTime();
        if (c.pending == null) {
            c.socket.write(bytes);
            if (!bytes.hasRemaining()) {
                return;
            }
            c.pending = ByteBuffer.allocate(bytes.remaining()).put(bytes).flip();
        } else {
            ByteBuffer more = ByteBuffer.allocate(c.pending.remaining() + bytes.remaining());
            c.pending = more.put(c.pending).put(bytes).flip();
        }
        c.key.interestOps(c.key.interestOps() | SelectionKey.OP_WRITE);
    }

    private void writePending(Client c) throws IOException {
        if (c.pending != null) {
            c.socket.write(c.pending);
            if (c.pending.hasRemaining()) {
                return;
            }
            c.pending = null;
        }
        c.key.interestOps(c.key.interestOps() & ~SelectionKey.OP_WRITE);
    }

    private void fail(Client c, String why) {
        if (c.phase == Phase.FAILED) {
            return;
        }
        boolean wasInFlight = c.phase.compareTo(Phase.OPEN) < 0;
        c.failedIn = c.phase;
        c.phase = Phase.FAILED;
        c.failure = why;
        c.channelOpen = false;
        if (c.key != null) {
            c.key.cancel();
        }
        try {
            if (c.socket != null) {
                c.socket.close();
            }
        } catch (IOException ignored) {
            // closing a socket we give up on
        }
        if (wasInFlight) {
            inFlight--; // the loop launches the next one
        }
        if (c.failedIn == Phase.CLOSING) {
            closingCount--;
        }
    }

    /** Heartbeats due, handshake and close timeouts. */
    private void tick(long now) {
        for (Client c : clients) {
            try {
                if (c.phase == Phase.OPEN && c.heartbeatSeconds > 0
                        && now - c.lastWriteNanos >= TimeUnit.SECONDS.toNanos(c.heartbeatSeconds) / 2) {
                    send(c, ByteBuffer.wrap(HEARTBEAT));
                } else if (c.phase.compareTo(Phase.OPEN) < 0 && now - c.startNanos > handshakeTimeoutNanos) {
                    fail(c, "no channel.open-ok within the handshake timeout");
                }
            } catch (IOException | RuntimeException e) {
                fail(c, e.toString());
            }
        }
        if (closing != null && !closing.isDone() && now - closeStartNanos > closeTimeoutNanos) {
            for (Client c : clients) {
                if (c.phase == Phase.CLOSING) {
                    fail(c, "no connection.close-ok within the close timeout");
                }
            }
        }
        checkClosed(now);
    }

    private void checkOpened() {
        if (opening != null && !opening.isDone() && toOpen == 0 && inFlight == 0) {
            opening.complete(System.nanoTime());
        }
    }

    private void checkClosed(long now) {
        checkOpened();
        if (closing != null && !closing.isDone() && closingCount == 0) {
            closing.complete(now);
        }
    }
}
