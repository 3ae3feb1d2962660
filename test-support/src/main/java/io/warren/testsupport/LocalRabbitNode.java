package io.warren.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A private RabbitMQ node started from the installed rabbitmq-server: its own temp dir
 * ({@code <tmp>/warren-rabbit-<jvm pid>-*}), node name, loopback ports, enabled_plugins and config.
 */
final class LocalRabbitNode extends AbstractBroker {

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final long JVM_PID = ProcessHandle.current().pid();
    static final String DIR_PREFIX = "warren-rabbit-";
    private static final Pattern PORT_PLACEHOLDER = Pattern.compile("\\$\\{port:([A-Za-z0-9_.-]+)}");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration CTL_TIMEOUT = Duration.ofSeconds(120);
    /** rabbitmqctl's default list_connections columns. */
    private static final List<String> DEFAULT_CONNECTION_COLUMNS = List.of("user", "peer_host", "peer_port", "state");

    private enum State { RUNNING, APP_STOPPED, DOWN }

    private final RabbitInstallation inst;
    private final NodeSpec spec;
    private final String nodeName;
    private final Path dir;
    private final Path logDir;
    private final Path pidFile;
    private final Path startupLog;
    private final int amqpPort;
    private final int distPort;
    private final Map<String, String> nodeEnv;
    private volatile State state = State.DOWN;
    private volatile long pid = -1;
    private volatile long launcherPid = -1;
    private volatile Duration lastStartTime = Duration.ZERO;
    private volatile String lastStartPhases = "";
    private volatile int startCount;

    private LocalRabbitNode(RabbitInstallation inst, NodeSpec spec) throws IOException {
        this.inst = inst;
        this.spec = spec;
        String shortName = "warren-test-" + JVM_PID + "-" + COUNTER.incrementAndGet();
        this.nodeName = shortName + "@localhost";
        Path tmp = Paths.get(System.getProperty("java.io.tmpdir"));
        this.dir = Files.createTempDirectory(tmp, DIR_PREFIX + JVM_PID + "-");
        this.logDir = dir.resolve("log");
        this.pidFile = dir.resolve(shortName + ".pid");
        this.startupLog = dir.resolve("startup.log");
        this.amqpPort = PortFinder.freePort();
        this.distPort = PortFinder.freePort();

        List<String> conf = new ArrayList<>();
        conf.add("# written by io.warren.testsupport for " + spec);
        conf.add("log.file.level = info");
        conf.add("log.console = false");
        Map<String, Integer> ports = new LinkedHashMap<>();
        pluginPort(conf, ports, "prometheus", "prometheus", "prometheus.tcp.port", "prometheus.tcp.ip = 127.0.0.1");
        pluginPort(conf, ports, "management", "management", "management.tcp.port", "management.tcp.ip = 127.0.0.1");
        pluginPort(conf, ports, "mqtt", "mqtt", "mqtt.listeners.tcp.default", null);
        pluginPort(conf, ports, "stomp", "stomp", "stomp.listeners.tcp.1", null);
        pluginPort(conf, ports, "web_stomp", "web_stomp", "web_stomp.tcp.port", "web_stomp.tcp.ip = 127.0.0.1");
        pluginPort(conf, ports, "web_mqtt", "web_mqtt", "web_mqtt.tcp.port", "web_mqtt.tcp.ip = 127.0.0.1");
        pluginPort(conf, ports, "rabbitmq_stream", "stream", "stream.listeners.tcp.default", null);
        for (String line : spec.conf()) {
            Matcher m = PORT_PLACEHOLDER.matcher(line);
            StringBuilder b = new StringBuilder();
            while (m.find()) {
                int port = ports.computeIfAbsent(m.group(1), k -> PortFinder.freePort());
                m.appendReplacement(b, Integer.toString(port));
            }
            m.appendTail(b);
            conf.add(b.toString());
        }
        this.namedPorts = Map.copyOf(ports);

        Files.createDirectories(dir.resolve("mnesia"));
        Files.createDirectories(logDir);
        Files.writeString(dir.resolve("rabbitmq.conf"), String.join("\n", conf) + "\n");
        Files.writeString(dir.resolve("enabled_plugins"), "[" + String.join(",", spec.plugins()) + "].\n");
        Files.writeString(dir.resolve("rabbitmq-env.conf"), "# empty: ignore the system-wide rabbitmq-env.conf\n");
        inst.chown(dir);

        Map<String, String> env = new LinkedHashMap<>();
        env.put("RABBITMQ_NODENAME", nodeName);
        env.put("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1");
        env.put("RABBITMQ_NODE_PORT", Integer.toString(amqpPort));
        env.put("RABBITMQ_DIST_PORT", Integer.toString(distPort));
        env.put("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1}");
        env.put("RABBITMQ_MNESIA_BASE", dir.resolve("mnesia").toString());
        env.put("RABBITMQ_LOG_BASE", logDir.toString());
        env.put("RABBITMQ_PID_FILE", pidFile.toString());
        env.put("RABBITMQ_ENABLED_PLUGINS_FILE", dir.resolve("enabled_plugins").toString());
        env.put("RABBITMQ_CONFIG_FILE", dir.resolve("rabbitmq.conf").toString());
        env.put("RABBITMQ_ADVANCED_CONFIG_FILE", dir.resolve("advanced.config").toString());
        env.put("RABBITMQ_CONF_ENV_FILE", dir.resolve("rabbitmq-env.conf").toString());
        this.nodeEnv = inst.env(env);
    }

