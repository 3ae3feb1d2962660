package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 3: AMQP 0-9-1 client libraries other than Java's work through Warren. Each test runs a script written
 * with a real non-Java client (scripts in {@code src/test/interop/}) as a child process, first straight
 * against the broker (the baseline, so a failure can be put on the client/environment or on Warren), then
 * against Warren, and checks the JSON summary each run prints.
 *
 * <p>Each script: connects with PLAIN guest/guest, opens a channel, declares a queue, publishes with every
 * basic property and headers and gets it back (checking body and properties), consumes a message, publishes
 * mandatory to an unroutable key and gets basic.return 312, passive-declares a missing queue (404 closes
 * that channel only; a new channel and the first channel still work), publishes 20 messages with publisher
 * confirms, round-trips a 1 MiB body (sha256 checked), and closes channels and connection cleanly.
 *
 * <p>Clients: Node.js amqplib (installed from the npm registry into {@code target/interop-node} at test
 * time, pinned to {@value #AMQPLIB_VERSION}), Python pika and py-amqp from Debian's packages
 * ({@code python3-pika}, {@code python3-amqp}, which {@code .ci/run} installs; PyPI is not reachable from
 * this project's machines). Outside CI a missing Python client skips its test with a message; on CI it fails.
 */
@WithRabbitBroker
class InteropClientsTest {
    static final String AMQPLIB_VERSION = "2.3.1";
    private static final long SCRIPT_TIMEOUT_SECONDS = 120;
    private static final Pattern RESULT_LINE = Pattern.compile("(?m)^INTEROP-RESULT (\\{.*})\\s*$");

    static RabbitBroker broker;
    static WarrenHarness warren;

    private static final Path MODULE_DIR = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
    private static final Path SCRIPTS = MODULE_DIR.resolve("src/test/interop");
    private static final Path LOGS = MODULE_DIR.resolve("target/interop-logs");

    @BeforeAll
    static void startWarren() throws IOException {
        warren = WarrenHarness.start(broker);
        Files.createDirectories(LOGS);
    }

    @AfterAll
    static void stopWarren() {
        if (warren != null) {
            warren.close();
        }
    }

    @Test
    void nodeAmqplib() throws Exception {
        Path nodeModules = installAmqplib();
        String node = onPath("node").orElseThrow(() -> new AssertionError(
                "node is not on PATH: the amqplib interop test needs Node.js (>= 18; CI machines have v20)"));
        Map<String, String> env = Map.of("NODE_PATH", nodeModules.toString());
        checkBothWays("amqplib", AMQPLIB_VERSION, env,
                List.of(node, SCRIPTS.resolve("node/interop.js").toString()));
    }

    @Test
    void pythonPika() throws Exception {
        PythonClient py = pythonWith("pika", "python3-pika");
        checkBothWays("pika", py.version, Map.of(),
                List.of(py.interpreter, SCRIPTS.resolve("python/pika_interop.py").toString()));
    }

    @Test
    void pythonPyAmqp() throws Exception {
        PythonClient py = pythonWith("amqp", "python3-amqp");
        checkBothWays("py-amqp", py.version, Map.of(),
                List.of(py.interpreter, SCRIPTS.resolve("python/pyamqp_interop.py").toString()));
    }

    // ------------------------------------------------------------------------------------------------------

    /** Runs the script against the broker (baseline), then against Warren; both must pass and agree. */
    private void checkBothWays(String client, String version, Map<String, String> env, List<String> command)
            throws Exception {
        Run direct = run(client + "-direct", env, command, broker.host(), broker.amqpPort());
        if (direct.exitCode != 0 || direct.summary == null) {
            fail("BASELINE FAILED: the " + client + " script fails straight against the broker (" + broker.host()
                    + ":" + broker.amqpPort() + "), without Warren, so this is the client, the script or the "
                    + "environment, not Warren.\n" + direct.describe());
        }
        assertSummary(client, version, direct.summary, "direct to broker", "RabbitMQ");

        Run proxied = run(client + "-warren", env, command, "127.0.0.1", warren.port());
        if (proxied.exitCode != 0 || proxied.summary == null) {
            fail("THROUGH WARREN FAILED: the " + client + " script passes straight against the broker but fails "
                    + "through Warren (127.0.0.1:" + warren.port() + ").\n" + proxied.describe());
        }
        // Warren advertises itself as the product, so this also shows the client really went through Warren.
        assertSummary(client, version, proxied.summary, "through Warren", "Warren");
        assertThat(proxied.summary.keySet()).as("%s reports the same checks through Warren as direct", client)
                .containsExactlyInAnyOrderElementsOf(direct.summary.keySet());
        // Everything else must read the same as the baseline (names carry a per-run tag; product is Warren's).
        Map<String, String> expected = new LinkedHashMap<>(direct.summary);
        Map<String, String> actual = new LinkedHashMap<>(proxied.summary);
        for (String perRun : List.of("declared_queue", "get_correlation_id", "consume_message_id",
                "channel_error_text", "server_product", "frame_max")) {
            expected.remove(perRun);
            actual.remove(perRun);
        }
        assertThat(actual).as("%s through Warren reports what it reports direct to the broker", client)
                .isEqualTo(expected);
    }

    private static void assertSummary(String client, String version, Map<String, String> s, String how,
            String product) {
        String as = client + " " + how + ": ";
        assertThat(s).as(as + "summary").containsEntry("client", client).containsEntry("client_version", version);
        assertThat(s.get("server_product")).as(as + "server product").isEqualTo(product);
        assertThat(s.get("declared_queue")).as(as + "declared queue").startsWith("interop-");
        assertThat(s).as(as + "basic.get of a message with properties and headers")
                .containsEntry("get_body", "hello from " + client)
                .containsEntry("get_header_x_str", "value")
                .containsEntry("get_header_x_int", "42")
                .containsEntry("get_timestamp", "1700000000");
        assertThat(s.get("get_correlation_id")).as(as + "correlation id").startsWith("corr-");
        assertThat(s).as(as + "basic.consume")
                .containsEntry("consume_body", "consumed by " + client);
        assertThat(s.get("consume_message_id")).as(as + "consumed message id").startsWith("consume-");
        assertThat(s).as(as + "mandatory publish returned")
                .containsEntry("return_code", "312")
                .containsEntry("return_text", "NO_ROUTE")
                .containsEntry("return_body", "unroutable");
        assertThat(s).as(as + "channel error and recovery on a new channel")
                .containsEntry("channel_error_code", "404")
                .containsEntry("errored_channel_closed", "true")
                .containsEntry("after_error_ok", "true");
        assertThat(s.get("channel_error_text")).as(as + "channel error text").contains("NOT_FOUND");
        assertThat(s).as(as + "publisher confirms")
                .containsEntry("confirms_acked", "20")
                .containsEntry("confirmed_queue_depth", "20");
        assertThat(s).as(as + "1 MiB message")
                .containsEntry("large_bytes", "1048576")
                .containsEntry("large_sha256_match", "true");
        assertThat(s).as(as + "clean close").containsEntry("closed_cleanly", "true");
    }

    private record Run(String name, int exitCode, String stdout, String stderr, Map<String, String> summary) {
        String describe() {
            return "[" + name + "] exit code " + exitCode + "\n--- stdout\n" + tail(stdout) + "\n--- stderr\n"
                    + tail(stderr) + "\n(full output in " + LOGS.resolve(name + ".out") + " and .err)";
        }

        private static String tail(String s) {
            return s.length() <= 6000 ? s : "..." + s.substring(s.length() - 6000);
        }
    }

    private static Run run(String name, Map<String, String> env, List<String> command, String host, int port)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(command);
        cmd.add(host);
        cmd.add(Integer.toString(port));
        Path out = LOGS.resolve(name + ".out");
        Path err = LOGS.resolve(name + ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(MODULE_DIR.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(SCRIPT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail("[" + name + "] " + String.join(" ", cmd) + " did not finish within " + SCRIPT_TIMEOUT_SECONDS
                    + " s\n--- stdout\n" + Files.readString(out) + "\n--- stderr\n" + Files.readString(err));
        }
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        Matcher m = RESULT_LINE.matcher(stdout);
        Map<String, String> summary = m.find() ? FlatJson.parse(m.group(1)) : null;
        return new Run(name, p.exitValue(), stdout, stderr, summary);
    }

    // ------------------------------------------------------------------------------------------------------
    // Getting the clients

    /** npm-installs the pinned amqplib into target/interop-node (skipped when that version is already there). */
    private static Path installAmqplib() throws IOException, InterruptedException {
        Path prefix = MODULE_DIR.resolve("target/interop-node");
        Path nodeModules = prefix.resolve("node_modules");
        Path pkg = nodeModules.resolve("amqplib/package.json");
        if (Files.exists(pkg) && Files.readString(pkg).contains("\"version\": \"" + AMQPLIB_VERSION + "\"")) {
            return nodeModules;
        }
        String npm = onPath("npm").orElseThrow(() -> new AssertionError(
                "npm is not on PATH: the interop test installs the Node.js client amqplib@" + AMQPLIB_VERSION
                        + " from the npm registry with npm (CI machines have Node.js 20 and npm; on Debian: "
                        + "apt-get install -y nodejs npm)"));
        Files.createDirectories(prefix);
        Path log = LOGS.resolve("npm-install.log");
        List<String> cmd = List.of(npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix",
                prefix.toString(), "amqplib@" + AMQPLIB_VERSION);
        Process p = new ProcessBuilder(cmd).directory(MODULE_DIR.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(300, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        if (!done || p.exitValue() != 0 || !Files.exists(pkg)) {
            fail("could not install amqplib@" + AMQPLIB_VERSION + " from the npm registry (" + String.join(" ", cmd)
                    + (done ? ", exit code " + p.exitValue() : ", timed out") + "):\n" + Files.readString(log));
        }
        return nodeModules;
    }

    private record PythonClient(String interpreter, String version) {}

    /**
     * A python3 that can import {@code module}: Debian's /usr/bin/python3 first (where python3-* packages go),
     * then python3 on PATH. Missing: skipped outside CI, a failure on CI (whose .ci/run installs the package).
     */
    private static PythonClient pythonWith(String module, String debianPackage)
            throws IOException, InterruptedException {
        List<String> candidates = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/python3"))) {
            candidates.add("/usr/bin/python3");
        }
        onPath("python3").filter(p -> !candidates.contains(p)).ifPresent(candidates::add);
        List<String> tried = new ArrayList<>();
        for (String py : candidates) {
            Process p = new ProcessBuilder(py, "-c", "import " + module + "; print(" + module + ".__version__)")
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 && !out.isEmpty()) {
                return new PythonClient(py, out.lines().reduce((a, b) -> b).orElseThrow());
            }
            tried.add(py);
        }
        String why = "the Python module '" + module + "' is not importable by " + (tried.isEmpty()
                ? "any python3 (none found)" : String.join(" or ", tried)) + ". It comes from Debian's package "
                + debianPackage + " (apt-get install -y " + debianPackage + ", which .ci/run does); it cannot be "
                + "pip-installed because PyPI is not reachable from this project's machines";
        if ("true".equals(System.getenv("CI"))) {
            fail("on CI " + why);
        }
        Assumptions.abort("skipped: " + why);
        throw new AssertionError("unreachable");
    }

    private static Optional<String> onPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, exe);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate.toString());
            }
        }
        return Optional.empty();
    }

    // ------------------------------------------------------------------------------------------------------

    /** Parses a flat JSON object into text values (other values as their JSON text). */
    static final class FlatJson {
        private FlatJson() {}

        static Map<String, String> parse(String text) {
            try {
                Map<String, String> out = new LinkedHashMap<>();
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(text).fields().forEachRemaining(e ->
                        out.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
                return out;
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("not a JSON object: " + text, e);
            }
        }
    }
}
