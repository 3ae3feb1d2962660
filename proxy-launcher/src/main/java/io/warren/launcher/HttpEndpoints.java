package io.warren.launcher;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.warren.core.WarrenProxy;
import io.warren.core.stats.NodeStatus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's HTTP endpoints, on the JDK's built-in server:
 * <ul>
 *   <li>{@code /healthz}: 200 while the process runs;</li>
 *   <li>{@code /readyz}: 200 while Warren accepts clients and at least one upstream node is up, 503 otherwise;
 *       the body says why and lists each node's state;</li>
 *   <li>{@code /metrics}: Prometheus text format, {@link WarrenMetrics} plus the JVM's;</li>
 *   <li>{@code /admin/}: the operator's {@link AdminApi}, behind {@link AdminAccess}.</li>
 * </ul>
 * With {@code http = off} nothing listens and every method is a no-op. What a client can hold is bounded: at most
 * {@link #MAX_CONNECTIONS} connections (more are closed at once), each exchange at most {@link #EXCHANGE_DEADLINE}
 * from its first bytes to the end of its response, a connection that sends nothing the JDK's idle interval (30 s).
 *
 * <p>A Warren started beside a running one (a restart without dropped clients: both listen on the same AMQP address)
 * finds the HTTP address still held by the other, which serves it until it has drained; it then binds the address in
 * the background as soon as it is free. An HTTP address in use with no other Warren on the AMQP address is an error.
 */
final class HttpEndpoints {
    /** Probes and a scraper or two; well inside the descriptors ClientAdmission keeps free beside clients. */
    static final int MAX_CONNECTIONS = 16;
    static final Duration EXCHANGE_DEADLINE = Duration.ofSeconds(10);
    /** How long /readyz waits for the first check of the upstream nodes, right after start. */
    private static final Duration NODE_CHECK_WAIT = Duration.ofSeconds(3);
    /** The JDK server's own limit; read once, when the first server is made. An operator's -D wins. */
    private static final String MAX_CONNECTIONS_PROPERTY = "jdk.httpserver.maxConnections";
    private static final int BACKLOG = 16;
    /** How often a Warren that replaces another tries the HTTP address the other one still holds. */
    private static final Duration BIND_RETRY = Duration.ofMillis(200);

    private final HttpServer server;
    private final DeadlineExecutor executor;
    private final PrometheusRegistry registry;
    private final WarrenProxy proxy;
    private volatile boolean accepting = true;
    private AdminAccess admin; // null: HTTP off
    /** The address a server still waiting for the Warren it replaces will bind; null once bound at start. */
    private volatile InetSocketAddress pendingAddress;

    private HttpEndpoints(HttpServer server, DeadlineExecutor executor, PrometheusRegistry registry,
            WarrenProxy proxy) {
        this.server = server;
        this.executor = executor;
        this.registry = registry;
        this.proxy = proxy;
    }

    static HttpEndpoints start(LauncherConfig config, WarrenProxy proxy, Daemon.Plugins plugins, Reloader reloader)
            throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new WarrenMetrics(proxy, plugins, config.proxy()));
        JvmMetrics.builder().register(registry);
        if (config.http().isEmpty()) {
            return new HttpEndpoints(null, null, registry, proxy);
        }
        if (System.getProperty(MAX_CONNECTIONS_PROPERTY) == null) {
            System.setProperty(MAX_CONNECTIONS_PROPERTY, Integer.toString(MAX_CONNECTIONS));
        }
        InetSocketAddress address = config.http().get();
        HttpServer server;
        boolean bindLater = false;
        try {
            server = HttpServer.create(address, BACKLOG);
        } catch (BindException e) {
            if (!replacingAnother(proxy)) {
                throw e;
            }
            server = HttpServer.create(); // bound once the Warren this one replaces has gone
            bindLater = true;
        }
        DeadlineExecutor executor = new DeadlineExecutor("warren-http", MAX_CONNECTIONS, EXCHANGE_DEADLINE);
        HttpEndpoints endpoints = new HttpEndpoints(server, executor, registry, proxy);
        server.setExecutor(executor);
        server.createContext("/healthz", ex -> respond(ex, 200, "ok\n"));
        server.createContext("/readyz", endpoints::ready);
        server.createContext("/metrics", new MetricsHandler(registry));
        endpoints.admin = new AdminAccess(config.http().get(), config.adminToken());
        reloader.access(endpoints.admin);
        server.createContext(AdminApi.PREFIX, new AdminApi(proxy, endpoints.admin, reloader));
        server.createContext("/", ex -> respond(ex, 404, "not found; try /healthz, /readyz, /metrics or /admin/\n"));
        if (bindLater) {
            endpoints.pendingAddress = address;
            bindWhenFree(server, address);
        } else {
            server.start();
        }
        return endpoints;
    }

    /** Whether the admin API answers (see {@link AdminAccess}). */
    boolean adminEnabled() {
        return admin != null && admin.enabled();
    }

    /**
     * Whether another process listens on this Warren's own listen address: the Warren it replaces (SO_REUSEPORT
     * lets only the same user share it), which holds the HTTP address until it has drained.
     */
    private static boolean replacingAnother(WarrenProxy proxy) {
        return Stream.of(proxy.plainListenAddress(), proxy.tlsListenAddress()).flatMap(Optional::stream)
                .anyMatch(a -> ListeningSockets.count(a).orElse(0) > 1);
    }

    /** Binds {@code server} in the background as soon as {@code address} is free, and starts it. */
    private static void bindWhenFree(HttpServer server, InetSocketAddress address) {
        Logger log = LoggerFactory.getLogger(HttpEndpoints.class);
        log.info("HTTP {} is in use, and another process listens on this Warren's address too: the Warren this one"
                + " replaces, presumably; /healthz /readyz /metrics /admin will be served here once it has let go of {}",
                Values.formatAddress(address), Values.formatAddress(address));
        Thread binder = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(BIND_RETRY.toMillis());
                    server.bind(address, BACKLOG);
                } catch (BindException stillInUse) {
                    continue;
                } catch (IOException | InterruptedException e) {
                    return; // stopped meanwhile
                }
                try {
                    server.start();
                } catch (IllegalStateException stoppedMeanwhile) {
                    return;
                }
                log.info("HTTP on {} (/healthz /readyz /metrics /admin): the Warren this one replaces has let go of it",
                        Values.formatAddress(address));
                return;
            }
        }, "warren-http-bind");
        binder.setDaemon(true);
        binder.start();
    }

    Optional<InetSocketAddress> address() {
        if (server == null) {
            return Optional.empty();
        }
        InetSocketAddress bound = server.getAddress();
        return Optional.of(bound != null ? bound : pendingAddress);
    }

    private void ready(HttpExchange ex) throws IOException {
        try {
            proxy.awaitNodesChecked(NODE_CHECK_WAIT); // right after start, the check of each node is under way
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the exchange deadline: answer with what is known
        }
        List<NodeStatus> nodes = proxy.nodes();
        StringBuilder states = new StringBuilder();
        for (NodeStatus n : nodes) {
            states.append("node ").append(n.name()).append(": ").append(n.state()).append(" since ")
                    .append(n.since()).append(" (").append(n.reason()).append("), ").append(n.connections())
                    .append(n.connections() == 1 ? " connection\n" : " connections\n");
        }
        if (!accepting) {
            respond(ex, 503, "not ready: draining: no longer accepting clients\n" + states);
        } else if (nodes.stream().anyMatch(NodeStatus::up)) {
            respond(ex, 200, "ready\n" + states);
        } else {
            respond(ex, 503, "not ready: no upstream node is up\n" + states);
        }
    }

    private static void respond(HttpExchange ex, int status, String body) throws IOException {
        try (ex) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(status, -1);
                return;
            }
            ex.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** /readyz answers 503 from now on. */
    void draining() {
        accepting = false;
    }

    /** Renders the metrics once, as a scrape would (loads those classes for the class-data-sharing archive). */
    void selfScrape() {
        try {
            new PrometheusTextFormatWriter(false).write(new ByteArrayOutputStream(), registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void stop() {
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
        }
    }
}
