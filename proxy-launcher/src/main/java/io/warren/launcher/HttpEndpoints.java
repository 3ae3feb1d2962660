package io.warren.launcher;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.warren.core.WarrenProxy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The operator's HTTP endpoints, on the JDK's built-in server with two daemon threads:
 * <ul>
 *   <li>{@code /healthz}: 200 while the process runs;</li>
 *   <li>{@code /readyz}: 200 while Warren accepts clients and an upstream connection can be had (one is open, or
 *       the broker answers the AMQP protocol header), 503 otherwise, with the reason;</li>
 *   <li>{@code /metrics}: Prometheus text format, {@link WarrenMetrics} plus the JVM's.</li>
 * </ul>
 * With {@code http = off} nothing listens and every method is a no-op.
 */
final class HttpEndpoints {
    private final HttpServer server;
    private final ExecutorService executor;
    private final PrometheusRegistry registry;
    private final WarrenProxy proxy;
    private final UpstreamProbe probe;
    private volatile boolean accepting = true;

    private HttpEndpoints(HttpServer server, ExecutorService executor, PrometheusRegistry registry, WarrenProxy proxy,
            UpstreamProbe probe) {
        this.server = server;
        this.executor = executor;
        this.registry = registry;
        this.proxy = proxy;
        this.probe = probe;
    }

    static HttpEndpoints start(LauncherConfig config, WarrenProxy proxy, Daemon.Plugins plugins) throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new WarrenMetrics(proxy, plugins));
        JvmMetrics.builder().register(registry);
        UpstreamProbe probe = new UpstreamProbe(config.proxy().upstream(), 2000,
                config.proxy().upstreamTls().orElse(null));
        if (config.http().isEmpty()) {
            return new HttpEndpoints(null, null, registry, proxy, probe);
        }
        HttpServer server = HttpServer.create(config.http().get(), 16);
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "warren-http");
            t.setDaemon(true);
            return t;
        });
        HttpEndpoints endpoints = new HttpEndpoints(server, executor, registry, proxy, probe);
        server.setExecutor(executor);
        server.createContext("/healthz", ex -> respond(ex, 200, "ok\n"));
        server.createContext("/readyz", endpoints::ready);
        server.createContext("/metrics", new MetricsHandler(registry));
        server.createContext("/", ex -> respond(ex, 404, "not found; try /healthz, /readyz or /metrics\n"));
        server.start();
        return endpoints;
    }

    Optional<InetSocketAddress> address() {
        return server == null ? Optional.empty() : Optional.of(server.getAddress());
    }

    private void ready(HttpExchange ex) throws IOException {
        String problem;
        if (!accepting) {
            problem = "draining: no longer accepting clients";
        } else if (proxy.stats().upstreamConnections() > 0) {
            problem = null;
        } else {
            problem = probe.problem();
        }
        if (problem == null) {
            respond(ex, 200, "ready\n");
        } else {
            respond(ex, 503, "not ready: " + problem + "\n");
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
