package io.warren.launcher;

import io.warren.api.ChannelReusePolicy;
import io.warren.api.CredentialKeyer;
import io.warren.api.Named;
import io.warren.api.ProviderLookupException;
import io.warren.api.Providers;
import io.warren.api.transport.Transport;
import io.warren.core.WarrenProxy;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running daemon: the proxy, the HTTP endpoints, and the signal-driven shutdown.
 *
 * <p>SIGHUP reloads the configuration ({@link Reloader}). Shutdown: the first SIGTERM or SIGINT stops accepting clients (so /readyz turns 503), waits up to the drain
 * timeout for clients to leave, then closes the rest with 320 CONNECTION_FORCED, closes the upstream connections
 * cleanly and exits 0. A second signal during the drain exits at once with 128 + the signal number.
 */
final class Daemon {
    /** The daemon could not start: a port in use, a transport that failed. Exit code 1. */
    static final class StartupException extends Exception {
        StartupException(String message) {
            super(message, null, false, false);
        }
    }

    /** The implementations the configuration names, found through ServiceLoader (lib/ and plugins/). */
    record Plugins(Transport transport, CredentialKeyer keyer, ChannelReusePolicy policy) {
        static Plugins load(LauncherConfig config) throws ConfigException {
            ClassLoader loader = Daemon.class.getClassLoader();
            return new Plugins(
                    lookup(Transport.class, Setting.TRANSPORT, config.transport(), config, loader),
                    lookup(CredentialKeyer.class, Setting.CREDENTIAL_KEYER, config.credentialKeyer(), config, loader),
                    lookup(ChannelReusePolicy.class, Setting.REUSE_POLICY, config.reusePolicy(), config, loader));
        }

        private static <T extends Named> T lookup(Class<T> spi, Setting setting, String name, LauncherConfig config,
                ClassLoader loader) throws ConfigException {
            try {
                return Providers.load(spi, name, loader);
            } catch (ProviderLookupException e) {
                throw Main.lookupFailed(setting, config, e);
            }
        }
    }

    private final LauncherConfig config;
    private final Plugins plugins;
    private final Cli.Request request;
    private final Map<String, String> env;

    /** @param request and {@code env}: what a reload resolves the settings from again */
    Daemon(LauncherConfig config, Plugins plugins, Cli.Request request, Map<String, String> env) {
        this.config = config;
        this.plugins = plugins;
        this.request = request;
        this.env = env;
    }

    /** Runs until a signal (or, with {@code exitAfterStart}, until everything has started); returns the exit code. */
    int run(boolean exitAfterStart) throws StartupException {
        Logger log = LoggerFactory.getLogger(Daemon.class);
        for (UpstreamUrl url : config.upstreamUrls().urls()) {
            if (!url.ignoredParts().isEmpty()) {
                log.warn("The {} of upstream URL {} is ignored: each client's own credentials and virtual host are"
                        + " used upstream", url.ignoredParts(), url.masked());
            }
        }
        for (String warning : config.tlsWarnings()) {
            log.warn("TLS: {}", warning);
        }
        Shutdown shutdown = Shutdown.install();
        List<String> ignoredSignals = shutdown.ignoredSignals();
        for (String signal : ignoredSignals) {
            String other = signal.equals("SIGTERM") ? "SIGINT" : "SIGTERM";
            log.warn("{} was ignored when Warren started (inherited from what started it: a script's background job"
                    + " ignores SIGINT), so it cannot stop Warren; stop it with {}", signal,
                    ignoredSignals.contains(other) ? "SIGKILL, which skips the drain" : other);
        }
        WarrenProxy proxy;
        try {
            proxy = WarrenProxy.start(config.proxy(), plugins.transport(), config.transportSettings(),
                    plugins.keyer(), plugins.policy());
        } catch (IOException e) {
            if (config.proxy().tlsListen().isEmpty()) {
                throw new StartupException("cannot listen on " + Values.formatAddress(config.proxy().listen()) + ": "
                        + e.getMessage());
            }
            // Either listener may have failed (or a TLS file changed since the check): the message says which.
            throw new StartupException("cannot listen: " + e.getMessage());
        }
        Reloader reloader = new Reloader(request, env, config, proxy);
        HttpEndpoints http;
        try {
            http = HttpEndpoints.start(config, proxy, plugins, reloader);
        } catch (IOException e) {
            reloader.close();
            proxy.close();
            throw new StartupException("cannot listen for HTTP on "
                    + config.http().map(Values::formatAddress).orElse("?") + ": " + e.getMessage());
        }
        log.info("Upstream {}; HTTP {}; drain timeout {}", config.upstreamUrls().masked(),
                http.address().map(a -> "on " + Values.formatAddress(a) + " (/healthz /readyz /metrics"
                        + (http.adminEnabled() ? " /admin" : "") + ")").orElse("off"),
                Values.formatDuration(config.drainTimeout()));
        if (http.address().isPresent() && !http.adminEnabled()) {
            log.warn("The admin API is off: HTTP listens on {}, which is not a loopback address, and no {} is set",
                    Values.formatAddress(http.address().get()), Setting.ADMIN_TOKEN_FILE.key());
        }
        shutdown.onHangup(() -> reloader.reloadLater("SIGHUP"));
        if (shutdown.hangupIgnored()) {
            log.warn("SIGHUP was ignored when Warren started (nohup?), so it cannot ask for a reload; use POST"
                    + " /admin/reload (warren ctl reload)");
        }
        if (exitAfterStart) {
            http.selfScrape();
            shutdown.request("exit-after-start");
        }

        String reason = shutdown.await();
        shutdown.onHangup(() -> log.info("SIGHUP ignored: Warren is stopping"));
        reloader.close();
        Duration drain = reloader.current().drainTimeout();
        log.info("Received {}: no longer accepting clients; waiting up to {} for {} client(s) to leave"
                + " (a second signal exits at once)", reason, Values.formatDuration(drain), proxy.clientCount());
        http.draining();
        proxy.stopAccepting();
        boolean allLeft;
        try {
            allLeft = proxy.awaitClients(drain);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            allLeft = false;
        }
        if (!allLeft) {
            log.info("Drain timeout: closing {} remaining client(s) with 320 CONNECTION_FORCED", proxy.clientCount());
        }
        proxy.close();
        http.stop();
        return Main.OK;
    }
}
