package io.warren.testsupport;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An installed RabbitMQ: where its real scripts are and as whom to run them. As root (Debian/Ubuntu
 * package), nodes run as user {@code rabbitmq} (via setpriv, else su) with HOME set to that user's home so
 * the node and rabbitmqctl share one Erlang cookie. As any other user, the scripts run as that user.
 */
final class RabbitInstallation {

    final Path scriptDir;
    /** Command prefix that switches to the node's user; empty to run as ourselves. */
    final List<String> runAs;
    /** User that must own the node's files, or null. */
    final String owner;
    /** Extra environment (HOME of the node's user), may be empty. */
    final Map<String, String> env;

    private RabbitInstallation(Path scriptDir, List<String> runAs, String owner, Map<String, String> env) {
        this.scriptDir = scriptDir;
        this.runAs = runAs;
        this.owner = owner;
        this.env = env;
    }

    static Optional<RabbitInstallation> detect() {
        Optional<Path> server = findServerScript();
        if (server.isEmpty()) {
            return Optional.empty();
        }
        Path scriptDir;
        try {
            scriptDir = server.get().toRealPath().getParent();
        } catch (IOException e) {
            return Optional.empty();
        }
        if (!Files.isExecutable(scriptDir.resolve("rabbitmq-server"))
                || !Files.isExecutable(scriptDir.resolve("rabbitmqctl"))) {
            return Optional.empty();
        }
        if ("root".equals(System.getProperty("user.name"))) {
            Optional<String> home = homeOf("rabbitmq");
            if (home.isPresent()) {
                List<String> runAs = Files.isExecutable(Paths.get("/usr/bin/setpriv"))
                        ? List.of("/usr/bin/setpriv", "--reuid=rabbitmq", "--regid=rabbitmq", "--init-groups")
                        : List.of("su", "rabbitmq", "-s", "/bin/sh", "-c", "exec \"$0\" \"$@\"");
                return Optional.of(new RabbitInstallation(scriptDir, runAs, "rabbitmq", Map.of("HOME", home.get())));
            }
        }
        return Optional.of(new RabbitInstallation(scriptDir, List.of(), null, Map.of()));
    }

    private static Optional<Path> findServerScript() {
        List<String> dirs = new ArrayList<>();
        String override = System.getenv("WARREN_RABBITMQ_SBIN");
        if (override != null && !override.isBlank()) {
            dirs.add(override);
        }
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(File.pathSeparator)));
        }
        dirs.addAll(List.of("/usr/sbin", "/usr/lib/rabbitmq/bin", "/usr/local/sbin", "/opt/rabbitmq/sbin",
                "/usr/local/opt/rabbitmq/sbin", "/opt/homebrew/sbin"));
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Paths.get(dir, "rabbitmq-server");
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static Optional<String> homeOf(String user) {
        try {
            Exec.Result r = Exec.run(List.of("getent", "passwd", user), null, null, Duration.ofSeconds(10));
            if (r.exitCode() != 0) {
                return Optional.empty();
            }
            String[] fields = r.stdout().strip().split(":");
            return fields.length >= 6 ? Optional.of(fields[5]) : Optional.empty();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The full command line to run one of the installation's scripts (with the run-as prefix). */
    List<String> command(String script, List<String> args) {
        List<String> cmd = new ArrayList<>(runAs);
        cmd.add(scriptDir.resolve(script).toString());
        cmd.addAll(args);
        return cmd;
    }

    /** The command line to run a shell snippet as the node's user; the snippet sees the script as $0. */
    List<String> shell(String snippet, String script, String... args) {
        List<String> cmd = new ArrayList<>(runAs);
        cmd.addAll(List.of("/bin/sh", "-c", snippet, scriptDir.resolve(script).toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /**
     * Makes sure the node user's {@code $HOME/.erlang.cookie} exists before nodes that must share it boot in
     * parallel: on a fresh machine each booting VM would otherwise create its own, and the nodes could not talk.
     * A new cookie is written aside and hard-linked into place, so a concurrent writer (another JVM) wins or loses
     * whole.
     */
    void ensureErlangCookie() {
        String snippet = "c=\"$HOME/.erlang.cookie\"; [ -s \"$c\" ] && exit 0\n"
                + "t=\"$c.warren-$$\"; (umask 077; LC_ALL=C tr -dc A-Z </dev/urandom | head -c 20 >\"$t\")"
                + " && chmod 400 \"$t\" && ln \"$t\" \"$c\" 2>/dev/null; rm -f \"$t\"; [ -s \"$c\" ]";
        Exec.Result r = Exec.run(shell(snippet, "rabbitmqctl"), env(Map.of()), null, Duration.ofSeconds(30));
        if (r.exitCode() != 0) {
            throw new IllegalStateException("no Erlang cookie in the home of the nodes' user (" + env.getOrDefault("HOME",
                    "$HOME") + "/.erlang.cookie) and cannot write one: " + r.stderr().strip());
        }
    }

    Map<String, String> env(Map<String, String> extra) {
        Map<String, String> all = new LinkedHashMap<>(env);
        all.putAll(extra);
        return all;
    }

    void chown(Path dir) {
        if (owner == null) {
            return;
        }
        Exec.Result r = Exec.run(List.of("chown", "-R", owner + ":", dir.toString()), null, null,
                Duration.ofSeconds(30));
        if (r.exitCode() != 0) {
            throw new IllegalStateException("chown -R " + owner + " " + dir + " failed: " + r.stderr());
        }
    }

    @Override
    public String toString() {
        return "rabbitmq-server in " + scriptDir + (owner == null ? "" : " (nodes run as " + owner + ")");
    }
}
