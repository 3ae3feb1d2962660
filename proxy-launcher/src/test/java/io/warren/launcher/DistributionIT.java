package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.warren.testsupport.PortFinder;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution's own runtime (runtime/, a jlink image): bin/warren runs it whatever the machine's Java, the
 * AOT cache shipped with it is valid where the tarball is unpacked, and it has what Warren needs at run time (the
 * modules jdeps finds, TLS with an EC key, the JDK HTTP server, the file-descriptor MXBean of jdk.management).
 */
@WithRabbitBroker
class DistributionIT {
    static RabbitBroker broker;

    @TempDir
    Path tmp;

    private static Path dist() {
        return WarrenProcess.dist();
    }

    private static String upstream() {
        return "amqp://" + broker.host() + ":" + broker.amqpPort();
    }

    @Test
    void runsItsOwnRuntimeNotJavaHomeNorTheJavaOnThePath() throws Exception {
        assertThat(Path.of("/usr/bin/java")).as("this test needs a java on the PATH to prove it is not used").exists();
        int amqp = PortFinder.freePort();
        try (WarrenProcess warren = WarrenProcess.start(
                Map.of("PATH", "/usr/bin:/bin", "JAVA_HOME", System.getProperty("java.home")),
                "--listen", "127.0.0.1:" + amqp, "--http", "off", upstream())) {
            warren.awaitOutput("drain timeout", Duration.ofSeconds(30));
            assertThat(Path.of("/proc/" + warren.pid() + "/exe").toRealPath())
                    .isEqualTo(dist().resolve("runtime/bin/java").toRealPath());
            warren.terminate();
            assertThat(warren.awaitExit(Duration.ofSeconds(15))).as(warren.output()).isZero();
        }
    }

    @Test
    void runsWithNoJavaOnThePathAndNoJavaHome() throws Exception {
        // A PATH with the tools bin/warren's shell code uses, and no java.
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        for (String tool : List.of("dirname", "sed", "cat", "ls", "readlink")) {
            Files.createSymbolicLink(bin.resolve(tool), Path.of("/usr/bin", tool).toRealPath());
        }
        Map<String, String> env = Map.of("PATH", bin.toString());
        assertThat(Command.run(env, Duration.ofSeconds(10), "/bin/sh", "-c", "command -v java").exitCode())
                .as("no java on this PATH").isNotZero();
        Command version = Command.run(env, Duration.ofSeconds(30), dist().resolve("bin/warren").toString(),
                "--version").ok();
        assertThat(version.output()).startsWith("warren ").contains("Java " + runtimeVersion());
        Command check = Command.run(env, Duration.ofSeconds(30), dist().resolve("bin/warren").toString(),
                "--check-config", upstream()).ok();
        assertThat(check.output()).contains("reuse-policy publish-safe");
    }

    @Test
    void theShippedArchiveIsValidWhereTheTarballIsUnpacked() throws Exception {
        assumeTrue(Files.exists(dist().resolve("lib/warren.aot")), "the runtime has no relocatable AOT cache (Java 17)");
        Path tarball = dist().resolveSibling("warren-" + System.getProperty("warren.version") + ".tar.gz");
        Command.run("tar", "-xzf", tarball.toString(), "-C", tmp.toString()).ok();
        Path unpacked = tmp.resolve("warren-" + System.getProperty("warren.version"));
        // AOTMode=on: the JVM refuses to start rather than run without the cache.
        Command version = Command.run(Map.of("PATH", "/usr/bin:/bin", "JAVA_OPTS", "-XX:AOTMode=on"),
                Duration.ofSeconds(30), unpacked.resolve("bin/warren").toString(), "--version").ok();
        assertThat(version.output()).contains("Java " + runtimeVersion());
        // A jar in plugins/ is appended to the classpath: the cache still applies.
        Command.run("cp", dist().resolve("lib/picocli-4.7.7.jar").toString(),
                unpacked.resolve("plugins/extra.jar").toString()).ok();
        Command.run(Map.of("PATH", "/usr/bin:/bin", "JAVA_OPTS", "-XX:AOTMode=on"), Duration.ofSeconds(30),
                unpacked.resolve("bin/warren").toString(), "--version").ok();
    }

    private static final Set<String> JACKSON_OPTIONAL = Set.of("java.desktop", "java.sql");

