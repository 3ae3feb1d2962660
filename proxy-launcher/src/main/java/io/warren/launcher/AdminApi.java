package io.warren.launcher;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.warren.core.WarrenProxy;
import io.warren.core.stats.NodeStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's admin API under {@code /admin/}, JSON in and out:
 * <ul>
 *   <li>{@code GET clients}, {@code GET clients/{id}}, {@code DELETE clients/{id}} (320 to that client; an optional
 *       body {@code {"reason": "..."}} is added to the text);</li>
 *   <li>{@code GET upstreams}, {@code GET pools}, {@code GET nodes};</li>
 *   <li>{@code GET vhosts} (the paused ones), {@code POST vhosts/{vhost}/pause}, {@code POST vhosts/{vhost}/resume};
 *       the vhost is one path segment, so {@code /} is written {@code %2F};</li>
 *   <li>{@code POST nodes/{node}/drain}, {@code POST nodes/{node}/undrain};</li>
 *   <li>{@code POST reload}: as SIGHUP, answered with what changed.</li>
 * </ul>
 * Every error is {@code {"error": "..."}} with a status that fits (400 bad id or body, 401 no token, 403 wrong token or
 * admin off, 404 unknown, 405 wrong method, 422 a reload refused), never a stack trace. Access: see {@link AdminAccess}.
 */