    private void pluginPort(List<String> conf, Map<String, Integer> ports, String pluginToken, String name,
            String key, String extraLine) {
        if (!spec.hasPluginLike(pluginToken)) {
            return;
        }
        int port = PortFinder.freePort();
        ports.put(name, port);
        conf.add(key + " = " + port);
        if (extraLine != null) {
            conf.add(extraLine);
        }
    }

    static LocalRabbitNode start(RabbitInstallation inst, NodeSpec spec) {
        LocalRabbitNode node = prepare(inst, spec);
        try {
            node.start();
        } catch (RuntimeException e) {
            node.shutdown();
            throw e;
        }
        return node;
    }

    /** A node with its name, ports and directory, not started; {@link #shutdown()} deletes the directory. */
    static LocalRabbitNode prepare(RabbitInstallation inst, NodeSpec spec) {
        try {
            return new LocalRabbitNode(inst, spec);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare a RabbitMQ node directory", e);
        }
    }

    @Override
    public String host() {
        return "127.0.0.1";
    }

    @Override
    public int amqpPort() {
        return amqpPort;
    }

    @Override
    public String nodeName() {
        return nodeName;
    }

    /** The node's directory (config, mnesia, log). */
    Path dir() {
        return dir;
    }

    Duration lastStartTime() {
        return lastStartTime;
    }

    @Override
    public boolean supportsKillAndRestart() {
        return true;
    }

