package io.warren.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
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
import io.warren.codec.LongString;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.codec.ProtocolHeader;
import io.warren.core.config.ProxyConfig;
import io.warren.core.WarrenProxy;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Clients that never read (issue 7, hostile clients): Warren's live heap and a well-behaved client's
 * publish-confirm rate on the same upstream connection, with and without each kind of hog, in one run.
 *
 * <p>Warren runs in its own JVM (this jar's engine, started with bin/warren's default JVM options: -Xmx256m, serial
 * GC), so its heap is measured apart from the clients': after a {@code jcmd GC.run}, the used heap of
 * {@code jcmd GC.heap_info} (the live set), sampled every second, in every phase alike. Phases, each
 * {@code --seconds} long, the well-behaved client publishing 10 messages then waiting for their confirms, in a loop:
 * <ol>
 *   <li>idle: no client at all (heap only; the baseline);</li>
 *   <li>alone: the well-behaved client alone (its rate is the baseline);</li>
 *   <li>publisher hog: a raw-socket client that publishes 64 KiB messages to an unbound routing key as fast as its
 *       socket takes them, and never reads;</li>
 *   <li>returns hog: the same with mandatory=true, so the broker returns every body, which it never reads; it is
 *       cut off after slow-client-timeout and reconnects at once;</li>
 *   <li>consumer hog: consumes a queue holding 800 x 64 KiB (no prefetch limit, manual ack) and never reads; cut
 *       off, it reconnects at once (its unacked messages are requeued).</li>
 * </ol>
 *
 * <pre>java -cp proxy-bench/target/benchmarks.jar io.warren.bench.HostileClientsBench --broker-port 56900</pre>
 *
 * Options: --broker-port (5672) --seconds (20) --slow-client-timeout-ms (10000) --slow-client-stall-ms (100).
 */
public final class HostileClientsBench {
    private HostileClientsBench() {}

    private static final int HOG_MESSAGE = 64 * 1024;

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        int brokerPort = a.intValue("broker-port", 5672);
        int seconds = a.intValue("seconds", 20);
        long slowClientMs = a.longValue("slow-client-timeout-ms", 10_000);
        long stallMs = a.longValue("slow-client-stall-ms", 100);
        a.done();

