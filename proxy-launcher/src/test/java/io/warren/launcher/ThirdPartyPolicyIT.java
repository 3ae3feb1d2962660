package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.warren.testsupport.PortFinder;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The extension story end to end: examples/reuse-policy-example is built with Maven as its own project (against
 * proxy-api from this build, laid into a private local repository), its jar is dropped into the plugins/ directory of
 * a copy of the distribution, and bin/warren runs with --reuse-policy no-reuse-vhost.
 */
@WithRabbitBroker
class ThirdPartyPolicyIT {
    static RabbitBroker broker;

    @TempDir
    Path tmp;

    @Test
    void aPolicyJarInPluginsIsSelectedByNameAndDecidesReuse() throws Exception {
        Path jar = buildExample();
        Path dist = tmp.resolve("warren");
        exec(tmp, "cp", "-a", WarrenProcess.dist().toString(), dist.toString());
        Files.copy(jar, dist.resolve("plugins").resolve(jar.getFileName()));

        String strict = "strict-" + UUID.randomUUID();
        String relaxed = "relaxed-" + UUID.randomUUID();
        for (String vhost : List.of(strict, relaxed)) {
            broker.addVhost(vhost);
            broker.setPermissions(vhost, "guest");
        }
        int amqp = PortFinder.freePort();
        int http = PortFinder.freePort();
        try (WarrenProcess warren = WarrenProcess.start(dist, Map.of("NO_REUSE_VHOSTS", strict),
                "--listen", "127.0.0.1:" + amqp, "--http", "127.0.0.1:" + http, "--reuse-policy", "no-reuse-vhost",
                "amqp://" + broker.host() + ":" + broker.amqpPort())) {
            warren.awaitOutput("/healthz /readyz /metrics", Duration.ofSeconds(30));
            assertThat(metrics(http)).contains("reuse_policy=\"no-reuse-vhost\"");

            int cycles = 5;
            String close = "warren_reuse_decisions_total{decision=\"close\"}";
            String reuse = "warren_reuse_decisions_total{decision=\"reuse\"}";
            String lent = "warren_channels_lent_total";
            // Each connection of a cycle (a declare, the publishes, a count) leaves one channel for the policy to
            // judge; the verdict is counted as the channel is released, just after the client's close: wait for them.
            publishCycles(amqp, strict, cycles);
            String afterStrict = awaitMetrics(http, "the strict vhost's verdicts",
                    m -> WarrenProcess.sample(m, close) >= cycles + 2);
            assertThat(WarrenProcess.sample(afterStrict, close)).as("every channel of the strict vhost refused")
                    .isEqualTo(cycles + 2);
            assertThat(WarrenProcess.sample(afterStrict, reuse)).as("no channel of the strict vhost may be reused")
                    .isZero();
            assertThat(WarrenProcess.sample(afterStrict, lent)).isZero();

            publishCycles(amqp, relaxed, cycles);
            String afterRelaxed = awaitMetrics(http, "the relaxed vhost's verdicts",
                    m -> WarrenProcess.sample(m, reuse) >= cycles + 2);
            assertThat(WarrenProcess.sample(afterRelaxed, reuse)).as("every channel of the relaxed vhost reusable")
                    .isEqualTo(cycles + 2);
            assertThat(WarrenProcess.sample(afterRelaxed, close)).as("no refusal in the relaxed vhost")
                    .isEqualTo(cycles + 2);
            assertThat(WarrenProcess.sample(afterRelaxed, lent)).as("relaxed channels lent to the next client")
                    .isPositive();
            warren.terminate();
            assertThat(warren.awaitExit(Duration.ofSeconds(30))).as(warren.output()).isZero();
        } finally {
            broker.deleteVhost(strict);
            broker.deleteVhost(relaxed);
        }
    }

