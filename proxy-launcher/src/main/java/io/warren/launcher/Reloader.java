package io.warren.launcher;

import io.warren.api.transport.TlsConfigException;
import io.warren.core.WarrenProxy;
import io.warren.core.admin.Reconfiguration;
import io.warren.core.config.ProxyConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A reload (SIGHUP, {@code POST /admin/reload}): the settings resolved again as at start, from the same command line
 * and environment and the configuration file read anew; each key that changed is applied at once when it
 * {@link Setting#reloadable() can be}, and otherwise logged as needing a restart and left as it was. A file that does
 * not parse, or a value that does not check, changes nothing and is logged as one line naming the key.
 *
 * <p>Reloads run one at a time on their own thread, never on a signal handler's or an HTTP exchange's.
 */
final class Reloader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Reloader.class);
    /** How long a POST /admin/reload waits for its turn and its outcome (the HTTP exchange has 10 s). */
    private static final Duration WAIT = Duration.ofSeconds(8);

    /**
     * What one reload did.
     *
     * @param applied each key applied, as {@code key: old -> new}
     * @param needsRestart each key that changed but applies only to a new process, as {@code key: old -> new}
     * @param overridden keys the file changed whose command-line or environment value wins, with that source
     * @param notes what the engine did of it (nodes added, removed)
     * @param error why nothing changed; empty when the reload went through
     */
    record Outcome(List<String> applied, List<String> needsRestart, List<String> overridden, List<String> notes,
            Optional<String> error) {
        static Outcome failed(String why) {
            return new Outcome(List.of(), List.of(), List.of(), List.of(), Optional.of(why));
        }
    }

    private final Map<Setting, Settings.Value> cli;
    private final Map<String, String> env;
    private final Optional<Path> configFile;
    private final WarrenProxy proxy;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "warren-reload");
        t.setDaemon(true);
        return t;
    });
    private volatile LauncherConfig current;
    private volatile AdminAccess access;

    Reloader(Cli.Request request, Map<String, String> env, LauncherConfig started, WarrenProxy proxy) {
        this.cli = request.values();
        this.env = env;
        this.configFile = request.configFile();
        this.current = started;
        this.proxy = proxy;
    }

    /** The admin API's access, whose token a reload replaces. */
    void access(AdminAccess access) {
        this.access = access;
    }

    /** The configuration in effect: the one started with, as changed by reloads. */
    LauncherConfig current() {
        return current;
    }

    /** For SIGHUP: a reload on the reload thread; returns at once. */
    void reloadLater(String trigger) {
        try {
            thread.execute(() -> run(trigger));
        } catch (RejectedExecutionException e) {
            log.info("{} ignored: Warren is stopping", trigger);
        }
    }

    /** For the admin API: a reload on the reload thread, waited for. */
    Outcome reload(String trigger) {
        Future<Outcome> f;
        try {
            f = thread.submit(() -> run(trigger));
        } catch (RejectedExecutionException e) {
            return Outcome.failed("Warren is stopping");
        }
        try {
            return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return Outcome.failed("the reload did not finish within " + Values.formatDuration(WAIT)
                    + "; it goes on, and its outcome is logged");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.failed("interrupted");
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    private Outcome run(String trigger) {
        String what = "Reload (" + trigger + (configFile.map(p -> " of " + p).orElse(", no config file")) + ")";
        LauncherConfig before = current;
        LauncherConfig next;
        try {
            next = LauncherConfig.from(Settings.resolve(cli, env, configFile));
        } catch (ConfigException e) {
            log.error("{} refused, nothing changed: {}", what, Main.oneLine(e.getMessage()));
            return Outcome.failed(Main.oneLine(e.getMessage()));
        }
        // amqp to amqps (or back) changes the upstream TLS too, which a running engine keeps.
        boolean schemeChanged = before.upstreamUrls().tls() != next.upstreamUrls().tls();
        Predicate<Setting> live = s -> s.reloadable() && !(s == Setting.UPSTREAM && schemeChanged);
        List<String> applied = new ArrayList<>();
        List<String> restart = new ArrayList<>();
        List<String> overridden = new ArrayList<>();
        for (Setting s : Setting.values()) {
            String was = shown(before, s);
            String now = shown(next, s);
            if (!was.equals(now)) {
                (live.test(s) ? applied : restart).add(s.key() + ": " + was + " -> " + now);
            }
            Optional<Settings.Value> fileBefore = before.settings().inFile(s);
            Optional<Settings.Value> fileNow = next.settings().inFile(s);
            String source = next.settings().get(s).map(Settings.Value::source).orElse("");
            if (!fileBefore.map(Settings.Value::text).equals(fileNow.map(Settings.Value::text))
                    && fileNow.isPresent() && !source.equals(fileNow.get().source())) {
                overridden.add(s.key() + ": the file's new value is not used; " + source + " wins");
            }
        }
        boolean tokenFileRenamed = !shown(before, Setting.ADMIN_TOKEN_FILE).equals(shown(next, Setting.ADMIN_TOKEN_FILE));
        if (!tokenFileRenamed && !before.adminToken().equals(next.adminToken())) {
            applied.add(Setting.ADMIN_TOKEN_FILE.key() + ": the token in the file was replaced");
        }
        Reconfiguration engine;
        try {
            ProxyConfig wanted = live.test(Setting.UPSTREAM) ? next.proxy()
                    : next.proxy().toBuilder().upstreams(before.proxy().upstreams()).build();
            engine = proxy.reconfigure(wanted); // first: the TLS files may still fail, and then nothing changed
        } catch (TlsConfigException e) {
            String why = "tls-cert/tls-key: " + e.getMessage();
            log.error("{} refused, nothing changed: {}", what, why);
            return Outcome.failed(why);
        }
        if (!before.logLevel().equals(next.logLevel()) || !before.logFormat().equals(next.logFormat())) {
            Logging.reconfigure(next.logLevel(), next.logFormat());
        }
        AdminAccess a = access;
        if (a != null) {
            a.update(next.adminToken());
        }
        current = new LauncherConfig(proxy.config(), before.transportSettings(),
                live.test(Setting.UPSTREAM) ? next.upstreamUrls() : before.upstreamUrls(), before.http(),
                next.logLevel(), next.logFormat(), before.transport(), before.credentialKeyer(),
                before.reusePolicy(), next.drainTimeout(), next.adminToken(),
                next.settings().keeping(before.settings(), live.negate()), next.tlsWarnings());

        if (applied.isEmpty() && restart.isEmpty()) {
            log.info("{}: nothing changed", what);
        } else if (!applied.isEmpty()) {
            log.info("{}: applied {}", what, String.join(", ", applied));
        }
        for (String r : restart) {
            log.warn("{}: {} needs a restart; left as it was", what, r);
        }
        for (String o : overridden) {
            log.warn("{}: {}", what, o);
        }
        for (String n : engine.notes()) {
            log.info("{}: {}", what, n);
        }
        if (proxy.tlsListenAddress().isPresent()) {
            log.info("{}: the TLS listener's certificate and key were read again for new handshakes", what);
        }
        for (String w : next.tlsWarnings()) {
            log.warn("TLS: {}", w);
        }
        return new Outcome(applied, restart, overridden, engine.notes(), Optional.empty());
    }

    /** A key's value as the operator may see it: the upstream masked, unset as "(unset)". */
    private static String shown(LauncherConfig c, Setting s) {
        if (s == Setting.UPSTREAM) {
            return c.upstreamUrls().masked();
        }
        return c.settings().get(s).map(v -> v.text().strip()).filter(t -> !t.isEmpty()).orElse("(unset)");
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