    @Test
    void theRuntimeHasEveryModuleJdepsFindsInLib() throws Exception {
        List<String> jars;
        try (Stream<Path> files = Files.list(dist().resolve("lib"))) {
            jars = files.map(Path::toString).filter(f -> f.endsWith(".jar")).sorted().toList();
        }
        String jdeps = Path.of(System.getProperty("java.home"), "bin", "jdeps").toString();
        String[] command = Stream.concat(Stream.of(jdeps, "--print-module-deps", "--ignore-missing-deps",
                "--multi-release", "17", "-q"), jars.stream()).toArray(String[]::new);
        String needed = Command.run(command).ok().output().strip();
        Set<String> present = runtimeModules();
        Set<String> wanted = new java.util.TreeSet<>(Arrays.asList(needed.substring(needed.lastIndexOf('\n') + 1)
                .split(",")));
        // Jackson (the admin API's JSON) refers to java.beans (java.desktop, 12 MB) and java.sql only for types
        // Warren never serializes, and looks for them at run time; AdminApiIT runs on this very runtime.
        wanted.removeAll(JACKSON_OPTIONAL);
        assertThat(present).containsAll(wanted);
        assertThat(present).doesNotContainAnyElementsOf(JACKSON_OPTIONAL);
    }

    @Test
    void tlsWithAnEcKeyHttpAndTheFileDescriptorMXBeanWorkOnTheRuntime() throws Exception {
        Command.run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", tmp.resolve("ec.key").toString(), "-out", tmp.resolve("ec.pem").toString(),
                "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost").ok();
        int amqp = PortFinder.freePort();
        int amqps = PortFinder.freePort();
        int http = PortFinder.freePort();
        try (WarrenProcess warren = WarrenProcess.start(Map.of(), "--listen", "127.0.0.1:" + amqp,
                "--http", "127.0.0.1:" + http, "--tls-listen", "127.0.0.1:" + amqps,
                "--tls-cert", tmp.resolve("ec.pem").toString(), "--tls-key", tmp.resolve("ec.key").toString(),
                upstream())) {
            warren.awaitOutput("/healthz /readyz /metrics", Duration.ofSeconds(30));
            try (SSLSocket socket = (SSLSocket) trusting(tmp.resolve("ec.pem")).getSocketFactory()
                    .createSocket("127.0.0.1", amqps)) {
                socket.setSoTimeout(10_000);
                socket.startHandshake();
                assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
                assertThat(socket.getSession().getPeerCertificates()[0].getPublicKey().getAlgorithm()).isEqualTo("EC");
                socket.getOutputStream().write("AMQP\0\0\11\1".getBytes(StandardCharsets.ISO_8859_1));
                DataInputStream in = new DataInputStream(socket.getInputStream());
                assertThat(in.readUnsignedByte()).as("a method frame: connection.start").isEqualTo(1);
            }
            String metrics = WarrenProcess.get(http, "/metrics").body();
            assertThat(WarrenProcess.sample(metrics, "process_open_fds")).isGreaterThan(10);
            assertThat(WarrenProcess.sample(metrics, "process_max_fds")).isGreaterThan(1000);
            assertThat(WarrenProcess.sample(metrics, "warren_tls_handshakes_total{outcome=\"ok\",side=\"server\"}"))
                    .isEqualTo(1);
            assertThat(metrics).contains("jvm_runtime_info{", "version=\"" + runtimeVersion());
            warren.terminate();
            assertThat(warren.awaitExit(Duration.ofSeconds(15))).as(warren.output()).isZero();
        }
    }

    private static SSLContext trusting(Path pem) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = new ByteArrayInputStream(Files.readAllBytes(pem))) {
            trust.setCertificateEntry("warren", (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    /** JAVA_VERSION of runtime/release, e.g. 25.0.3. */
    static String runtimeVersion() throws Exception {
        return release("JAVA_VERSION");
    }

    private static Set<String> runtimeModules() throws Exception {
        return Arrays.stream(release("MODULES").split(" ")).collect(Collectors.toCollection(TreeSet::new));
    }

    private static String release(String key) throws Exception {
        return Files.readAllLines(dist().resolve("runtime/release")).stream()
                .filter(l -> l.startsWith(key + "=")).findFirst().orElseThrow()
                .substring(key.length() + 1).replace("\"", "");
    }
}
