package io.warren.launcher;

import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * bin/warren of a distribution, run as an operator runs it: a child process with its own environment, talked to over
 * its ports and stopped with signals. Its stdout and stderr are collected together.
 */
final class WarrenProcess implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final Process process;
    /** stdout and stderr of the process (a file: reading a pipe races with the JDK closing it at exit). */
    private final Path output;

    private WarrenProcess(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    /** The distribution unpacked by the build (target/warren). */
    static Path dist() {
        return Path.of(System.getProperty("warren.dist", "target/warren")).toAbsolutePath();
    }

    static WarrenProcess start(Path dist, Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>();
        command.add(dist.resolve("bin/warren").toString());
        command.addAll(List.of(args));
        return start(command, env);
    }

    /** bin/warren with its soft and hard file-descriptor limits set to {@code limit} first ({@code ulimit -n}). */
    static WarrenProcess startWithFileLimit(int limit, Map<String, String> env, String... args) {
        return startAfter("ulimit -n " + limit, env, args);
    }

    /** bin/warren started with {@code signal} (e.g. INT) ignored, as a script's background job starts. */
    static WarrenProcess startIgnoring(String signal, Map<String, String> env, String... args) {
        return startAfter("trap '' " + signal, env, args);
    }

    /** bin/warren exec'd by a shell after {@code prelude}. */
    private static WarrenProcess startAfter(String prelude, Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of("sh", "-c", prelude + " && exec \"$0\" \"$@\"",
                dist().resolve("bin/warren").toString()));
        command.addAll(List.of(args));
        return start(command, env);
    }

    /** Any command that execs Warren in the end (setpriv, a chroot...), as the other starts run bin/warren. */
    static WarrenProcess start(List<String> command, Map<String, String> env) {
        Path log;
        try {
            log = Files.createTempFile("warren-", ".log");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        log.toFile().deleteOnExit();
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        // An operator's environment, not the test JVM's WARREN_* (or JAVA_OPTS) leaking in. bin/warren runs the
        // distribution's own runtime (DistributionIT checks that neither JAVA_HOME nor the PATH's java is used).
        pb.environment().keySet().removeIf(k -> k.startsWith("WARREN_") || k.equals("JAVA_OPTS"));
        pb.environment().putAll(env);
        try {
            return new WarrenProcess(pb.start(), log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static WarrenProcess start(Map<String, String> env, String... args) {
        return start(dist(), env, args);
    }

    /** Runs to completion (a command that exits by itself). */
    static WarrenProcess run(Map<String, String> env, String... args) {
        WarrenProcess p = start(env, args);
        try {
            p.awaitExit(Duration.ofSeconds(30));
        } catch (AssertionError stillRunning) {
            p.close(); // a daemon that should have exited is not left behind by a failing test
            throw stillRunning;
        }
        return p;
    }

    String output() {
        try {
            return Files.readString(output, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    long pid() {
        return process.pid();
    }

    /** The descriptors the process holds now, counted in /proc (the JVM is the process started: bin/warren execs it). */
    long openFiles() {
        try (Stream<Path> files = Files.list(Path.of("/proc/" + process.pid() + "/fd"))) {
            return files.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for a line containing {@code text}; fails with the output so far. */
    void awaitOutput(String text, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!output().contains(text)) {
            if (System.nanoTime() > deadline || (!process.isAlive() && !output().contains(text))) {
                throw new AssertionError("no '" + text + "' in the output of warren:\n" + output());
            }
            sleep(20);
        }
    }

    /** SIGTERM, as systemd or docker stop sends it. */
    void terminate() {
        process.destroy();
    }

    void signal(String name) {
        try {
            new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The exit code; fails if the process is still running after {@code timeout}. */
    int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("warren still running after " + timeout + ":\n" + output());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return process.exitValue();
    }

    int exitCode() {
        return awaitExit(Duration.ofSeconds(30));
    }

    boolean isAlive() {
        return process.isAlive();
    }

    static HttpResponse<String> get(int port, String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** amqp-client pointed at a Warren on loopback {@code port}: no automatic recovery (tests observe failures). */
    static ConnectionFactory client(int port, String user, String password) {
        ConnectionFactory cf = new ConnectionFactory();
        cf.setHost("127.0.0.1");
        cf.setPort(port);
        cf.setUsername(user);
        cf.setPassword(password);
        cf.setAutomaticRecoveryEnabled(false);
        cf.setConnectionTimeout(10_000);
        return cf;
    }

    /** The value of one sample line of a Prometheus text exposition, e.g. {@code warren_client_connections}. */
    static double sample(String metrics, String series) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).strip());
            }
        }
        throw new AssertionError("no sample " + series + " in\n" + metrics);
    }

    static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