    /** The short-lived publisher Warren exists for: connect, channel, publish, close. */
    private static void publishCycles(int port, String vhost, int cycles) throws Exception {
        ConnectionFactory cf = new ConnectionFactory();
        cf.setHost("127.0.0.1");
        cf.setPort(port);
        cf.setVirtualHost(vhost);
        cf.setAutomaticRecoveryEnabled(false);
        String queue = "q-" + UUID.randomUUID();
        try (Connection c = cf.newConnection(); Channel ch = c.createChannel()) {
            ch.queueDeclare(queue, false, false, false, null);
        }
        for (int i = 0; i < cycles; i++) {
            try (Connection c = cf.newConnection(); Channel ch = c.createChannel()) {
                ch.basicPublish("", queue, new AMQP.BasicProperties(), ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
        }
        try (Connection c = cf.newConnection(); Channel ch = c.createChannel()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ch.messageCount(queue) < cycles && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(ch.messageCount(queue)).isEqualTo(cycles);
        }
    }

    private static String metrics(int http) {
        return WarrenProcess.get(http, "/metrics").body();
    }

    /** The metrics once {@code ready} holds for them (within 30 s). */
    private static String awaitMetrics(int http, String what, Predicate<String> ready) {
        String[] last = {null};
        await(what).atMost(Duration.ofSeconds(30)).until(() -> ready.test(last[0] = metrics(http)));
        return last[0];
    }

    /**
     * Builds the example as a third party would, in a copy outside the source tree. proxy-api and proxy-codec (with
     * their parent pom) come from this build and are laid into a private local repository; everything else (Maven's
     * plugins) is read from the build's own local repository as a file:// remote, or from Maven Central.
     */
    private Path buildExample() throws Exception {
        Path root = Path.of(System.getProperty("warren.root", "..")).toAbsolutePath().normalize();
        Path project = tmp.resolve("example");
        exec(tmp, "cp", "-r", root.resolve("examples/reuse-policy-example").toString(), project.toString());
        deleteRecursively(project.resolve("target"));

        Path repo = tmp.resolve("repo");
        String version = System.getProperty("warren.version", "0.1.0");
        Path lib = WarrenProcess.dist().resolve("lib");
        lay(repo, "warren-parent", version, root.resolve("pom.xml"), null);
        lay(repo, "proxy-codec", version, root.resolve("proxy-codec/pom.xml"),
                lib.resolve("proxy-codec-" + version + ".jar"));
        lay(repo, "proxy-api", version, root.resolve("proxy-api/pom.xml"), lib.resolve("proxy-api-" + version + ".jar"));

        Path cache = Path.of(System.getProperty("maven.repo.local",
                System.getProperty("user.home") + "/.m2/repository"));
        Path settings = tmp.resolve("settings.xml");
        Files.writeString(settings, """
                <settings>
                  <profiles><profile><id>build-cache</id>
                    <repositories><repository><id>build-cache</id><url>%1$s</url></repository></repositories>
                    <pluginRepositories><pluginRepository><id>build-cache</id><url>%1$s</url></pluginRepository>
                    </pluginRepositories>
                  </profile></profiles>
                  <activeProfiles><activeProfile>build-cache</activeProfile></activeProfiles>
                </settings>
                """.formatted(cache.toUri()));
        exec(project, "mvn", "-B", "-q", "-s", settings.toString(), "-Dmaven.repo.local=" + repo,
                "-Dwarren.version=" + version, "package");
        try (Stream<Path> jars = Files.list(project.resolve("target"))) {
            return jars.filter(p -> p.toString().endsWith(".jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("the example built no jar"));
        }
    }

    /** Installs an artifact into a local repository by laying out its files, as mvn install would. */
    private static void lay(Path repo, String artifact, String version, Path pom, Path jar) throws IOException {
        Path dir = repo.resolve("io/warren").resolve(artifact).resolve(version);
        Files.createDirectories(dir);
        Files.copy(pom, dir.resolve(artifact + "-" + version + ".pom"));
        if (jar != null) {
            Files.copy(jar, dir.resolve(artifact + "-" + version + ".jar"));
        }
    }

    private static void exec(Path dir, String... command) throws Exception {
        Path log = Files.createTempFile("exec-", ".log");
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " timed out:\n" + Files.readString(log));
        }
        assertThat(p.exitValue()).as(String.join(" ", command) + ":\n" + Files.readString(log)).isZero();
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.delete(p);
            }
        }
    }
}