final class AdminApi implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(AdminApi.class);
    static final String PREFIX = "/admin/";
    /** Longest body read (a reason); more is refused. */
    private static final int MAX_BODY = 4096;
    /** AMQP's reply-text is a shortstr: the fixed part leaves this much to the operator's reason. */
    static final int MAX_REASON = 180;
    private static final Duration VIEW_WAIT = Duration.ofSeconds(5);

    private final WarrenProxy proxy;
    private final AdminAccess access;
    private final Reloader reloader;

    AdminApi(WarrenProxy proxy, AdminAccess access, Reloader reloader) {
        this.proxy = proxy;
        this.access = access;
        this.reloader = reloader;
    }

    /** A refused request: its status and what is wrong. */
    static final class Refusal extends Exception {
        final int status;
        final Map<String, String> headers;

        Refusal(int status, String message) {
            this(status, message, Map.of());
        }

        Refusal(int status, String message, Map<String, String> headers) {
            super(message, null, false, false);
            this.status = status;
            this.headers = headers;
        }
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try (ex) {
            Object body;
            int status = 200;
            try {
                access.check(ex.getRequestHeaders().getFirst("Authorization"));
                body = route(ex);
            } catch (Refusal r) {
                status = r.status;
                r.headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
                body = Map.of("error", r.getMessage());
            } catch (RuntimeException e) {
                log.warn("admin API: {} {} failed", ex.getRequestMethod(), ex.getRequestURI().getRawPath(), e);
                status = 500;
                body = Map.of("error", "internal error: " + e.getClass().getSimpleName() + ": " + e.getMessage()
                        + " (logged)");
            }
            byte[] bytes = AdminJson.write(body);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    private Object route(HttpExchange ex) throws Refusal, IOException {
        String raw = ex.getRequestURI().getRawPath();
        List<String> path = segments(raw.substring(PREFIX.length()));
        String method = ex.getRequestMethod();
        String what = path.isEmpty() ? "" : path.get(0);
        switch (what) {
            case "clients":
                if (path.size() == 1) {
                    allow(method, "GET");
                    return views(proxy.clients());
                }
                if (path.size() == 2) {
                    long id = clientId(path.get(1));
                    allow(method, "GET", "DELETE");
                    if (method.equals("GET")) {
                        return views(proxy.client(id)).orElseThrow(() -> noClient(id));
                    }
                    String reason = reason(ex);
                    String text = "closed by the operator through Warren's admin API"
                            + (reason.isEmpty() ? "" : ": " + reason);
                    if (!proxy.closeClient(id, text)) {
                        throw noClient(id);
                    }
                    return Map.of("closed", id, "text", "CONNECTION_FORCED - " + text);
                }
                break;
            case "upstreams":
                if (path.size() == 1) {
                    allow(method, "GET");
                    return views(proxy.upstreams());
                }
                break;
            case "pools":
                if (path.size() == 1) {
                    allow(method, "GET");
                    return views(proxy.pools());
                }
                break;
            case "nodes":
                if (path.size() == 1) {
                    allow(method, "GET");
                    return proxy.nodes();
                }
                if (path.size() == 3 && (path.get(2).equals("drain") || path.get(2).equals("undrain"))) {
                    allow(method, "POST");
                    return drain(path.get(1), path.get(2).equals("drain"));
                }
                break;
            case "vhosts":
                if (path.size() == 1) {
                    allow(method, "GET");
                    List<Map<String, Object>> paused = new ArrayList<>();
                    for (String v : proxy.pausedVhosts()) {
                        paused.add(Map.of("vhost", v, "paused", true, "waiting", proxy.clientsWaitingFor(v)));
                    }
                    return paused;
                }
                if (path.size() == 3 && (path.get(2).equals("pause") || path.get(2).equals("resume"))) {
                    allow(method, "POST");
                    String vhost = path.get(1);
                    if (path.get(2).equals("pause")) {
                        boolean changed = proxy.pauseVhost(vhost);
                        return Map.of("vhost", vhost, "paused", true, "changed", changed);
                    }
                    int released = proxy.resumeVhost(vhost);
                    return Map.of("vhost", vhost, "paused", false, "changed", released >= 0, "released",
                            Math.max(0, released));
                }
                break;
            case "reload":
                if (path.size() == 1) {
                    allow(method, "POST");
                    Reloader.Outcome o = reloader.reload("POST /admin/reload");
                    if (o.error().isPresent()) {
                        throw new Refusal(422, "reload refused, nothing changed: " + o.error().get());
                    }
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("applied", o.applied());
                    m.put("needs_restart", o.needsRestart());
                    m.put("overridden", o.overridden());
                    m.put("notes", o.notes());
                    return m;
                }
                break;
            default:
                break;
        }
        throw new Refusal(404, "no such admin resource: " + method + " " + raw + "; try GET /admin/clients,"
                + " /admin/clients/ID, /admin/upstreams, /admin/pools, /admin/nodes, /admin/vhosts; DELETE"
                + " /admin/clients/ID; POST /admin/vhosts/VHOST/pause|resume (a / in VHOST as %2F),"
                + " /admin/nodes/NODE/drain|undrain, /admin/reload");
    }

    /** The path's segments, each percent-decoded (so %2F is a slash inside one); a trailing slash is ignored. */
    static List<String> segments(String rawRest) throws Refusal {
        List<String> out = new ArrayList<>();
        if (rawRest.isEmpty()) {
            return out;
        }
        String trimmed = rawRest.endsWith("/") ? rawRest.substring(0, rawRest.length() - 1) : rawRest;
        for (String s : trimmed.split("/", -1)) {
            try {
                // URLDecoder would turn '+' into a space: a path is not a form, so '+' stays itself.
                out.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new Refusal(400, "bad percent-encoding in path segment '" + s + "': " + e.getMessage());
            }
        }
        return out;
    }

    private static void allow(String method, String... allowed) throws Refusal {
        if (!Arrays.asList(allowed).contains(method)) {
            throw new Refusal(405, "method " + method + " is not allowed here; use " + String.join(" or ", allowed),
                    Map.of("Allow", String.join(", ", allowed)));
        }
    }

    private static long clientId(String text) throws Refusal {
        try {
            long id = Long.parseLong(text);
            if (id > 0) {
                return id;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new Refusal(400, "bad client id '" + text + "': a client id is a positive number, as in GET"
                + " /admin/clients");
    }

    private static Refusal noClient(long id) {
        return new Refusal(404, "no client " + id + " is connected");
    }

    /** The optional JSON body of DELETE /admin/clients/ID: {"reason": "..."}; empty without a body. */
    private static String reason(HttpExchange ex) throws Refusal, IOException {
        byte[] bytes;
        try (InputStream in = ex.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY + 1);
        }
        if (bytes.length > MAX_BODY) {
            throw new Refusal(400, "body longer than " + MAX_BODY + " bytes");
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.isBlank()) {
            return "";
        }
        JsonNode node;
        try {
            node = AdminJson.read(text);
        } catch (JsonProcessingException e) {
            throw new Refusal(400, "malformed JSON body: " + e.getOriginalMessage());
        }
        if (!node.isObject()) {
            throw new Refusal(400, "the body must be a JSON object such as {\"reason\": \"maintenance\"}");
        }
        List<String> unknown = new ArrayList<>();
        node.fieldNames().forEachRemaining(f -> {
            if (!f.equals("reason")) {
                unknown.add(f);
            }
        });
        if (!unknown.isEmpty()) {
            throw new Refusal(400, "unknown field(s) " + unknown + " in the body; only \"reason\" is known");
        }
        JsonNode r = node.get("reason");
        if (r == null || r.isNull()) {
            return "";
        }
        if (!r.isTextual()) {
            throw new Refusal(400, "\"reason\" must be a string");
        }
        String reason = r.asText().strip();
        if (reason.length() > MAX_REASON) {
            throw new Refusal(400, "\"reason\" is " + reason.length() + " characters; at most " + MAX_REASON
                    + " fit in an AMQP reply text");
        }
        if (reason.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new Refusal(400, "\"reason\" must not contain control characters");
        }
        return reason;
    }

    private Object drain(String name, boolean on) throws Refusal {
        List<String> nodes = proxy.nodesNamed(name);
        if (nodes.isEmpty()) {
            throw new Refusal(404, "no upstream node '" + name + "'; the nodes are "
                    + proxy.nodes().stream().map(NodeStatus::name).toList());
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (String full : nodes) {
            Optional<WarrenProxy.NodeChange> change = proxy.drainNode(full, on);
            if (change.isPresent()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("node", change.get().node());
                m.put("changed", change.get().changed());
                out.add(m);
            }
        }
        return out;
    }

    /** Waits for views taken on the event loops; a loop that does not answer in time is a 503. */
    private static <T> T views(Future<T> future) throws Refusal {
        try {
            return future.get(VIEW_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new Refusal(503, "the event loops did not answer within " + Values.formatDuration(VIEW_WAIT));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Refusal(503, "interrupted while waiting for the event loops");
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }
}