    @Override
    public synchronized String rabbitmqctl(String... args) {
        List<String> a = new ArrayList<>(List.of("-n", nodeName));
        a.addAll(List.of(args));
        Exec.Result r = Exec.run(inst.command("rabbitmqctl", a), inst.env(Map.of()), dir, CTL_TIMEOUT);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("rabbitmqctl " + String.join(" ", a) + " exited " + r.exitCode()
                    + "\nstderr: " + r.stderr().strip() + "\nstdout: " + r.stdout().strip());
        }
        return r.stdout();
    }

    /**
     * rabbitmqctl lists the connections of the whole cluster (and has no node column): keep those made to one of
     * this node's listeners, by the broker-side port (every node has its own ports).
     */
    @Override
    public List<Map<String, String>> listConnections(String... columns) {
        List<String> asked = columns.length == 0 ? DEFAULT_CONNECTION_COLUMNS : List.of(columns);
        List<String> withPort = new ArrayList<>(asked);
        if (!asked.contains("port")) {
            withPort.add("port");
        }
        List<String> ownPorts = Stream.concat(Stream.of(amqpPort), namedPorts.values().stream())
                .map(String::valueOf).toList();
        List<Map<String, String>> rows = super.listConnections(withPort.toArray(String[]::new));
        rows.removeIf(row -> !ownPorts.contains(row.get("port")));
        if (!asked.contains("port")) {
            rows.forEach(row -> row.remove("port"));
        }
        return rows;
    }

    @Override
    public synchronized void stopApp() {
        super.stopApp();
        state = State.APP_STOPPED;
    }

    @Override
    public synchronized void startApp() {
        super.startApp();
        state = State.RUNNING;
        startCount++;
    }

    /** How many times {@link #start()} or {@link #startApp()} brought the node up (boot included). */
    int startCount() {
        return startCount;
    }

    @Override
    public synchronized void start() {
        if (state == State.RUNNING) {
            return;
        }
        if (state == State.APP_STOPPED) {
            startApp();
            return;
        }
        long t0 = System.nanoTime();
        try {
            Files.deleteIfExists(pidFile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // Run the server script in the background (not -detached: that sends early boot errors such as a bad
        // config line to /dev/null), in its own session, output to startup.log; raise the fd limit first
        // (su's PAM may have reset it).
        Exec.Result r = Exec.run(inst.shell("ulimit -n \"$(ulimit -Hn)\" 2>/dev/null\n"
                + "if command -v setsid >/dev/null 2>&1; then setsid \"$0\" </dev/null >>\"$1\" 2>&1 &\n"
                + "else \"$0\" </dev/null >>\"$1\" 2>&1 & fi\necho $!", "rabbitmq-server", startupLog.toString()),
                nodeEnv, dir, Duration.ofSeconds(60));
        long launcher;
        try {
            launcher = Long.parseLong(r.stdout().strip());
        } catch (NumberFormatException e) {
            throw startFailure("cannot launch rabbitmq-server (exit " + r.exitCode() + "): " + r.stderr() + r.stdout());
        }
        launcherPid = launcher;
        long launched = System.nanoTime();
        long portOpen = awaitReady(launcher, t0 + START_TIMEOUT.toNanos());
        long ready = System.nanoTime();
        state = State.RUNNING;
        startCount++;
        lastStartTime = Duration.ofNanos(ready - t0);
        lastStartPhases = "launch " + (launched - t0) / 1_000_000 + " ms, port open +" + (portOpen - launched) / 1_000_000
                + " ms, await_startup +" + (ready - portOpen) / 1_000_000 + " ms";
    }

    String lastStartPhases() {
        return lastStartPhases;
    }

    /** Returns the System.nanoTime() at which the AMQP port opened. */
    private long awaitReady(long launcher, long deadline) {
        // cheap poll of the AMQP port first (it opens late in the boot), then rabbitmqctl await_startup
        while (!portOpen(amqpPort)) {
            if (System.nanoTime() > deadline) {
                throw startFailure("AMQP port " + amqpPort + " did not open within " + START_TIMEOUT.toSeconds() + " s");
            }
            if (logContains("BOOT FAILED")) {
                sleep(1000); // let it finish writing the reason
                throw startFailure("the node logged BOOT FAILED");
            }
            if (!ProcessHandle.of(launcher).map(ProcessHandle::isAlive).orElse(false)) {
                throw startFailure("rabbitmq-server (pid " + launcher + ") exited during boot");
            }
            sleep(100);
        }
        long portOpenAt = System.nanoTime();
        while (true) {
            Exec.Result r = Exec.run(inst.command("rabbitmqctl", List.of("-n", nodeName, "await_startup", "--timeout",
                    "60")), inst.env(Map.of()), dir, CTL_TIMEOUT);
            if (r.exitCode() == 0) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw startFailure("rabbitmqctl await_startup exited " + r.exitCode() + ": " + r.stderr());
            }
            sleep(500);
        }
        pid = readPid().orElseThrow(() -> startFailure("no pid file " + pidFile + " after startup"));
        return portOpenAt;
    }

    private IllegalStateException startFailure(String why) {
        System.err.println("[warren test-support] RabbitMQ node " + nodeName + " failed to start: " + why
                + "; log dir: " + logDir);
        return new IllegalStateException("RabbitMQ node " + nodeName + " (" + inst + ", AMQP port " + amqpPort
                + ", dist port " + distPort + ") failed to start: " + why + "\nnode dir: " + dir + "\n" + logTails(60));
    }

    /** The last lines of the node's startup output and of each of its log files, for failure messages. */
    String logTails(int lines) {
        StringBuilder b = new StringBuilder("log dir: ").append(logDir);
        try (Stream<Path> logs = Stream.concat(Stream.of(startupLog), Files.list(logDir))) {
            for (Path log : logs.filter(Files::exists).toList()) {
                b.append("\n--- tail of ").append(log).append(" ---\n").append(tail(log, lines));
            }
        } catch (IOException e) {
            b.append("\n(cannot list ").append(logDir).append(": ").append(e).append(')');
        }
        return b.toString();
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private boolean logContains(String text) {
        for (Path log : List.of(logDir.resolve(nodeName + ".log"), startupLog)) {
            try {
                if (Files.exists(log) && Files.readString(log, StandardCharsets.ISO_8859_1).contains(text)) {
                    return true;
                }
            } catch (IOException e) {
                // not there yet
            }
        }
        return false;
    }

    private Optional<Long> readPid() {
        try {
            String text = Files.readString(pidFile).strip();
            return text.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(text));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static boolean portOpen(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public synchronized void kill() {
        killLauncherIfNoPid();
        long p = pid > 0 ? pid : readPid().orElse(-1L);
        if (p > 0) {
            ProcessHandle.of(p).ifPresent(h -> {
                h.destroyForcibly();
                awaitExit(h, Duration.ofSeconds(10));
            });
        }
        pid = -1;
        state = State.DOWN;
    }

    @Override
    public synchronized void stop() {
        stop(Duration.ofSeconds(30));
    }

    private void stop(Duration grace) {
        killLauncherIfNoPid();
        long p = pid > 0 ? pid : readPid().orElse(-1L);
        if (p > 0) {
            ProcessHandle.of(p).ifPresent(h -> {
                h.destroy(); // SIGTERM: RabbitMQ shuts down gracefully
                if (!awaitExit(h, grace)) {
                    h.destroyForcibly();
                    awaitExit(h, Duration.ofSeconds(10));
                }
            });
        }
        pid = -1;
        state = State.DOWN;
    }

    /** A node that never wrote its pid file (failed boot): kill what we launched for it. */
    private void killLauncherIfNoPid() {
        if (pid > 0 || readPid().isPresent() || launcherPid <= 0) {
            return;
        }
        ProcessHandle.of(launcherPid).ifPresent(h -> {
            List<ProcessHandle> tree = new ArrayList<>(h.descendants().toList());
            tree.add(h);
            tree.forEach(ProcessHandle::destroyForcibly);
            tree.forEach(p -> awaitExit(p, Duration.ofSeconds(10)));
        });
    }

    private static boolean awaitExit(ProcessHandle h, Duration timeout) {
        try {
            h.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return !h.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !h.isAlive();
        } catch (java.util.concurrent.ExecutionException e) {
            return !h.isAlive();
        }
    }

    /**
     * Brings the node back to running, whatever stopped it: {@link #stopApp()}, {@link #kill()}, {@link #stop()},
     * or a raw {@code rabbitmqctl stop_app} or {@code kill} that bypassed this handle (the node then no longer
     * listens on its AMQP port, and its Erlang VM is alive or not).
     */
    @Override
    synchronized void ensureRunning() {
        if (state == State.RUNNING && !listening()) {
            state = vmAlive() ? State.APP_STOPPED : State.DOWN;
        }
        start();
    }

    /** Whether this handle believes the node is running and its AMQP listener is there; no rabbitmqctl call. */
    boolean seemsRunning() {
        return state == State.RUNNING && listening();
    }

    private boolean vmAlive() {
        long p = pid > 0 ? pid : readPid().orElse(-1L);
        return p > 0 && ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false);
    }

    /**
     * Whether something listens on the AMQP port, found without connecting (a connection would show in the
     * broker's list_connections): a socket with SO_REUSEADDR can bind a port that only TIME_WAIT sockets hold,
     * not one with a listener.
     */
    private boolean listening() {
        try (Socket probe = new Socket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress("127.0.0.1", amqpPort));
            return false;
        } catch (BindException e) {
            return true;
        } catch (IOException e) {
            return false; // cannot tell: ensureRunning then asks the VM
        }
    }

    /** Stops the node (SIGTERM, SIGKILL after 15 s) and deletes its directory. */
    @Override
    synchronized void shutdown() {
        try {
            stop(Duration.ofSeconds(15));
        } finally {
            deleteRecursively(dir);
        }
    }

    static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // best effort
        }
    }

    /**
     * Kills nodes left behind by JVMs that died without running their shutdown hook (kill -9, OOM) and
     * deletes their directories. Only touches dirs named {@code warren-rabbit-<pid>-*} whose JVM is gone,
     * and only a process named beam* whose pid is in such a dir's pid file.
     */
    static void reapOrphans() {
        Path tmp = Paths.get(System.getProperty("java.io.tmpdir"));
        Pattern name = Pattern.compile(Pattern.quote(DIR_PREFIX) + "(\\d+)-.*");
        try (Stream<Path> dirs = Files.list(tmp)) {
            for (Path d : dirs.toList()) {
                Matcher m = name.matcher(d.getFileName().toString());
                if (!m.matches() || !Files.isDirectory(d)) {
                    continue;
                }
                long owner = Long.parseLong(m.group(1));
                if (owner == JVM_PID || ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                try (Stream<Path> files = Files.list(d)) {
                    for (Path f : files.filter(f -> f.toString().endsWith(".pid")).toList()) {
                        long nodePid = Long.parseLong(Files.readString(f).strip());
                        ProcessHandle.of(nodePid)
                                .filter(h -> h.info().command().map(c -> c.contains("beam")).orElse(false))
                                .ifPresent(h -> {
                                    h.destroyForcibly();
                                    awaitExit(h, Duration.ofSeconds(10));
                                });
                    }
                } catch (IOException | RuntimeException ignored) {
                    // best effort
                }
                deleteRecursively(d);
            }
        } catch (IOException ignored) {
            // best effort
        }
    }

    @Override
    public String toString() {
        return "private RabbitMQ node " + nodeName + " (amqp 127.0.0.1:" + amqpPort + ", dir " + dir + ", " + spec + ")";
    }
}
