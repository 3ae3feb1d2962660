package io.warren.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A loopback TCP forwarder that delays every byte by a fixed one-way latency in each direction, standing in for
 * a broker far away (this kernel has no netem). Byte order is preserved per direction; end of stream (half-close)
 * is delayed like data; a reset or error on either side closes both.
 *
 * <p>How: per relayed connection and direction, a reader thread stamps each chunk it reads with
 * {@code arrival + oneWay} and queues it; a scheduler (writer) thread takes chunks in order, parks until the
 * stamp is due and writes them. So throughput is not limited by the latency (many chunks are in flight), and a
 * slow receiver back-pressures the sender through a bounded queue (256 chunks of at most 16 KiB per direction).
 * What it does not model: the TCP handshake (the client's connect completes at once, the relay dials the target
 * at once), loss, jitter, bandwidth.
 *
 * <pre>{@code
 * try (LatencyRelay relay = LatencyRelay.start(0, "127.0.0.1", 5672, Duration.ofMillis(25))) {
 *     connect to 127.0.0.1:relay.port() ...
 * }
 * }</pre>
 *
 * Threads: one acceptor, plus four per open relayed connection (all daemon threads, ended when the connection
 * ends or the relay closes). Meant for benchmarks and tests, not for thousands of concurrent connections.
 */
public final class LatencyRelay implements AutoCloseable {
    private static final int CHUNK = 16 * 1024;
    private static final int QUEUE_CHUNKS = 256;
    private static final byte[] EOF = new byte[0];

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final long delayNanos;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicLong accepted = new AtomicLong();
    private final Thread acceptor;
    private volatile boolean closed;

    private LatencyRelay(ServerSocket server, InetSocketAddress target, Duration oneWay) {
        this.server = server;
        this.target = target;
        this.delayNanos = oneWay.toNanos();
        this.acceptor = new Thread(this::acceptLoop, "latency-relay-accept-" + server.getLocalPort());
        this.acceptor.setDaemon(true);
    }

    /**
     * Listens on 127.0.0.1:{@code listenPort} (0 for any free port) and relays every accepted connection to
     * {@code targetHost:targetPort}, delaying each direction by {@code oneWay}.
     */
    public static LatencyRelay start(int listenPort, String targetHost, int targetPort, Duration oneWay)
            throws IOException {
        if (oneWay.isNegative()) {
            throw new IllegalArgumentException("oneWay must not be negative: " + oneWay);
        }
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), listenPort), 1024);
        LatencyRelay relay = new LatencyRelay(server, new InetSocketAddress(targetHost, targetPort), oneWay);
        relay.acceptor.start();
        return relay;
    }

    /** The port this relay listens on (127.0.0.1). */
    public int port() {
        return server.getLocalPort();
    }

    /** The configured one-way delay. */
    public Duration oneWay() {
        return Duration.ofNanos(delayNanos);
    }

    /** Connections accepted so far. */
    public long acceptedConnections() {
        return accepted.get();
    }

    /** Stops listening and resets every relayed connection. Idempotent. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        acceptor.interrupt();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("latency relay: accept failed: " + e);
                }
                return;
            }
            accepted.incrementAndGet();
            Thread t = new Thread(() -> relay(client), "latency-relay-dial");
            t.setDaemon(true);
            t.start();
        }
    }

    private void relay(Socket client) {
        sockets.add(client);
        Socket upstream = new Socket();
        sockets.add(upstream);
        try {
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
            upstream.connect(target, 10_000);
            if (closed) {
                throw new SocketException("relay closed");
            }
            Pair pair = new Pair(client, upstream);
            pair.pipe(client, upstream, "c2s");
            pair.pipe(upstream, client, "s2c");
        } catch (IOException e) {
            closeQuietly(client);
            closeQuietly(upstream);
            sockets.remove(client);
            sockets.remove(upstream);
        }
    }

    /** One relayed connection: two directions; when both ended (or one failed) both sockets close. */
    private final class Pair {
        private final Socket a;
        private final Socket b;
        private int directionsDone;

        Pair(Socket a, Socket b) {
            this.a = a;
            this.b = b;
        }

        void pipe(Socket from, Socket to, String name) throws IOException {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            BlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(QUEUE_CHUNKS);
            Thread reader = new Thread(() -> read(in, queue), "latency-relay-" + name + "-read");
            Thread writer = new Thread(() -> write(queue, out, to), "latency-relay-" + name + "-write");
            reader.setDaemon(true);
            writer.setDaemon(true);
            writer.start();
            reader.start();
        }

        private void read(InputStream in, BlockingQueue<Chunk> queue) {
            byte[] buf = new byte[CHUNK];
            try {
                while (true) {
                    int n = in.read(buf);
                    long due = System.nanoTime() + delayNanos;
                    if (n < 0) {
                        queue.put(new Chunk(EOF, due));
                        return;
                    }
                    queue.put(new Chunk(Arrays.copyOf(buf, n), due));
                }
            } catch (IOException e) {
                abort();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                abort();
            }
        }

        private void write(BlockingQueue<Chunk> queue, OutputStream out, Socket to) {
            try {
                while (true) {
                    Chunk c = queue.poll(1, TimeUnit.SECONDS);
                    if (c == null) {
                        if (closed || a.isClosed() || b.isClosed()) {
                            return;
                        }
                        continue;
                    }
                    long wait;
                    while ((wait = c.due - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    if (c.bytes == EOF) {
                        to.shutdownOutput();
                        directionDone();
                        return;
                    }
                    out.write(c.bytes);
                    out.flush();
                }
            } catch (IOException e) {
                abort();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                abort();
            }
        }

        private synchronized void directionDone() {
            if (++directionsDone == 2) {
                abort();
            }
        }

        private void abort() {
            closeQuietly(a);
            closeQuietly(b);
            sockets.remove(a);
            sockets.remove(b);
        }
    }

    private record Chunk(byte[] bytes, long due) {}

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing anyway
        }
    }

    /**
     * {@code java -cp benchmarks.jar io.warren.bench.LatencyRelay --listen 56910 --target 127.0.0.1:56900
     * --delay-ms 25}: runs until killed.
     */
    public static void main(String[] args) throws Exception {
        Args a = new Args(args);
        int listen = a.intValue("listen", 0);
        String[] target = a.value("target", "127.0.0.1:5672").split(":");
        Duration delay = Duration.ofMillis(a.intValue("delay-ms", 25));
        a.done();
        LatencyRelay relay = start(listen, target[0], Integer.parseInt(target[1]), delay);
        System.out.println("relaying 127.0.0.1:" + relay.port() + " -> " + target[0] + ":" + target[1] + ", "
                + delay.toMillis() + " ms each way");
        Runtime.getRuntime().addShutdownHook(new Thread(relay::close));
        try {
            Thread.currentThread().join();
        } catch (InterruptedException e) {
            throw new UncheckedIOException(new IOException("interrupted", e));
        }
    }
}
