package io.warren.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback TCP relay in front of a server (a broker) that injects faults into the connections it relays, one
 * connection at a time: stall, delay, reset in the middle of an AMQP frame, drop; and it can refuse new connections.
 * It counts every connection it accepts, so a test can bound how often a proxy dials the broker.
 *
 * <pre>{@code
 * try (FaultRelay relay = FaultRelay.start(broker.host(), broker.amqpPort())) {
 *     point the proxy's upstream at 127.0.0.1:relay.port() ...
 *     FaultRelay.Link upstream = relay.awaitLinks(1, Duration.ofSeconds(5)).get(0);
 *     upstream.stall();                                          // sockets open, not a byte either way
 *     upstream.resetMidFrame(Direction.TO_TARGET, FRAME_BODY, 2); // half of the 3rd body frame, then RST
 * }
 * }</pre>
 *
 * <p>Frames: the relay follows AMQP 0-9-1 framing in both directions (after the 8-byte protocol header the client
 * sends first) only to find where to cut; it never changes a byte.
 *
 * <p>Threads: one acceptor, and per relayed connection one pump thread per direction that reads a chunk, applies
 * the connection's faults and writes it on. A stalled direction stops reading, so the kernel buffers fill and TCP
 * back-pressure reaches the sender, exactly as with a peer that hangs. All threads are daemons and end with their
 * connection or with {@link #close()}. Meant for tests, not for thousands of connections.
 */
public final class FaultRelay implements AutoCloseable {
    /** AMQP frame types, for {@link Link#resetMidFrame}. */
    public static final int FRAME_METHOD = 1;
    public static final int FRAME_HEADER = 2;
    public static final int FRAME_BODY = 3;
    public static final int FRAME_HEARTBEAT = 8;

    private static final int CHUNK = 16 * 1024;
    private static final int AMQP_HEADER_SIZE = 8;
    private static final int FRAME_HEADER_SIZE = 7;

    /** Which way bytes flow through a link. */
    public enum Direction {
        /** From the relay's client (the proxy) to the target (the broker). */
        TO_TARGET,
        /** From the target back to the client. */
        TO_CLIENT
    }

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Link> links = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private final List<Long> acceptedAtNanos = new CopyOnWriteArrayList<>();
    private final Thread acceptor;
    private volatile boolean refusing;
    private volatile boolean closed;

    private FaultRelay(ServerSocket server, InetSocketAddress target) {
        this.server = server;
        this.target = target;
        this.acceptor = new Thread(this::acceptLoop, "fault-relay-accept-" + server.getLocalPort());
        this.acceptor.setDaemon(true);
    }

    /** Listens on a free port of 127.0.0.1 and relays every accepted connection to {@code host:port}. */
    public static FaultRelay start(String host, int port) throws IOException {
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
        FaultRelay relay = new FaultRelay(server, new InetSocketAddress(host, port));
        relay.acceptor.start();
        return relay;
    }

    /** The port this relay listens on (127.0.0.1). */
    public int port() {
        return server.getLocalPort();
    }

    /** The address clients of the relay connect to. */
    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port());
    }

    /** Connections accepted since the relay started, including refused ones and ones the target refused. */
    public int acceptedConnections() {
        return accepted.get();
    }

    /** {@link System#nanoTime()} of each accepted connection, in order: how often and how fast a client retried. */
    public List<Long> acceptTimesNanos() {
        return List.copyOf(acceptedAtNanos);
    }

    /**
     * While true, each new connection is accepted (and counted) and at once reset (RST, nothing read or sent):
     * what a client sees of a host whose broker is down. Relayed connections already open are not touched.
     */
    public void refuseNewConnections(boolean refuse) {
        refusing = refuse;
    }

    /**
     * Forgets every connection accepted so far (links, accept times and count), so that a test counts only what comes
     * after: e.g. the check Warren makes of each upstream node at start.
     */
    public void forgetConnections() {
        links.clear();
        acceptedAtNanos.clear();
        accepted.set(0);
    }

    /** Every connection relayed so far, in the order they were accepted (closed ones included). */
    public List<Link> links() {
        return List.copyOf(links);
    }

    /** The links currently open. */
    public List<Link> openLinks() {
        List<Link> open = new ArrayList<>();
        for (Link l : links) {
            if (l.isOpen()) {
                open.add(l);
            }
        }
        return open;
    }

    /** Waits until at least {@code n} connections have been relayed; returns all of them, in accept order. */
    public List<Link> awaitLinks(int n, Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (links.size() < n) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("relay on port " + port() + " relayed " + links.size()
                        + " connections, expected " + n + " within " + timeout);
            }
            Thread.sleep(10);
        }
        return links();
    }

    /** Stops listening and resets every relayed connection. Idempotent. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        for (Link l : links) {
            l.drop();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("fault relay: accept failed: " + e);
                }
                return;
            }
            acceptedAtNanos.add(System.nanoTime());
            accepted.incrementAndGet();
            if (refusing) {
                reset(client);
                continue;
            }
            Thread dial = new Thread(() -> dial(client), "fault-relay-dial-" + port());
            dial.setDaemon(true);
            dial.start();
        }
    }

    private void dial(Socket client) {
        Socket upstream = new Socket();
        try {
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
            upstream.connect(target, 10_000);
        } catch (IOException e) {
            // The target refused or is unreachable: the client sees a reset, as from a host with nothing listening.
            reset(client);
            closeQuietly(upstream);
            return;
        }
        Link link = new Link(client, upstream);
        links.add(link);
        if (closed) {
            link.drop();
            return;
        }
        link.start();
    }

    /**
     * One relayed connection (the proxy's socket and the relay's socket to the target) and its faults. Faults apply
     * from the next chunk on; every method may be called from any thread.
     */
    public final class Link {
        private final Socket client;
        private final Socket upstream;
        private final Pump toTarget;
        private final Pump toClient;
        /** Guards the fault settings below; pumps wait on it while stalled. */
        private final Object lock = new Object();
        private boolean stalled;
        private long delayNanos;
        private volatile boolean open = true;
        private final AtomicInteger directionsDone = new AtomicInteger();

        Link(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
            this.toTarget = new Pump(Direction.TO_TARGET, client, upstream, AMQP_HEADER_SIZE);
            this.toClient = new Pump(Direction.TO_CLIENT, upstream, client, 0);
        }

        private void start() {
            toTarget.start();
            toClient.start();
        }

        /** Stops forwarding in both directions; the sockets stay open and nothing is read any more. */
        public void stall() {
            synchronized (lock) {
                stalled = true;
            }
        }

        /** Forwards again after {@link #stall()}. */
        public void resume() {
            synchronized (lock) {
                stalled = false;
                lock.notifyAll();
            }
        }

        /**
         * Holds each chunk back for {@code delay} before forwarding it, in both directions (zero: no delay). Each
         * direction forwards one chunk (at most 16 KiB) per delay, so a long delay also limits throughput.
         */
        public void delay(Duration delay) {
            synchronized (lock) {
                delayNanos = delay.toNanos();
            }
        }

        /**
         * Forwards in {@code direction} until a frame of {@code frameType} starts, lets {@code skip} such frames
         * pass whole, forwards the header and half of the payload of the next one, waits briefly so the receiver
         * has those bytes, then resets both sockets (SO_LINGER 0: RST, no FIN). The other direction is not
         * affected until the reset.
         */
        public void resetMidFrame(Direction direction, int frameType, int skip) {
            if (skip < 0) {
                throw new IllegalArgumentException("skip must not be negative: " + skip);
            }
            pump(direction).armCut(frameType, skip);
        }

        /** Resets both sockets now (RST to both peers): the connection is gone without a goodbye. */
        public void drop() {
            open = false;
            resume(); // wake stalled pumps so their threads end
            reset(client);
            reset(upstream);
        }

        /** False once the link was dropped, reset, or either peer closed. */
        public boolean isOpen() {
            return open;
        }

        /** Bytes forwarded so far in {@code direction}. */
        public long bytesForwarded(Direction direction) {
            return pump(direction).forwarded.get();
        }

        /** {@link System#nanoTime()} when the last bytes were forwarded in {@code direction}. */
        public long lastForwardNanos(Direction direction) {
            return pump(direction).lastForwardNanos;
        }

        /** The relay's local port towards the target: the peer port the broker sees for this connection. */
        public int targetSidePort() {
            return upstream.getLocalPort();
        }

        @Override
        public String toString() {
            return "link " + client.getPort() + " -> " + targetSidePort() + (open ? "" : " (closed)");
        }

        private Pump pump(Direction direction) {
            return direction == Direction.TO_TARGET ? toTarget : toClient;
        }

        /** Blocks while the link is stalled; then waits out the delay counted from {@code arrivedNanos}. */
        private void awaitForwarding(long arrivedNanos) throws InterruptedException {
            long delay;
            synchronized (lock) {
                while (stalled && open) {
                    lock.wait();
                }
                delay = delayNanos;
            }
            long wait = arrivedNanos + delay - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
        }

        /** One direction: reads chunks from {@code from}, applies the faults, writes them to {@code to}. */
        private final class Pump implements Runnable {
            private final Direction direction;
            private final Socket from;
            private final Socket to;
            private final AtomicLong forwarded = new AtomicLong();
            private volatile long lastForwardNanos = System.nanoTime();
            /** Bytes still to pass before the first frame (the protocol header the client sends first). */
            private int preamble;
            /** The frame header being read (type, channel, size); {@code headerFill} bytes of it so far. */
            private final byte[] header = new byte[FRAME_HEADER_SIZE];
            private int headerFill;
            /** Bytes of the current frame (payload and frame end) not yet passed. */
            private long frameRemaining;
            /** Guarded by the link's lock: an armed cut (-1 = none). */
            private int cutType = -1;
            private int cutSkip;
            /** Payload bytes of the current frame still to forward before the reset; -1 = no cut in this frame. */
            private long cutAfter = -1;

            Pump(Direction direction, Socket from, Socket to, int preamble) {
                this.direction = direction;
                this.from = from;
                this.to = to;
                this.preamble = preamble;
            }

            void start() {
                Thread t = new Thread(this, "fault-relay-" + direction + "-" + client.getPort());
                t.setDaemon(true);
                t.start();
            }

            void armCut(int frameType, int skip) {
                synchronized (lock) {
                    cutType = frameType;
                    cutSkip = skip;
                }
            }

            @Override
            public void run() {
                byte[] buf = new byte[CHUNK];
                try {
                    // Not try-with-resources: closing a socket's stream closes the socket, and with it the other way.
                    InputStream in = from.getInputStream();
                    OutputStream out = to.getOutputStream();
                    while (open) {
                        synchronized (lock) {
                            while (stalled && open) {
                                lock.wait(); // stalled: do not even read, so TCP pushes back on the sender
                            }
                        }
                        int n = in.read(buf);
                        long arrived = System.nanoTime();
                        if (n < 0) {
                            to.shutdownOutput(); // pass the FIN on; the link ends when both ways did
                            if (directionsDone.incrementAndGet() == 2) {
                                open = false;
                                closeQuietly(client);
                                closeQuietly(upstream);
                            }
                            return;
                        }
                        awaitForwarding(arrived);
                        if (!open) {
                            return;
                        }
                        int cut = scan(buf, n);
                        if (cut >= 0) {
                            out.write(buf, 0, cut);
                            out.flush();
                            forwarded.addAndGet(cut);
                            lastForwardNanos = System.nanoTime();
                            Thread.sleep(50); // let the receiver take the partial frame before the reset
                            drop();
                            return;
                        }
                        out.write(buf, 0, n);
                        out.flush();
                        forwarded.addAndGet(n);
                        lastForwardNanos = System.nanoTime();
                    }
                } catch (IOException e) {
                    drop(); // one side failed: the other side sees a reset too, as through a dead middlebox
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    drop();
                }
            }

            /**
             * Follows the framing over {@code buf[0, n)}; returns how many bytes to forward before resetting when an
             * armed cut falls in this chunk, else -1.
             */
            private int scan(byte[] buf, int n) {
                int i = 0;
                while (i < n) {
                    if (preamble > 0) {
                        int step = Math.min(preamble, n - i);
                        preamble -= step;
                        i += step;
                    } else if (headerFill < FRAME_HEADER_SIZE) {
                        header[headerFill++] = buf[i++];
                        if (headerFill == FRAME_HEADER_SIZE) {
                            frameStarted();
                            if (cutAfter == 0) {
                                return i;
                            }
                        }
                    } else {
                        int step = (int) Math.min(frameRemaining, n - i);
                        if (cutAfter > 0 && cutAfter <= step) {
                            return i + (int) cutAfter;
                        }
                        if (cutAfter > 0) {
                            cutAfter -= step;
                        }
                        frameRemaining -= step;
                        i += step;
                        if (frameRemaining == 0) {
                            headerFill = 0;
                        }
                    }
                }
                return -1;
            }

            private void frameStarted() {
                int type = header[0] & 0xff;
                long size = ((header[3] & 0xffL) << 24) | ((header[4] & 0xff) << 16) | ((header[5] & 0xff) << 8)
                        | (header[6] & 0xff);
                frameRemaining = size + 1; // payload and frame-end octet
                synchronized (lock) {
                    if (cutType == type) {
                        if (cutSkip > 0) {
                            cutSkip--;
                        } else {
                            cutAfter = size / 2;
                            cutType = -1;
                        }
                    }
                }
            }
        }
    }

    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // already closed
        }
        closeQuietly(s);
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing anyway
        }
    }
}
