package io.warren.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Runs short-lived publishers one after the other against a port: each connects, opens a channel, publishes one
 * message to {@code queue}, closes the channel and the connection. Three clients:
 *
 * <ul>
 *   <li>{@code raw}: {@link RawClient}, the protocol's round trips and nothing else (tune-ok and open in one write,
 *       publish and channel.close in one write);</li>
 *   <li>{@code php}: {@code scripts/php-publisher.php}, php-amqplib in one PHP process (as a PHP-FPM worker),
 *       which writes every method on its own (8 writes per client);</li>
 *   <li>{@code java}: the RabbitMQ Java client (shared executor, recovery off), which starts a reader thread per
 *       connection.</li>
 * </ul>
 */
final class ShortLivedClients implements AutoCloseable {
    static final List<String> KINDS = List.of("raw", "php", "java");
    private static final byte[] BODY = "short-lived client says hello".getBytes(StandardCharsets.US_ASCII);

    private final String kind;
    private final Path phpScript;
    private final ExecutorService shared = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "short-lived-java-client");
        t.setDaemon(true);
        return t;
    });

    ShortLivedClients(String kind, Path phpScript) {
        if (!KINDS.contains(kind)) {
            throw new IllegalArgumentException("client must be one of " + KINDS + ", not " + kind);
        }
        if (kind.equals("php") && !Files.isReadable(phpScript)) {
            throw new IllegalArgumentException("PHP client script not found: " + phpScript
                    + " (run from the repository root, or give --php-script)");
        }
        this.kind = kind;
        this.phpScript = phpScript;
    }

    String kind() {
        return kind;
    }

    /** Where the PHP client is: beside the jar in a build tree ({@code proxy-bench/target/../scripts}). */
    static Path defaultPhpScript() {
        try {
            Path jar = ProxyProcess.benchJar();
            Path beside = jar.getParent().resolveSibling("scripts").resolve("php-publisher.php");
            if (Files.isReadable(beside)) {
                return beside;
            }
        } catch (Exception ignored) {
            // fall back to the working directory
        }
        return Path.of("proxy-bench/scripts/php-publisher.php");
    }

    /**
     * Runs {@code n} clients one after the other against {@code 127.0.0.1:port}.
     *
     * @return each client's wall time in ms (connect to close-ok)
     */
    double[] run(int port, int n, String queue) throws Exception {
        double[] ms = new double[n];
        switch (kind) {
            case "raw" -> {
                RawClient raw = new RawClient(new InetSocketAddress("127.0.0.1", port), "guest", "guest");
                for (int i = 0; i < n; i++) {
                    long t0 = System.nanoTime();
                    long end = raw.publishOnce("", queue, BODY);
                    ms[i] = (end - t0) / 1e6;
                }
            }
            case "java" -> {
                ConnectionFactory f = ThroughputBench.factory("127.0.0.1", port, "guest", "guest");
                f.setSharedExecutor(shared);
                for (int i = 0; i < n; i++) {
                    long t0 = System.nanoTime();
                    try (Connection c = f.newConnection()) {
                        Channel ch = c.createChannel();
                        ch.basicPublish("", queue, null, BODY);
                        ch.close();
                    }
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
            }
            default -> runPhp(port, n, queue, ms);
        }
        return ms;
    }

    private void runPhp(int port, int n, String queue, double[] ms) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("php", phpScript.toString(), Integer.toString(port), Integer.toString(n), queue)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<String> lines = new ArrayList<>(n);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.US_ASCII))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
            }
        }
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0 || lines.size() != n) {
            throw new IOException("the PHP client failed (exit " + (p.isAlive() ? "none" : p.exitValue()) + ", "
                    + lines.size() + " of " + n + " clients done)");
        }
        for (int i = 0; i < n; i++) {
            ms[i] = Double.parseDouble(lines.get(i));
        }
    }

    @Override
    public void close() {
        shared.shutdownNow();
    }
}
