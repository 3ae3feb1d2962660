package io.warren.bench;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Soak of a running Warren daemon (issue 7, item 5): for {@code --duration-s}, {@code --rate} short-lived clients per
 * second, each connecting through Warren, opening a channel, publishing one message with a publisher confirm and
 * closing ({@link RawClient#publishConfirmed}, on a small thread pool), while {@code --consumers} long-lived
 * consumers (the RabbitMQ Java client, one connection each, also through Warren) consume and ack what they publish.
 *
 * <p>Every {@code --sample-s} it samples the Warren process {@code --warren-pid}: heap used after a full GC
 * ({@code jcmd PID GC.run} then {@code GC.heap_info}), RSS and open file descriptors ({@code /proc/PID}), its CPU;
 * Warren's own gauges ({@code --warren-http} /metrics); the upstream connections the broker sees from Warren
 * ({@code rabbitmqctl -n NODE list_connections}, client property product "Warren"); and the load generator's own
 * clients started, errors, latency, backlog and CPU. At the end it waits for the consumers to drain the queue and
 * prints the verdict: zero client and consumer errors, every confirmed message consumed, and heap after GC, file
 * descriptors and upstream connections flat, judged on the samples after {@code --warmup-s}: the median of the last
 * third may exceed the median of the first third by at most 20 % plus a small absolute slack (2 MiB of heap, 10
 * descriptors, 2 connections), and its maximum may not exceed the first third's maximum by more than that either.
 *
 * <pre>java -cp proxy-bench/target/benchmarks.jar io.warren.bench.SoakBench --warren-port 56982 --broker-port 56980 \
 *     --warren-pid PID --warren-http 56983 --broker-node soak@localhost</pre>
 *
 * Options: --warren-host (127.0.0.1) --warren-port (required) --broker-host (127.0.0.1) --broker-port (5672; the
 * bench's queue set-up and final depth check go straight to the broker) --warren-pid (0: no process samples)
 * --broker-pid (0: no broker CPU) --warren-http (0: no Warren gauges) --broker-node (none: no rabbitmqctl samples)
 * --duration-s (600) --rate (200 clients per second) --threads (8: the short-lived clients' pool) --consumers (20)
 * --prefetch (50) --sample-s (20) --warmup-s (60) --drain-s (120: how long the consumers may take to drain the queue
 * at the end) --linger-s (0: after the drain, keep sampling this long with only the consumers connected, e.g. to
 * see pooled channels expire) --user/--password (guest). The program exits 1 when the verdict fails.
 *
 * <p>The pool size bounds the clients in flight: at 200/s and a few milliseconds per client, 8 threads are idle most
 * of the time; when a client takes longer (the machine is busy) the ticks queue up and the sample shows a backlog.
 */
public final class SoakBench {
    private SoakBench() {}

    private static final String QUEUE = "warren.soak";

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        String warrenHost = a.value("warren-host", "127.0.0.1");
        String warrenPortText = a.value("warren-port", null);
        String brokerHost = a.value("broker-host", "127.0.0.1");
        int brokerPort = a.intValue("broker-port", 5672);
        long warrenPid = a.longValue("warren-pid", 0);
        long brokerPid = a.longValue("broker-pid", 0);
        int warrenHttp = a.intValue("warren-http", 0);
        String brokerNode = a.value("broker-node", null);
        int durationS = a.intValue("duration-s", 600);
        int rate = a.intValue("rate", 200);
        int threads = a.intValue("threads", 8);
        int consumers = a.intValue("consumers", 20);
        int prefetch = a.intValue("prefetch", 50);
        int sampleS = a.intValue("sample-s", 20);
        int warmupS = a.intValue("warmup-s", 60);
        int drainS = a.intValue("drain-s", 120);
        int lingerS = a.intValue("linger-s", 0);
        String user = a.value("user", "guest");
        String password = a.value("password", "guest");
        a.done();
        if (warrenPortText == null) {
            throw new IllegalArgumentException("--warren-port is required");
        }
        int warrenPort = Integer.parseInt(warrenPortText);
        if (rate <= 0 || rate > 1_000_000 || threads <= 0 || consumers <= 0 || sampleS <= 0 || durationS <= 0) {
            throw new IllegalArgumentException("--rate, --threads, --consumers, --sample-s and --duration-s must be "
                    + "positive");
        }

        System.out.printf(Locale.ROOT, "SoakBench: %d s, %d short-lived clients/s (confirm, %d threads), %d consumers "
                + "(prefetch %d), Warren %s:%d (pid %d), broker %s:%d (node %s), sample every %d s, warm-up %d s, "
                + "%d CPUs, %s, start %s%n", durationS, rate, threads, consumers, prefetch, warrenHost, warrenPort,
                warrenPid, brokerHost, brokerPort, brokerNode, sampleS, warmupS,
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.version"), Instant.now());

        Counters c = new Counters();
        ConnectionFactory direct = ThroughputBench.factory(brokerHost, brokerPort, user, password);
        ExecutorService consumerPool = Executors.newFixedThreadPool(2, daemon("soak-consumer"));
        List<Connection> consumerConnections = new ArrayList<>();
        ThreadPoolExecutor clients = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), daemon("soak-client"));
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(daemon("soak-ticker"));
        boolean ok;
        try (Connection admin = direct.newConnection("soak-admin")) {
            Channel adminCh = admin.createChannel();
            adminCh.queueDeclare(QUEUE, false, false, false, null);
            adminCh.queuePurge(QUEUE);

            ConnectionFactory viaWarren = ThroughputBench.factory(warrenHost, warrenPort, user, password);
            viaWarren.setSharedExecutor(consumerPool);
            for (int i = 0; i < consumers; i++) {
                consumerConnections.add(startConsumer(viaWarren, i, prefetch, c));
            }

            RawClient raw = new RawClient(new InetSocketAddress(warrenHost, warrenPort), user, password);
            Sampler sampler = new Sampler(warrenPid, brokerPid, warrenHttp, brokerNode, c, clients);
            List<Sample> samples = new ArrayList<>();
            System.out.println(Sample.HEADER);
            Sample idle = sampler.sample(0);
            System.out.println(idle.row() + "   (before the first client: consumers connected)");
            sampler.startInterval();
            long startNanos = System.nanoTime();
            long periodNanos = 1_000_000_000L / rate;
            ticker.scheduleAtFixedRate(() -> clients.execute(() -> shortLivedClient(raw, c)), 0, periodNanos,
                    TimeUnit.NANOSECONDS);
            long endNanos = startNanos + durationS * 1_000_000_000L;
            long next = startNanos + sampleS * 1_000_000_000L;
            while (next <= endNanos) {
                sleepUntil(next);
                Sample s = sampler.sample((System.nanoTime() - startNanos) / 1e9);
                samples.add(s);
                System.out.println(s.row());
                next += sampleS * 1_000_000_000L;
            }
            sleepUntil(endNanos);
            ticker.shutdownNow();
            long ticks = c.ticks.get();
            clients.shutdown();
            boolean finished = clients.awaitTermination(60, TimeUnit.SECONDS);
            double elapsed = (System.nanoTime() - startNanos) / 1e9;

            // Drain: every confirmed message must reach a consumer.
            long drainEnd = System.nanoTime() + drainS * 1_000_000_000L;
            while (missing(c) > 0 && System.nanoTime() < drainEnd) {
                Thread.sleep(200);
            }
            Thread.sleep(1000); // late duplicates or deliveries of unconfirmed messages
            long depth = adminCh.queueDeclarePassive(QUEUE).getMessageCount();
            Sample last = sampler.sample((System.nanoTime() - startNanos) / 1e9);
            System.out.println(last.row() + "   (after the clients stopped and the queue drained)");
            // Optional: watch Warren with only the consumers connected (idle pooled channels expire).
            long lingerEnd = System.nanoTime() + lingerS * 1_000_000_000L;
            while (System.nanoTime() + sampleS * 1_000_000_000L <= lingerEnd) {
                Thread.sleep(sampleS * 1000L);
                System.out.println(sampler.sample((System.nanoTime() - startNanos) / 1e9).row() + "   (linger)");
            }

            ok = verdict(samples, last, c, warmupS, durationS, rate, ticks, finished, elapsed, depth);
            for (Connection conn : consumerConnections) {
                conn.close();
            }
            consumerConnections.clear();
            Thread.sleep(500);
            if (c.consumerErrors.get() > 0) {
                ok = false;
            }
            adminCh.queueDelete(QUEUE);
        } finally {
            ticker.shutdownNow();
            clients.shutdownNow();
            for (Connection conn : consumerConnections) {
                try {
                    conn.abort();
                } catch (RuntimeException e) {
                    System.err.println("closing a consumer: " + e);
                }
            }
            consumerPool.shutdownNow();
        }
        System.exit(ok ? 0 : 1);
    }

    /** What the clients and consumers did, cumulative. */
    static final class Counters {
        final AtomicLong ticks = new AtomicLong();
        final AtomicLong nextId = new AtomicLong();
        final AtomicLong started = new AtomicLong();
        final AtomicLong completed = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final AtomicLong consumerErrors = new AtomicLong();
        final AtomicLong duplicates = new AtomicLong();
        final AtomicLong unknownDeliveries = new AtomicLong();
        final Set<Long> confirmed = ConcurrentHashMap.newKeySet();
        final Set<Long> consumed = ConcurrentHashMap.newKeySet();
        final ConcurrentLinkedQueue<String> firstErrors = new ConcurrentLinkedQueue<>();
        /** Client wall times (connect to close-ok) in microseconds since the last sample. */
        final ConcurrentLinkedQueue<Long> latencyMicros = new ConcurrentLinkedQueue<>();

        void error(String what) {
            if (firstErrors.size() < 20) {
                firstErrors.add(Instant.now() + " " + what);
                System.out.println("ERROR " + Instant.now() + " " + what);
            }
        }
    }

    private static void shortLivedClient(RawClient raw, Counters c) {
        c.ticks.incrementAndGet();
        long id = c.nextId.incrementAndGet();
        byte[] body = ("soak " + id).getBytes(StandardCharsets.US_ASCII);
        long t0 = System.nanoTime();
        c.started.incrementAndGet();
        try {
            long end = raw.publishConfirmed("", QUEUE, body, () -> c.confirmed.add(id));
            c.latencyMicros.add((end - t0) / 1000);
            c.completed.incrementAndGet();
        } catch (IOException | RuntimeException e) {
            c.errors.incrementAndGet();
            c.error("client " + id + ": " + e);
        }
    }

    private static Connection startConsumer(ConnectionFactory f, int n, int prefetch, Counters c) throws Exception {
        Connection conn = f.newConnection("soak-consumer-" + n);
        conn.addShutdownListener(e -> {
            if (!e.isInitiatedByApplication()) {
                c.consumerErrors.incrementAndGet();
                c.error("consumer " + n + " connection closed: " + e.getMessage());
            }
        });
        Channel ch = conn.createChannel();
        ch.basicQos(prefetch);
        ch.addShutdownListener(e -> {
            if (!e.isInitiatedByApplication()) {
                c.consumerErrors.incrementAndGet();
                c.error("consumer " + n + " channel closed: " + e.getMessage());
            }
        });
        ch.basicConsume(QUEUE, false, "soak-" + n, new DefaultConsumer(ch) {
            @Override
            public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body)
                    throws IOException {
                String text = new String(body, StandardCharsets.US_ASCII);
                try {
                    long id = Long.parseLong(text.substring(text.indexOf(' ') + 1));
                    if (!c.consumed.add(id)) {
                        c.duplicates.incrementAndGet();
                    }
                } catch (RuntimeException e) {
                    c.unknownDeliveries.incrementAndGet();
                }
                getChannel().basicAck(env.getDeliveryTag(), false);
            }

            @Override
            public void handleCancel(String consumerTag) {
                c.consumerErrors.incrementAndGet();
                c.error("consumer " + n + " cancelled by the broker");
            }
        });
        return conn;
    }

    private static long missing(Counters c) {
        long n = 0;
        for (Long id : c.confirmed) {
            if (!c.consumed.contains(id)) {
                n++;
            }
        }
        return n;
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long d;
        while ((d = nanoTime - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(d);
        }
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** One row of the table; -1 where a value could not be read (that source was not configured or failed). */
    record Sample(double t, long clients, double rate, long backlog, long errors, double p50Ms, double p99Ms,
            long published, long confirmed, long consumed, long heapKib, long rssKib, long fds, double warrenCpu,
            double brokerCpu, double benchCpu, long brokerUpstream, long brokerTotal, long wClients, long wUpstream,
            long wUpstreamChannels, long wIdleChannels, String load) {
        static final String HEADER = String.format(Locale.ROOT,
                "%6s %8s %6s %7s %6s %7s %7s %8s %8s %8s %8s %8s %5s %6s %6s %6s %5s %5s %5s %5s %6s %5s  %s",
                "t s", "clients", "/s", "backlog", "errors", "p50 ms", "p99 ms", "publish", "confirm", "consumed",
                "heap KiB", "RSS KiB", "fds", "W cpu%", "R cpu%", "B cpu%", "up", "conns", "W cl", "W up", "W upch",
                "W idl", "load");

        String row() {
            return String.format(Locale.ROOT,
                    "%6.0f %8d %6.1f %7d %6d %7.1f %7.1f %8d %8d %8d %8d %8d %5d %6.1f %6.1f %6.1f %5d %5d %5d %5d %6d"
                    + " %5d  %s",
                    t, clients, rate, backlog, errors, p50Ms, p99Ms, published, confirmed, consumed, heapKib, rssKib,
                    fds, warrenCpu, brokerCpu, benchCpu, brokerUpstream, brokerTotal, wClients, wUpstream,
                    wUpstreamChannels, wIdleChannels, load);
        }
    }

    /** Reads everything a sample shows; CPU and rates are over the interval since the previous sample. */
    static final class Sampler {
        private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");
        private final long pid;
        private final long brokerPid;
        private final int http;
        private final String node;
        private final Counters c;
        private final ThreadPoolExecutor clients;
        private final HttpClient httpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        private final long selfPid = ProcessHandle.current().pid();
        private long lastNanos;
        private long lastCompleted;
        private long lastWarrenTicks;
        private long lastBrokerTicks;
        private long lastBenchTicks;

        Sampler(long pid, long brokerPid, int http, String node, Counters c, ThreadPoolExecutor clients) {
            this.pid = pid;
            this.brokerPid = brokerPid;
            this.http = http;
            this.node = node;
            this.c = c;
            this.clients = clients;
            startInterval();
        }

        /** The next sample's rates and CPU are over the time from now. */
        void startInterval() {
            lastNanos = System.nanoTime();
            lastCompleted = c.completed.get();
            lastWarrenTicks = pid > 0 ? cpuTicks(pid) : 0;
            lastBrokerTicks = brokerPid > 0 ? cpuTicks(brokerPid) : 0;
            lastBenchTicks = cpuTicks(selfPid);
        }

        Sample sample(double t) {
            // the counters first, together: the process samples below take seconds (jcmd, rabbitmqctl)
            long now = System.nanoTime();
            long completed = c.completed.get();
            long errors = c.errors.get();
            long started = c.started.get();
            long confirmed = c.confirmed.size();
            long consumed = c.consumed.size();
            long backlog = clients.getQueue().size();
            long warrenTicks = pid > 0 ? cpuTicks(pid) : 0;
            long brokerTicks = brokerPid > 0 ? cpuTicks(brokerPid) : 0;
            long benchTicks = cpuTicks(selfPid);
            double dt = (now - lastNanos) / 1e9;
            boolean interval = dt >= 1; // the first sample has no interval behind it
            double rate = interval ? (completed - lastCompleted) / dt : -1;
            List<Long> lat = new ArrayList<>();
            Long v;
            while ((v = c.latencyMicros.poll()) != null) {
                lat.add(v);
            }
            double[] ms = lat.stream().mapToDouble(x -> x / 1000.0).toArray();
            Stats st = ms.length == 0 ? null : Stats.of(ms);
            // /proc/PID/stat counts in clock ticks, 100 per second on Linux: ticks / s = percent of one CPU
            double warrenCpu = pid > 0 && interval ? (warrenTicks - lastWarrenTicks) / dt : -1;
            double brokerCpu = brokerPid > 0 && interval ? (brokerTicks - lastBrokerTicks) / dt : -1;
            double benchCpu = interval ? (benchTicks - lastBenchTicks) / dt : -1;
            lastNanos = now;
            lastCompleted = completed;
            lastWarrenTicks = warrenTicks;
            lastBrokerTicks = brokerTicks;
            lastBenchTicks = benchTicks;

            long heap = pid > 0 ? heapAfterGc() : -1;
            long rss = pid > 0 ? rssKib() : -1;
            long fds = pid > 0 ? fds() : -1;
            long[] conns = node != null ? brokerConnections() : new long[] {-1, -1};
            String metrics = http > 0 ? warrenMetrics() : "";
            String load;
            try {
                String[] l = Files.readString(Path.of("/proc/loadavg")).split(" ");
                load = l[0];
            } catch (IOException e) {
                load = "?";
            }
            return new Sample(t, completed, rate, backlog, errors, st == null ? -1 : st.p50(),
                    st == null ? -1 : st.p99(), started, confirmed, consumed, heap, rss, fds, warrenCpu, brokerCpu,
                    benchCpu, conns[0], conns[1],
                    gauge(metrics, "warren_client_connections"), gauge(metrics, "warren_upstream_connections"),
                    gauge(metrics, "warren_upstream_channels"), gauge(metrics, "warren_pooled_idle_channels"), load);
        }

        private static long cpuTicks(long pid) {
            try {
                String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
                String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
                return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
            } catch (IOException | RuntimeException e) {
                return 0;
            }
        }

        /** Heap used after a full GC, in KiB: one jcmd run (one attach) with both commands. */
        private long heapAfterGc() {
            try {
                Path cmds = Files.createTempFile("soak-jcmd", ".txt");
                try {
                    Files.writeString(cmds, "GC.run\nGC.heap_info\n");
                    String out = run(List.of("jcmd", Long.toString(pid), "-f", cmds.toString()));
                    long used = 0;
                    boolean any = false;
                    for (String line : out.split("\n")) {
                        // Serial/Parallel: one line per generation; G1: one "garbage-first heap" line
                        if (line.contains("generation") || line.contains("garbage-first heap")) {
                            Matcher m = HEAP_USED.matcher(line);
                            if (m.find()) {
                                used += Long.parseLong(m.group(1));
                                any = true;
                            }
                        }
                    }
                    return any ? used : -1;
                } finally {
                    Files.deleteIfExists(cmds);
                }
            } catch (IOException e) {
                return -1;
            }
        }

        private long rssKib() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", ""));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // below
            }
            return -1;
        }

        private long fds() {
            String[] names = new java.io.File("/proc/" + pid + "/fd").list();
            return names == null ? -1 : names.length;
        }

        /** {Warren's upstream connections (client property product "Warren"), all connections} on the broker. */
        private long[] brokerConnections() {
            try {
                String out = run(List.of("rabbitmqctl", "-n", node, "-q", "list_connections", "--no-table-headers",
                        "client_properties"));
                long warren = 0;
                long all = 0;
                for (String line : out.split("\n")) {
                    if (line.isBlank()) {
                        continue;
                    }
                    all++;
                    if (line.contains("\"Warren\"")) {
                        warren++;
                    }
                }
                return new long[] {warren, all};
            } catch (IOException e) {
                return new long[] {-1, -1};
            }
        }

        private String warrenMetrics() {
            try {
                HttpResponse<String> r = httpClient.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + http + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200 ? r.body() : "";
            } catch (IOException e) {
                return "";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "";
            }
        }

        private static long gauge(String metrics, String name) {
            for (String line : metrics.split("\n")) {
                if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                    return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            return -1;
        }

        private static String run(List<String> command) throws IOException {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            try {
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IOException(command + " failed: " + out);
                }
                return out;
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
    }

    /** Prints the verdict; true when every criterion holds. */
    private static boolean verdict(List<Sample> samples, Sample last, Counters c, int warmupS, int durationS,
            int rate, long ticks, boolean finished, double elapsed, long depth) {
        System.out.println();
        List<Sample> steady = samples.stream().filter(s -> s.t() >= warmupS).toList();
        boolean ok = true;
        long clientsDone = c.completed.get() + c.errors.get();
        double achieved = clientsDone / elapsed;
        System.out.printf(Locale.ROOT, "load: %d clients in %.0f s = %.1f/s (target %d/s, %d ticks scheduled, "
                + "%d%s)%n", clientsDone, elapsed, achieved, rate, ticks,
                c.started.get(), finished ? ", all finished" : ", NOT all finished within 60 s after the end");
        boolean sustained = achieved >= 0.95 * rate && finished;
        System.out.printf(Locale.ROOT, "  load generator sustained >= 95 %% of the target rate: %s%n",
                sustained ? "yes" : "NO");
        System.out.printf(Locale.ROOT, "client errors: %d%s%n", c.errors.get(),
                c.errors.get() == 0 ? "" : "  <-- FAIL");
        ok &= c.errors.get() == 0;
        System.out.printf(Locale.ROOT, "consumer errors: %d%s%n", c.consumerErrors.get(),
                c.consumerErrors.get() == 0 ? "" : "  <-- FAIL");
        ok &= c.consumerErrors.get() == 0;
        for (String e : c.firstErrors) {
            System.out.println("  " + e);
        }
        long missing = missing(c);
        System.out.printf(Locale.ROOT, "messages: published %d, confirmed %d, consumed %d (duplicates %d, unparsable "
                + "%d), confirmed but not consumed %d%s, queue depth at the end %d%n", c.started.get(),
                c.confirmed.size(), c.consumed.size(), c.duplicates.get(), c.unknownDeliveries.get(), missing,
                missing == 0 ? "" : "  <-- FAIL", depth);
        ok &= missing == 0 && c.unknownDeliveries.get() == 0;
        if (steady.size() < 3) {
            System.out.println("flatness: fewer than 3 samples after the warm-up, not judged  <-- FAIL");
            return false;
        }
        int third = steady.size() / 3;
        List<Sample> first = steady.subList(0, third);
        List<Sample> lastThird = steady.subList(steady.size() - third, steady.size());
        System.out.printf(Locale.ROOT, "flatness over the %d samples from t >= %d s: first third t %.0f-%.0f s vs last "
                + "third t %.0f-%.0f s (flat: last median <= 1.2 x first median + slack, last max <= 1.2 x first max "
                + "+ slack)%n", steady.size(), warmupS, first.get(0).t(), first.get(first.size() - 1).t(),
                lastThird.get(0).t(), lastThird.get(lastThird.size() - 1).t());
        ok &= flat("heap after GC KiB", first, lastThird, Sample::heapKib, 2048);
        ok &= flat("open fds", first, lastThird, Sample::fds, 10);
        ok &= flat("broker: Warren's upstream connections", first, lastThird, Sample::brokerUpstream, 2);
        flat("(info) RSS KiB", first, lastThird, Sample::rssKib, 16384);
        flat("(info) Warren upstream channels", first, lastThird, Sample::wUpstreamChannels, 10);
        System.out.printf(Locale.ROOT, "after the drain: heap %d KiB, fds %d, Warren upstream connections %d (Warren's "
                + "gauge %d), upstream channels %d, idle pooled channels %d, client connections %d%n", last.heapKib(),
                last.fds(), last.brokerUpstream(), last.wUpstream(), last.wUpstreamChannels(), last.wIdleChannels(),
                last.wClients());
        System.out.println("VERDICT: " + (ok ? "PASS" : "FAIL") + (sustained ? "" : " (load below target, see above)"));
        return ok;
    }

    private static boolean flat(String what, List<Sample> first, List<Sample> last,
            java.util.function.ToLongFunction<Sample> f, long slack) {
        long[] a = first.stream().mapToLong(f).toArray();
        long[] b = last.stream().mapToLong(f).toArray();
        if (Arrays.stream(a).anyMatch(x -> x < 0) || Arrays.stream(b).anyMatch(x -> x < 0)) {
            System.out.printf(Locale.ROOT, "  %-40s not sampled (or a sample failed)%s%n", what,
                    what.startsWith("(info)") ? "" : "  <-- FAIL");
            return false;
        }
        double ma = Stats.median(Arrays.stream(a).asDoubleStream().toArray());
        double mb = Stats.median(Arrays.stream(b).asDoubleStream().toArray());
        long xa = Arrays.stream(a).max().orElse(0);
        long xb = Arrays.stream(b).max().orElse(0);
        boolean ok = mb <= 1.2 * ma + slack && xb <= 1.2 * xa + slack;
        System.out.printf(Locale.ROOT, "  %-40s first third median %.0f max %d, last third median %.0f max %d: %s%n",
                what, ma, xa, mb, xb, ok ? "flat" : "GROWING" + (what.startsWith("(info)") ? "" : "  <-- FAIL"));
        return ok;
    }
}
