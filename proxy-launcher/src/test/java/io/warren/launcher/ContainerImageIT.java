package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.warren.testsupport.PortFinder;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image Jib writes (target/warren-image.tar, Docker's format). No Docker engine runs here, so the image
 * is read as Docker would read it: its config (entrypoint, user, environment, ports, health check), its layers'
 * files, and, as root, its root file system run in a chroot with its own /proc, as its user, with its entrypoint
 * and health-check command: Warren must start on nothing but what the layers hold.
 */
@WithRabbitBroker
class ContainerImageIT {
    static RabbitBroker broker;

    @TempDir
    static Path image;

    private static JsonNode config;
    private static List<String> layers;

    @BeforeAll
    static void unpack() throws Exception {
        Path tar = WarrenProcess.dist().resolveSibling("warren-image.tar");
        Command.run("tar", "-xf", tar.toString(), "-C", image.toString()).ok();
        ObjectMapper json = new ObjectMapper();
        JsonNode manifest = json.readTree(image.resolve("manifest.json").toFile()).get(0);
        assertThat(manifest.get("RepoTags").get(0).asText()).isEqualTo("warren:" + System.getProperty("warren.version"));
        config = json.readTree(image.resolve(manifest.get("Config").asText()).toFile());
        layers = new ArrayList<>();
        manifest.get("Layers").forEach(l -> layers.add(l.asText()));
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static Map<String, String> imageEnv() {
        Map<String, String> env = new HashMap<>();
        for (String kv : strings(config.at("/config/Env"))) {
            env.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
        return env;
    }

    @Test
    void configHasTheEntrypointUserDefaultsPortsAndHealthCheck() {
        JsonNode c = config.get("config");
        assertThat(config.get("os").asText()).isEqualTo("linux");
        assertThat(config.get("architecture").asText()).isEqualTo("amd64");
        assertThat(strings(c.get("Entrypoint"))).containsExactly("/opt/warren/runtime/bin/java",
                "@/opt/warren/lib/container.args");
        assertThat(c.get("User").asText()).as("a non-root numeric user").isEqualTo("65532:65532");
        assertThat(imageEnv()).containsEntry("WARREN_CONFIG", "/etc/warren/warren.conf")
                .containsEntry("WARREN_LISTEN", "0.0.0.0:5673").containsEntry("WARREN_HTTP", "0.0.0.0:15673");
        assertThat(c.get("ExposedPorts").fieldNames()).toIterable().containsExactlyInAnyOrder("5673/tcp", "15673/tcp");
        List<String> check = strings(c.at("/Healthcheck/Test"));
        assertThat(check).startsWith("CMD", "/opt/warren/runtime/bin/java").endsWith("ReadyProbe");
        assertThat(c.at("/Healthcheck/Interval").asLong()).isEqualTo(Duration.ofSeconds(30).toNanos());
        assertThat(config.at("/rootfs/diff_ids")).hasSize(layers.size());
    }

    @Test
    void layersHoldGlibcTheRuntimeAndWarrenOnly() {
        List<String> files = new ArrayList<>();
        for (String layer : layers) {
            files.addAll(Command.run("tar", "--warning=no-unknown-keyword", "-tzf", image.resolve(layer).toString())
                    .ok().output().lines().toList());
        }
        assertThat(layers).as("glibc, the Java runtime, Warren").hasSize(3);
        assertThat(files).contains("lib64/ld-linux-x86-64.so.2", "lib/x86_64-linux-gnu/libc.so.6",
                "opt/warren/runtime/bin/java", "opt/warren/runtime/lib/server/libjvm.so",
                "opt/warren/runtime/lib/modules", "opt/warren/lib/warren.aot", "opt/warren/lib/container.args",
                "opt/warren/lib/proxy-launcher-" + System.getProperty("warren.version") + ".jar",
                "opt/warren/lib/probe/ReadyProbe.class", "etc/warren/warren.conf", "etc/warren/logback.xml",
                "opt/warren/plugins/README", "usr/share/doc/libc6/copyright");
        assertThat(files).as("no Jib /app layers, no shell scripts (the image has no shell)")
                .noneMatch(f -> f.startsWith("app/") || f.startsWith("opt/warren/bin/") || f.equals("bin/sh"));
    }

    @Test
    void itsRootFileSystemRunsWarrenAsItsUserAndTheHealthCheckPasses() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "chroot and a /proc of its own need root");
        Path root = Files.createDirectories(image.resolve("rootfs"));
        for (String layer : layers) {
            Command.run("tar", "--warning=no-unknown-keyword", "-xzf", image.resolve(layer).toString(), "-C",
                    root.toString()).ok();
        }
        Files.createDirectories(root.resolve("proc"));
        int amqp = PortFinder.freePort();
        int http = PortFinder.freePort();
        Map<String, String> env = imageEnv();
        // Loopback ports of this test instead of the image's 0.0.0.0 defaults; AOTMode=on: no start without the cache.
        env.put("WARREN_LISTEN", "127.0.0.1:" + amqp);
        env.put("WARREN_HTTP", "127.0.0.1:" + http);
        env.put("WARREN_UPSTREAM", "amqp://" + broker.host() + ":" + broker.amqpPort());
        env.put("JDK_JAVA_OPTIONS", "-XX:AOTMode=on");
        String user = config.at("/config/User").asText();
        List<String> chroot = List.of("unshare", "--fork", "--pid", "--mount", "--mount-proc=" + root.resolve("proc"),
                "chroot", "--userspec=" + user, root.toString());
        List<String> entrypoint = new ArrayList<>(chroot);
        entrypoint.addAll(strings(config.at("/config/Entrypoint")));
        Map<String, String> processEnv = new HashMap<>(env);
        processEnv.put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"); // for unshare and chroot, outside the image
        try (WarrenProcess warren = WarrenProcess.start(entrypoint, processEnv)) {
            warren.awaitOutput("/healthz /readyz /metrics", Duration.ofSeconds(60));
            HttpResponse<String> ready = WarrenProcess.get(http, "/readyz");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);

            List<String> check = new ArrayList<>(chroot);
            List<String> test = strings(config.at("/config/Healthcheck/Test"));
            check.addAll(test.subList(1, test.size()));
            Map<String, String> probeEnv = new HashMap<>(processEnv);
            probeEnv.remove("JDK_JAVA_OPTIONS"); // Docker runs the check with the image's environment
            Command probe = Command.run(probeEnv, Duration.ofSeconds(30), check.toArray(String[]::new));
            assertThat(probe.exitCode()).as(probe.output()).isZero();
            assertThat(probe.output()).contains("HTTP/1.1 200");

            ProcessHandle java = ProcessHandle.of(warren.pid()).orElseThrow().descendants()
                    .filter(p -> p.info().command().orElse("").endsWith("/java")).findFirst().orElseThrow();
            assertThat(Files.readString(Path.of("/proc/" + java.pid() + "/status")))
                    .containsPattern("Uid:\\s+65532\\s");
            new ProcessBuilder("kill", "-TERM", Long.toString(java.pid())).start().waitFor();
            assertThat(warren.awaitExit(Duration.ofSeconds(40))).as(warren.output()).isZero();
            assertThat(warren.output()).contains("Received SIGTERM");
        }
        // Not ready: the probe fails once Warren has gone.
        List<String> check = new ArrayList<>(chroot);
        List<String> test = strings(config.at("/config/Healthcheck/Test"));
        check.addAll(test.subList(1, test.size()));
        processEnv.remove("JDK_JAVA_OPTIONS");
        assertThat(Command.run(processEnv, Duration.ofSeconds(30), check.toArray(String[]::new)).exitCode()).isOne();
    }
}
