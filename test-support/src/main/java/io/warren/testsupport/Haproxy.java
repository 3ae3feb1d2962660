package io.warren.testsupport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real HAProxy (Debian's {@code haproxy}, {@code /usr/sbin/haproxy}) in TCP mode in front of Warren, started as a
 * child process in the foreground with a generated configuration; one frontend per route, each on a port of its own
 * on 127.0.0.1, whose server line sends a PROXY header ({@code send-proxy} for v1, {@code send-proxy-v2} for v2) and
 * connects from 127.0.0.1. Ended by its pid on {@link #close()}.
 */
public final class Haproxy implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/sbin/haproxy");

    /** One frontend: HAProxy listens on a port of its own and relays to {@code target} with {@code serverOptions}. */
    public record Route(String name, InetSocketAddress target, String serverOptions) {}

    private final Process process;
    private final Map<String, Integer> ports;
    private final Path log;

    private Haproxy(Process process, Map<String, Integer> ports, Path log) {
        this.process = process;
        this.ports = ports;
        this.log = log;
    }

    public static Haproxy start(Path dir, Route... routes) throws IOException, InterruptedException {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException(BINARY + " is missing: apt-get install haproxy (.ci/run does)");
        }
        Map<String, Integer> ports = new LinkedHashMap<>();
        StringBuilder cfg = new StringBuilder("""
                global
                    maxconn 200
                defaults
                    mode tcp
                    timeout connect 5s
                    timeout client 60s
                    timeout server 60s
                """);
        for (Route r : routes) {
            int port = PortFinder.freePort();
            ports.put(r.name(), port);
            cfg.append("frontend fe_").append(r.name()).append('\n')
                    .append("    bind 127.0.0.1:").append(port).append('\n')
                    .append("    default_backend be_").append(r.name()).append('\n')
                    .append("backend be_").append(r.name()).append('\n')
                    .append("    server s1 ").append(r.target().getHostString()).append(':')
                    .append(r.target().getPort()).append(' ').append(r.serverOptions()).append(" source 127.0.0.1\n");
        }
        Path config = dir.resolve("haproxy.cfg");
        Files.writeString(config, cfg);
        Path log = dir.resolve("haproxy.log");
        Process p = new ProcessBuilder(BINARY.toString(), "-db", "-f", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Haproxy h = new Haproxy(p, ports, log);
        try {
            h.awaitListening();
        } catch (IOException | RuntimeException | InterruptedException e) {
            h.close();
            throw e;
        }
        return h;
    }

    /** Where clients connect for {@code route}. */
    public InetSocketAddress address(String route) {
        return new InetSocketAddress("127.0.0.1", ports.get(route));
    }

    private void awaitListening() throws IOException, InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        for (int port : ports.values()) {
            while (true) {
                if (!process.isAlive()) {
                    throw new IOException("haproxy exited with " + process.exitValue() + ": " + Files.readString(log));
                }
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                    break; // closed at once: Warren sees haproxy's connection end before any byte
                } catch (IOException notYet) {
                    if (Instant.now().isAfter(deadline)) {
                        throw new IOException("haproxy does not listen on " + port + ": " + Files.readString(log));
                    }
                    Thread.sleep(50);
                }
            }
        }
    }

    @Override
    public void close() {
        process.destroy(); // SIGTERM to this child's pid only
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
