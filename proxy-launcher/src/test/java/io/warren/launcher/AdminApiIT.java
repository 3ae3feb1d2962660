package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.testsupport.PortFinder;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin API and {@code warren ctl} of a real bin/warren in front of a real broker (issue 14): every endpoint, the
 * commands, bad input of each kind, and the token.
 */
@WithRabbitBroker
class AdminApiIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static RabbitBroker broker;
    static WarrenProcess warren;
    static int amqp;
    static int http;
    static String user;
    static String password;

    @BeforeAll
    static void start() {
        user = "admin-it-" + UUID.randomUUID();
        password = "Secret-" + UUID.randomUUID();
        broker.addUser(user, password);
        broker.setPermissions("/", user);
        amqp = PortFinder.freePort();
        http = PortFinder.freePort();
        warren = WarrenProcess.start(Map.of(), "--listen", "127.0.0.1:" + amqp, "--http", "127.0.0.1:" + http,
                "--upstream-hold", "20s", "--reuse-policy", "publish-safe", upstream());
        warren.awaitOutput("/healthz /readyz /metrics /admin", Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        warren.close();
        broker.deleteUser(user);
    }

    private static String upstream() {
        return "amqp://" + broker.host() + ":" + broker.amqpPort();
    }

    private static ConnectionFactory client(String name) {
        ConnectionFactory cf = WarrenProcess.client(amqp, user, password);
        cf.setConnectionTimeout(30_000);
        Map<String, Object> props = new HashMap<>(cf.getClientProperties());
        props.put("connection_name", name);
        cf.setClientProperties(props);
        return cf;
    }

    static HttpResponse<String> call(int port, String method, String path, String body, String token) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(10))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body));
            if (token != null) {
                b.header("Authorization", token);
            }
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** A request line no URI class would let through, on a raw socket; the whole answer. */
    private static String rawRequest(int port, String requestLine) throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write((requestLine + "\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close"
                    + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private static HttpResponse<String> call(String method, String path) {
        return call(http, method, path, null, null);
    }

    private static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/json");
        return JSON.readTree(r.body());
    }

    /** An error answer: the status, JSON with an "error" naming the problem, no stack trace. */
    static String error(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/json");
        JsonNode n = JSON.readTree(r.body());
        assertThat(n.fieldNames()).toIterable().containsExactly("error");
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("at io.warren");
        return n.get("error").asText();
    }

    private static JsonNode clientNamed(String name) throws Exception {
        for (JsonNode c : ok(call("GET", "/admin/clients"))) {
            if (c.get("connection_name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no client " + name + " in " + call("GET", "/admin/clients").body());
    }

    private static WarrenProcess ctl(String... args) {
        List<String> all = new ArrayList<>(List.of("ctl", "--http", "127.0.0.1:" + http));
        all.addAll(List.of(args));
        return WarrenProcess.run(Map.of(), all.toArray(String[]::new));
    }

    @Test
    void everyViewAnswersJsonWithTheClientsChannelsUpstreamsPoolsAndNodesAndNeverTheSecret() throws Exception {
        String name = "view-" + UUID.randomUUID();
        try (Connection c = client(name).newConnection(); Channel ch = c.createChannel()) {
            ch.basicPublish("", "nowhere", new AMQP.BasicProperties(), new byte[10]);
            JsonNode v = await().atMost(Duration.ofSeconds(10)).until(() -> clientNamed(name),
                    n -> n.get("messages_published").asLong() == 1);
            assertThat(v.get("user").asText()).isEqualTo(user);
            assertThat(v.get("vhost").asText()).isEqualTo("/");
            assertThat(v.get("product").asText()).isEqualTo("RabbitMQ");
            assertThat(v.get("peer").asText()).startsWith("127.0.0.1:");
            assertThat(v.get("tls").asBoolean()).isFalse();
            assertThat(v.get("state").asText()).isEqualTo("open");
            assertThat(v.get("connected_since").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
            assertThat(v.get("bytes_received").asLong()).isPositive();
            assertThat(v.get("bytes_sent").asLong()).isPositive();
            JsonNode channel = v.get("channels").get(0);
            assertThat(channel.get("number").asInt()).isEqualTo(1);
            assertThat(channel.get("node").asText()).isEqualTo(broker.host() + ":" + broker.amqpPort());
            assertThat(channel.get("reuse").asText()).isEqualTo("reusable so far");
            long id = v.get("id").asLong();
            assertThat(ok(call("GET", "/admin/clients/" + id)).get("connection_name").asText()).isEqualTo(name);

            JsonNode upstream = null;
            for (JsonNode u : ok(call("GET", "/admin/upstreams"))) {
                if (u.get("id").asLong() == channel.get("upstream_connection").asLong()) {
                    upstream = u;
                }
            }
            assertThat(upstream).as("the channel's upstream connection").isNotNull();
            assertThat(upstream.get("user").asText()).isEqualTo(user);
            assertThat(upstream.get("channels_in_use").asInt()).isEqualTo(1);
            assertThat(upstream.get("blocked").asBoolean()).isFalse();
            assertThat(v.get("event_loop").isInt()).as("the client's event_loop").isTrue();
            assertThat(upstream.get("event_loop").isInt()).as("the upstream's event_loop").isTrue();
            assertThat(v.get("event_loop").asInt()).isNotNegative();
            assertThat(upstream.get("event_loop").asInt()).isNotNegative();
            JsonNode pools = ok(call("GET", "/admin/pools"));
            assertThat(pools.findValuesAsText("user")).contains(user);
            JsonNode pool = null;
            for (JsonNode p : pools) {
                pool = p.get("user").asText().equals(user) ? p : pool;
            }
            // Nothing scrubbed yet for this key: the scrub pipeline's size is still its bound.
            assertThat(pool.get("channels_scrubbing").asInt()).isZero();
            assertThat(pool.get("channel_target").asInt()).isEqualTo(256);
            assertThat(pool.get("scrub_round_trip_millis").asDouble()).isZero();
            JsonNode nodes = ok(call("GET", "/admin/nodes"));
            assertThat(nodes.get(0).get("name").asText()).isEqualTo(broker.host() + ":" + broker.amqpPort());
            assertThat(nodes.get(0).get("state").asText()).isEqualTo("up");
            assertThat(ok(call("GET", "/admin/vhosts"))).isEmpty();

            String everything = call("GET", "/admin/clients").body() + call("GET", "/admin/upstreams").body()
                    + call("GET", "/admin/pools").body() + call("GET", "/admin/nodes").body();
            assertThat(everything).contains(user).doesNotContain(password);

            WarrenProcess table = ctl("clients");
            assertThat(table.exitCode()).as(table.output()).isZero();
            assertThat(table.output()).contains("ID", "PEER", "USER", "STATE", name, user)
                    .doesNotContain(password);
            WarrenProcess json = ctl("--json", "client", Long.toString(id));
            assertThat(json.exitCode()).as(json.output()).isZero();
            assertThat(JSON.readTree(json.output()).get("connection_name").asText()).isEqualTo(name);
            for (String view : List.of("upstreams", "pools", "nodes", "vhosts")) {
                WarrenProcess p = ctl(view);
                assertThat(p.exitCode()).as(view + ": " + p.output()).isZero();
                assertThat(p.output()).doesNotContain(password);
            }
            assertThat(ctl("pools").output()).contains("SCRUBBING", "TARGET", "SCRUB_RTT_MS", user);
            assertThat(ctl("nodes").output()).contains("NODE", "STATE", broker.host() + ":" + broker.amqpPort(), "up");
        }
    }

    @Test
    void badRequestsGetAJsonErrorWithAFittingStatusAndChangeNothing() throws Exception {
        String name = "bad-" + UUID.randomUUID();
        try (Connection c = client(name).newConnection()) {
            long id = clientNamed(name).get("id").asLong();
            assertThat(error(call("GET", "/admin/clients/abc"), 400)).contains("bad client id 'abc'");
            assertThat(error(call("GET", "/admin/clients/-3"), 400)).contains("bad client id '-3'");
            assertThat(error(call("GET", "/admin/clients/99999999"), 404)).isEqualTo("no client 99999999 is connected");
            assertThat(error(call("DELETE", "/admin/clients/99999999"), 404)).contains("no client 99999999");
            assertThat(error(call(http, "DELETE", "/admin/clients/" + id, "{\"reason\": ", null), 400))
                    .startsWith("malformed JSON body");
            assertThat(error(call(http, "DELETE", "/admin/clients/" + id, "[1]", null), 400)).contains("JSON object");
            assertThat(error(call(http, "DELETE", "/admin/clients/" + id, "{\"why\": \"x\"}", null), 400))
                    .contains("unknown field(s) [why]");
            assertThat(error(call(http, "DELETE", "/admin/clients/" + id, "{\"reason\": 7}", null), 400))
                    .contains("\"reason\" must be a string");
            assertThat(error(call(http, "DELETE", "/admin/clients/" + id,
                    "{\"reason\": \"" + "x".repeat(AdminApi.MAX_REASON + 1) + "\"}", null), 400)).contains("at most");
            assertThat(c.isOpen()).as("no bad request closed the client").isTrue();
            HttpResponse<String> wrongMethod = call("POST", "/admin/clients");
            assertThat(error(wrongMethod, 405)).contains("method POST is not allowed here; use GET");
            assertThat(wrongMethod.headers().firstValue("Allow")).contains("GET");
            assertThat(error(call("GET", "/admin/nope"), 404)).contains("no such admin resource");
            // The JDK's server refuses a path that is not a URI before the admin API sees it: still a 400.
            assertThat(rawRequest(http, "POST /admin/vhosts/%zz/pause HTTP/1.1")).startsWith("HTTP/1.1 400")
                    .doesNotContain("\tat ");
            assertThat(error(call("POST", "/admin/vhosts/a/b/pause"), 404)).contains("%2F");
            assertThat(error(call("POST", "/admin/nodes/127.0.0.1:1/drain"), 404))
                    .contains("no upstream node '127.0.0.1:1'", broker.host() + ":" + broker.amqpPort());
            assertThat(ok(call("GET", "/admin/vhosts"))).as("nothing paused").isEmpty();
            assertThat(clientNamed(name).get("state").asText()).isEqualTo("open");

            WarrenProcess unknown = ctl("kill", "99999999");
            assertThat(unknown.exitCode()).isEqualTo(1);
            assertThat(unknown.output()).contains("warren ctl: no client 99999999 is connected (HTTP 404)");
            WarrenProcess badId = ctl("kill", "abc");
            assertThat(badId.exitCode()).isEqualTo(1);
            assertThat(badId.output()).contains("bad client id 'abc'");
            WarrenProcess noCommand = ctl("frobnicate");
            assertThat(noCommand.exitCode()).isEqualTo(2);
            assertThat(noCommand.output()).contains("unknown command 'frobnicate'; commands: clients, client,");
            WarrenProcess noArgument = ctl("pause");
            assertThat(noArgument.exitCode()).isEqualTo(2);
            assertThat(noArgument.output()).contains("pause needs VHOST");
            WarrenProcess nobody = WarrenProcess.run(Map.of(), "ctl", "--http", "127.0.0.1:" + PortFinder.freePort(),
                    "clients");
            assertThat(nobody.exitCode()).isEqualTo(1);
            assertThat(nobody.output()).contains("cannot connect to Warren's HTTP endpoint at 127.0.0.1:");
            WarrenProcess badHttp = WarrenProcess.run(Map.of(), "ctl", "--http", "nowhere", "clients");
            assertThat(badHttp.exitCode()).isEqualTo(2);
            assertThat(badHttp.output()).contains("http (--http)");
        }
    }

    @Test
    void ctlKillClosesThatClientWith320AndTheOperatorsReason() throws Exception {
        String name = "kill-" + UUID.randomUUID();
        try (Connection bystander = client("bystander-" + name).newConnection()) {
            Connection c = client(name).newConnection();
            CompletableFuture<ShutdownSignalException> closed = new CompletableFuture<>();
            c.addShutdownListener(closed::complete);
            long id = clientNamed(name).get("id").asLong();
            WarrenProcess kill = ctl("kill", Long.toString(id), "--reason", "maintenance window");
            assertThat(kill.exitCode()).as(kill.output()).isZero();
            String text = "CONNECTION_FORCED - closed by the operator through Warren's admin API: maintenance window";
            assertThat(kill.output()).contains("closed client " + id + ": " + text);
            AMQP.Connection.Close close = (AMQP.Connection.Close) closed.get(10, TimeUnit.SECONDS).getReason();
            assertThat(close.getReplyCode()).isEqualTo(320);
            assertThat(close.getReplyText()).isEqualTo(text);
            assertThat(bystander.isOpen()).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> call("GET", "/admin/clients/" + id).statusCode() == 404);
        }
    }

    @Test
    void ctlPauseHoldsNewClientsOfAVhostWithASlashUntilResume() throws Exception {
        String vhost = "admin/it-" + UUID.randomUUID();
        broker.addVhost(vhost);
        broker.setPermissions(vhost, user);
        try {
            WarrenProcess pause = ctl("pause", vhost);
            assertThat(pause.exitCode()).as(pause.output()).isZero();
            assertThat(pause.output()).contains("virtual host '" + vhost + "' paused");
            assertThat(ctl("pause", vhost).output()).contains("was paused already");
            JsonNode paused = ok(call("GET", "/admin/vhosts"));
            assertThat(paused.findValuesAsText("vhost")).containsExactly(vhost);

            ConnectionFactory f = client("held-" + vhost);
            f.setVirtualHost(vhost);
            CompletableFuture<Connection> held = CompletableFuture.supplyAsync(() -> {
                try {
                    return f.newConnection();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> ok(call("GET", "/admin/vhosts")).get(0).get("waiting")
                    .asInt() == 1);
            assertThat(clientNamed("held-" + vhost).get("state").asText()).isEqualTo("held");
            assertThat(ctl("vhosts").output()).contains("VHOST", "WAITING", vhost);
            try (Connection other = client("root-" + vhost).newConnection()) { // "/" is not paused
                assertThat(other.isOpen()).isTrue();
            }
            WarrenProcess resume = ctl("resume", vhost);
            assertThat(resume.output()).contains("virtual host '" + vhost + "' resumed; 1 waiting client(s) go on");
            try (Connection c = held.get(10, TimeUnit.SECONDS)) {
                assertThat(c.isOpen()).isTrue();
            }
            assertThat(ctl("resume", vhost).output()).contains("was not paused");

            // The default vhost, "/", as a raw request: %2F.
            assertThat(ok(call("POST", "/admin/vhosts/%2F/pause")).get("vhost").asText()).isEqualTo("/");
            assertThat(ok(call("GET", "/admin/vhosts")).findValuesAsText("vhost")).containsExactly("/");
            assertThat(ok(call("POST", "/admin/vhosts/%2F/resume")).get("changed").asBoolean()).isTrue();
        } finally {
            call("POST", "/admin/vhosts/%2F/resume");
            broker.deleteVhost(vhost);
        }
    }

    @Test
    void ctlDrainAndUndrainANode() throws Exception {
        String node = broker.host() + ":" + broker.amqpPort();
        WarrenProcess drain = ctl("drain", node);
        try {
            assertThat(drain.exitCode()).as(drain.output()).isZero();
            assertThat(drain.output()).contains(node, "draining", "drained by the operator");
            assertThat(ok(call("GET", "/admin/nodes")).get(0).get("state").asText()).isEqualTo("draining");
            assertThat(WarrenProcess.get(http, "/readyz").statusCode()).as("no node takes connections").isEqualTo(503);
        } finally {
            WarrenProcess undrain = ctl("undrain", node);
            assertThat(undrain.exitCode()).as(undrain.output()).isZero();
            assertThat(undrain.output()).contains(node, "up");
        }
        assertThat(WarrenProcess.get(http, "/readyz").statusCode()).isEqualTo(200);
        WarrenProcess unknown = ctl("drain", "127.0.0.1:1");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.output()).contains("no upstream node '127.0.0.1:1'");
    }

    @Test
    void withATokenFileEveryAdminRequestNeedsTheTokenAndMetricsStayOpen() throws Exception {
        Path dir = Files.createTempDirectory("admin-token");
        String token = "tok-" + UUID.randomUUID();
        Path tokenFile = dir.resolve("token");
        WarrenProcess.write(tokenFile, token + "\n");
        Path wrongFile = dir.resolve("wrong");
        WarrenProcess.write(wrongFile, "wrong-" + UUID.randomUUID() + "\n");
        Path shortFile = dir.resolve("short");
        WarrenProcess.write(shortFile, "abc\n");
        int port = PortFinder.freePort();
        try (WarrenProcess w = WarrenProcess.start(Map.of(), "--listen", "127.0.0.1:" + PortFinder.freePort(),
                "--http", "127.0.0.1:" + port, "--admin-token-file", tokenFile.toString(), upstream())) {
            w.awaitOutput("/healthz /readyz /metrics /admin", Duration.ofSeconds(30));
            HttpResponse<String> none = call(port, "GET", "/admin/clients", null, null);
            assertThat(error(none, 401)).contains("Authorization: Bearer TOKEN");
            assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> v.startsWith("Bearer"));
            assertThat(error(call(port, "GET", "/admin/clients", null, "Basic Zm9vOmJhcg=="), 401)).contains("Bearer");
            assertThat(error(call(port, "GET", "/admin/clients", null, "Bearer nope"), 403)).isEqualTo("wrong admin token");
            assertThat(error(call(port, "POST", "/admin/vhosts/%2F/pause", null, "Bearer nope"), 403)).isNotEmpty();
            assertThat(ok(call(port, "GET", "/admin/vhosts", null, "Bearer nope".replace("nope", token)))).isEmpty();
            assertThat(call(port, "GET", "/metrics", null, null).statusCode()).isEqualTo(200);
            assertThat(call(port, "GET", "/readyz", null, null).statusCode()).isEqualTo(200);

            WarrenProcess good = WarrenProcess.run(Map.of(), "ctl", "--http", "127.0.0.1:" + port,
                    "--admin-token-file", tokenFile.toString(), "nodes");
            assertThat(good.exitCode()).as(good.output()).isZero();
            WarrenProcess wrong = WarrenProcess.run(Map.of("WARREN_ADMIN_TOKEN_FILE", wrongFile.toString()), "ctl",
                    "--http", "127.0.0.1:" + port, "nodes");
            assertThat(wrong.exitCode()).isEqualTo(1);
            assertThat(wrong.output()).contains("warren ctl: wrong admin token (HTTP 403)");
            WarrenProcess missing = WarrenProcess.run(Map.of(), "ctl", "--http", "127.0.0.1:" + port, "nodes");
            assertThat(missing.exitCode()).isEqualTo(1);
            assertThat(missing.output()).contains("(HTTP 401)");
            assertThat(w.output()).doesNotContain(token);
        }
        WarrenProcess tooShort = WarrenProcess.run(Map.of(), "--admin-token-file", shortFile.toString(), upstream());
        assertThat(tooShort.exitCode()).isEqualTo(2);
        assertThat(tooShort.output()).contains("admin-token-file (--admin-token-file): the token in " + shortFile
                + " is 3 characters; use at least 16");
    }

    @Test
    void anHttpEndpointBeyondLoopbackWithoutATokenServesNoAdminApi() throws Exception {
        int port = PortFinder.freePort();
        try (WarrenProcess w = WarrenProcess.start(Map.of(), "--listen", "127.0.0.1:" + PortFinder.freePort(),
                "--http", "0.0.0.0:" + port, upstream())) {
            w.awaitOutput("The admin API is off", Duration.ofSeconds(30));
            assertThat(error(call(port, "GET", "/admin/clients", null, null), 403))
                    .contains("the admin API is off", "not a loopback address", "admin-token-file");
            assertThat(call(port, "GET", "/healthz", null, null).statusCode()).isEqualTo(200);
        }
    }
}