        Process daemon = startDaemon(brokerPort, slowClientMs, stallMs);
        try {
            BufferedReader daemonOut = new BufferedReader(new InputStreamReader(daemon.getInputStream(),
                    StandardCharsets.UTF_8));
            PrintStream daemonIn = new PrintStream(daemon.getOutputStream(), true, StandardCharsets.UTF_8);
            int port = Integer.parseInt(daemonOut.readLine().replace("port ", "").trim());
            System.out.printf(Locale.ROOT, "HostileClientsBench: Warren pid %d on port %d, broker port %d, %d s per "
                    + "phase, slow-client-timeout %d ms, slow-client-stall %d ms, %d CPUs, %s%n", daemon.pid(), port,
                    brokerPort, seconds, slowClientMs, stallMs, Runtime.getRuntime().availableProcessors(),
                    System.getProperty("java.vm.version"));
            ConnectionFactory f = ThroughputBench.factory("127.0.0.1", port, "guest", "guest");

            // Warm-up: the well-behaved client's path through Warren (JIT), not recorded.
            try (Connection c = f.newConnection("bench-warmup")) {
                Channel ch = c.createChannel();
                ch.confirmSelect();
                String q = ch.queueDeclare().getQueue();
                publishConfirmRate(ch, q, 3);
            }
            List<String> rows = new ArrayList<>();
            long idleHeap = phase(daemon, seconds, null, null);
            rows.add(String.format(Locale.ROOT, "%-15s %8s %12s %14s", "idle", "-", kib(idleHeap), "1.00x"));

            String hogQueue = "bench-hog-" + System.nanoTime();
            try (Connection good = f.newConnection("bench-well-behaved");
                    Connection admin = f.newConnection("bench-admin")) {
                Channel ch = good.createChannel();
                ch.confirmSelect();
                String q = ch.queueDeclare().getQueue();
                double[] alone = new double[1];
                long aloneHeap = phase(daemon, seconds, () -> alone[0] = publishConfirmRate(ch, q, seconds), null);
                rows.add(row("alone", alone[0], alone[0], aloneHeap, idleHeap));

                for (String hog : List.of("publisher hog", "returns hog", "consumer hog")) {
                    if (hog.equals("consumer hog")) {
                        Channel ac = admin.createChannel();
                        ac.queueDeclare(hogQueue, false, false, true, null);
                        byte[] body = new byte[HOG_MESSAGE];
                        for (int i = 0; i < 800; i++) {
                            ac.basicPublish("", hogQueue, null, body);
                        }
                        ac.close();
                    }
                    Hog h = new Hog(port, hog, hogQueue);
                    double[] rate = new double[1];
                    long heap = phase(daemon, seconds, () -> rate[0] = publishConfirmRate(ch, q, seconds), h);
                    rows.add(row(hog, rate[0], alone[0], heap, idleHeap) + "   hog connections: " + h.connections);
                }
                admin.createChannel().queueDelete(hogQueue);
            }
            daemonIn.println("stats");
            String stats = daemonOut.readLine();
            System.out.println();
            System.out.printf(Locale.ROOT, "%-15s %8s %12s %14s %s%n", "phase", "rate", "live heap", "heap/idle",
                    "rate/alone");
            rows.forEach(System.out::println);
            System.out.println("Warren " + stats);
        } finally {
            daemon.destroy();
            daemon.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String row(String phase, double rate, double alone, long heap, long idleHeap) {
        return String.format(Locale.ROOT, "%-15s %8.0f %12s %13.2fx %.3f", phase, rate, kib(heap),
                (double) heap / idleHeap, rate / alone);
    }

    private static String kib(long bytes) {
        return String.format(Locale.ROOT, "%,d KiB", bytes / 1024);
    }

    /** Runs the work (or just waits) while sampling the daemon's live heap every second; returns the largest. */
    private static long phase(Process daemon, int seconds, ThrowingRunnable work, Hog hog) throws Exception {
        if (hog != null) {
            hog.start();
        }
        long[] max = new long[1];
        Thread sampler = new Thread(() -> {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < end) {
                try {
                    max[0] = Math.max(max[0], liveHeap(daemon.pid()));
                    Thread.sleep(1000);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }, "heap-sampler");
        sampler.start();
        try {
            if (work != null) {
                work.run();
            }
            sampler.join();
        } finally {
            if (hog != null) {
                hog.stop();
            }
        }
        return max[0];
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Publishes 10 messages then waits for their confirms, for {@code seconds}; returns confirmed messages/s. */
    private static double publishConfirmRate(Channel ch, String q, int seconds) throws Exception {
        byte[] body = new byte[100];
        long t0 = System.nanoTime();
        long end = t0 + TimeUnit.SECONDS.toNanos(seconds);
        long confirmed = 0;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 10; i++) {
                ch.basicPublish("", q, null, body);
            }
            ch.waitForConfirmsOrDie(120_000);
            confirmed += 10;
            if (confirmed % 10_000 == 0) {
                ch.queuePurge(q);
            }
        }
        ch.queuePurge(q);
        return confirmed / ((System.nanoTime() - t0) / 1e9);
    }

    private static final Pattern USED = Pattern.compile("generation\\s+total \\d+K, used (\\d+)K");

    /** Used heap of the process right after a full GC, in bytes. */
    static long liveHeap(long pid) throws IOException, InterruptedException {
        jcmd(pid, "GC.run");
        String info = jcmd(pid, "GC.heap_info");
        Matcher m = USED.matcher(info);
        long used = 0;
        while (m.find()) {
            used += Long.parseLong(m.group(1)) * 1024;
        }
        if (used == 0) {
            throw new IllegalStateException("cannot read the heap from: " + info);
        }
        return used;
    }

    private static String jcmd(long pid, String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    /** Warren in a JVM of its own with bin/warren's default heap and GC options. */
    private static Process startDaemon(int brokerPort, long slowClientMs, long stallMs) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms16m", "-Xmx256m", "-XX:+UseSerialGC", "-Xss256k", "-XX:+ExitOnOutOfMemoryError",
                "-cp", System.getProperty("java.class.path"), Daemon.class.getName(), Integer.toString(brokerPort),
                Long.toString(slowClientMs), Long.toString(stallMs)));
        Path log = Files.createTempFile("warren-hostile-bench", ".log");
        return new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    }

    /** The daemon side: prints its port, then one line of stats per "stats" line on stdin. */
    public static final class Daemon {
        private Daemon() {}

        public static void main(String[] args) throws Exception {
            int brokerPort = Integer.parseInt(args[0]);
            long slowClientMs = Long.parseLong(args[1]);
            long stallMs = Long.parseLong(args[2]);
            ClassLoader cl = Daemon.class.getClassLoader();
            ProxyConfig config = ProxyConfig.builder(new java.net.InetSocketAddress("127.0.0.1", brokerPort))
                    .listen(new java.net.InetSocketAddress("127.0.0.1", 0))
                    .slowClientTimeout(java.time.Duration.ofMillis(slowClientMs))
                    .slowClientStall(java.time.Duration.ofMillis(stallMs))
                    .build();
            try (WarrenProxy warren = WarrenProxy.start(config,
                    io.warren.api.Providers.load(io.warren.api.transport.Transport.class, "nio", cl),
                    io.warren.api.transport.TransportSettings.defaults(),
                    io.warren.api.Providers.load(io.warren.api.CredentialKeyer.class, "credentials", cl),
                    io.warren.api.Providers.load(io.warren.api.ChannelReusePolicy.class, "publish-safe", cl))) {
                System.out.println("port " + warren.listenAddress().getPort());
                System.out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.equals("stats")) {
                        System.out.printf(Locale.ROOT, "peak client write queue %,d bytes, peak upstream write "
                                + "queue %,d bytes, clients cut off for not reading %d%n",
                                warren.stats().peakClientWriteQueueBytes(), warren.stats().peakUpstreamWriteQueueBytes(),
                                warren.stats().violations().getOrDefault(320, 0L));
                        System.out.flush();
                    }
                }
            }
        }
    }

    /** A raw-socket client that never reads; reconnects at once when Warren cuts it off. */
    private static final class Hog {
        final int port;
        final String kind;
        final String queue;
        volatile boolean running = true;
        volatile Socket socket;
        int connections;
        Thread thread;

        Hog(int port, String kind, String queue) {
            this.port = port;
            this.kind = kind;
            this.queue = queue;
        }

        void start() {
            thread = new Thread(() -> {
                while (running) {
                    try (Socket s = new Socket("127.0.0.1", port)) {
                        socket = s;
                        connections++;
                        OutputStream out = s.getOutputStream();
                        handshake(s);
                        write(out, 1, new ChannelMethod.Open(""));
                        if (kind.equals("consumer hog")) {
                            write(out, 1, new BasicMethod.Consume(0, queue, "", false, false, false, false,
                                    FieldTable.EMPTY));
                            while (running) {
                                // Never read; the socket ends when Warren cuts us off (the write below then fails).
                                ByteBuffer hb = ByteBuffer.allocate(8);
                                FrameEncoder.writeHeartbeat(hb);
                                out.write(hb.array(), 0, hb.position());
                                Thread.sleep(200);
                            }
                        } else {
                            ByteBuffer msg = ByteBuffer.allocate(HOG_MESSAGE + 1024);
                            FrameEncoder.writeMethod(msg, 1, new BasicMethod.Publish(0, "", "nowhere-bench",
                                    kind.equals("returns hog"), false));
                            FrameEncoder.writeHeader(msg, 1, ContentHeader.basic(HOG_MESSAGE, BasicProperties.EMPTY));
                            FrameEncoder.writeBody(msg, 1, ByteBuffer.allocate(HOG_MESSAGE));
                            while (running) {
                                out.write(msg.array(), 0, msg.position());
                            }
                        }
                    } catch (IOException | InterruptedException e) {
                        // cut off by Warren (or stopped): reconnect
                    }
                }
            }, "hog");
            thread.setDaemon(true);
            thread.start();
        }

        /** Header, start-ok (guest), tune-ok, open: reads only until open-ok, never after. */
        private static void handshake(Socket s) throws IOException {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            FrameDecoder decoder = new FrameDecoder(1 << 20);
            ByteBuffer[] buffer = {ByteBuffer.allocate(0)};
            out.write(ProtocolHeader.AMQP_0_9_1);
            expect(in, decoder, buffer, ConnectionMethod.Start.class);
            write(out, 0, new ConnectionMethod.StartOk(FieldTable.EMPTY, "PLAIN",
                    LongString.of("\0guest\0guest".getBytes(StandardCharsets.UTF_8)), "en_US"));
            ConnectionMethod.Tune tune = expect(in, decoder, buffer, ConnectionMethod.Tune.class);
            write(out, 0, new ConnectionMethod.TuneOk(tune.channelMax(), tune.frameMax(), 0));
            write(out, 0, new ConnectionMethod.Open("/", "", false));
            expect(in, decoder, buffer, ConnectionMethod.OpenOk.class);
        }

        private static <T extends AmqpMethod> T expect(InputStream in, FrameDecoder decoder, ByteBuffer[] buffer,
                Class<T> type) throws IOException {
            try {
                while (true) {
                    Frame f = decoder.next(buffer[0]);
                    if (f != null) {
                        if (f.type() == FrameType.METHOD) {
                            AmqpMethod m = MethodCodec.decode(f.payload());
                            if (!type.isInstance(m)) {
                                throw new IOException("expected " + type.getSimpleName() + ", got " + m);
                            }
                            return type.cast(m);
                        }
                        continue;
                    }
                    byte[] chunk = new byte[4096];
                    int n = in.read(chunk);
                    if (n < 0) {
                        throw new IOException("closed during the handshake");
                    }
                    ByteBuffer joined = ByteBuffer.allocate(buffer[0].remaining() + n);
                    joined.put(buffer[0]).put(chunk, 0, n).flip();
                    buffer[0] = joined;
                }
            } catch (ProtocolException e) {
                throw new IOException(e);
            }
        }

        private static void write(OutputStream out, int channel, AmqpMethod m) throws IOException {
            ByteBuffer b = FrameEncoder.method(channel, m);
            out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
        }

        void stop() throws Exception {
            running = false;
            Socket s = socket;
            if (s != null) {
                s.close();
            }
            thread.join(10_000);
        }
    }
}
