package io.warren.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A proxy in front of the broker, running as its own process so that its CPU time can be read from {@code /proc}:
 * the Warren daemon of a distribution, or a plain TCP relay ({@code socat} with a child per connection, or
 * {@code haproxy} in TCP mode, one event-driven process), the floor a proxy of bytes costs. Started on a free
 * loopback port; {@link #close} sends SIGTERM and waits.
 */
final class ProxyProcess implements AutoCloseable {
    private final String name;
    private final Process process;
    private final int port;
    private final ProcessCpu cpu;
    private final Path log;

    private ProxyProcess(String name, Process process, int port, boolean forks, Path log) {
        this.name = name;
        this.process = process;
        this.port = port;
        this.cpu = new ProcessCpu(process.pid(), forks);
        this.log = log;
    }

    String name() {
        return name;
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    ProcessCpu cpu() {
        return cpu;
    }

    Path log() {
        return log;
    }

    /**
     * The Warren daemon of the distribution in {@code home} ({@code bin/warren}, its default JVM options and CDS
     * archive), HTTP off, listening on a free port, upstream the broker.
     *
     * @param javaHome   the runtime (null: bin/warren's default, java on the PATH)
     * @param javaOpts   added after bin/warren's defaults (so they win); may be empty
     * @param warrenArgs more options for Warren, e.g. {@code --scrub-wait 0}
     */
    static ProxyProcess warren(String name, Path home, String javaHome, String javaOpts, List<String> warrenArgs,
            String upstreamHost, int upstreamPort, Path logDir) throws IOException, InterruptedException {
        int port = freePort();
        List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/warren").toString(), "--config", "/dev/null",
                "--listen", "127.0.0.1:" + port, "--http", "off"));
        cmd.addAll(warrenArgs);
        cmd.add("amqp://" + upstreamHost + ":" + upstreamPort);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("WARREN_"));
        env.put("JAVA_OPTS", javaOpts == null ? "" : javaOpts);
        if (javaHome != null && !javaHome.isEmpty()) {
            env.put("JAVA_HOME", javaHome);
        }
        return started(name, pb, port, false, logDir);
    }

    /**
     * The {@link CannedResponder} in a JVM of its own: {@code java} of the distribution in {@code warrenHome} (the
     * runtime Warren runs on) when it bundles one, else the bench's own; this jar as its class path.
     */
    static ProxyProcess responder(Path warrenHome, Path logDir) throws IOException, InterruptedException {
        int port = freePort();
        Path bundled = warrenHome.resolve("runtime/bin/java");
        String java = Files.isExecutable(bundled) ? bundled.toString()
                : Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx64m", "-cp", benchJar().toString(),
                CannedResponder.class.getName(), "--port", Integer.toString(port));
        return started("responder", pb, port, false, logDir);
    }

    /** Where the bench's classes are: {@code proxy-bench/target/benchmarks.jar} (or its classes folder in a build). */
    static Path benchJar() throws IOException {
        try {
            return Path.of(ProxyProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IOException("cannot locate the bench's jar", e);
        }
    }

    /** {@code socat} forking a child per connection, TCP_NODELAY on both sides (as Warren sets it). */
    static ProxyProcess socat(String upstreamHost, int upstreamPort, Path logDir)
            throws IOException, InterruptedException {
        int port = freePort();
        ProcessBuilder pb = new ProcessBuilder("socat",
                "TCP-LISTEN:" + port + ",bind=127.0.0.1,reuseaddr,fork,backlog=4096,nodelay",
                "TCP:" + upstreamHost + ":" + upstreamPort + ",nodelay");
        return started("socat", pb, port, true, logDir);
    }

    /**
     * {@code haproxy} in TCP mode (epoll, one process, its default of a thread per CPU), no logging, no health
     * checks, no timeouts that would cut idle held clients. At least {@code maxconn} connections at once (9,000 or
     * more): a storm larger than haproxy's limit would wait in its queue forever. haproxy raises its own file limit to
     * two descriptors per connection, and exits naming the limit when the hard limit it inherits is lower.
     */
    static ProxyProcess haproxy(String upstreamHost, int upstreamPort, int maxconn, Path logDir)
            throws IOException, InterruptedException {
        int port = freePort();
        Path cfg = logDir.resolve("haproxy-" + port + ".cfg");
        Files.writeString(cfg, String.join("\n",
                "global",
                "    maxconn " + Math.max(9000, maxconn),
                "defaults",
                "    mode tcp",
                "    timeout connect 10s",
                "    timeout client 1h",
                "    timeout server 1h",
                "listen amqp",
                "    bind 127.0.0.1:" + port,
                "    option tcp-smart-accept",
                "    server broker " + upstreamHost + ":" + upstreamPort,
                ""), StandardCharsets.UTF_8);
        ProcessBuilder pb = new ProcessBuilder("haproxy", "-db", "-f", cfg.toString());
        return started("haproxy", pb, port, false, logDir);
    }

    private static ProxyProcess started(String name, ProcessBuilder pb, int port, boolean forks, Path logDir)
            throws IOException, InterruptedException {
        Files.createDirectories(logDir);
        Path log = logDir.resolve(name + "-" + port + ".log");
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            if (!p.isAlive()) {
                throw new IOException(name + " exited with " + p.exitValue() + ": " + Files.readString(log));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                break;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    p.destroyForcibly();
                    throw new IOException(name + " did not listen on " + port + " within 60 s: "
                            + Files.readString(log));
                }
                Thread.sleep(20);
            }
        }
        return new ProxyProcess(name, p, port, forks, log);
    }

    /** Waits until a forking relay has no child left (every relayed connection ended and was reaped). */
    void awaitNoChildren(long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (cpu.childCount() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy(); // SIGTERM: Warren drains and exits 0; the relays exit
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public String toString() {
        return name + " (pid " + pid() + ", port " + port + ")";
    }
}
