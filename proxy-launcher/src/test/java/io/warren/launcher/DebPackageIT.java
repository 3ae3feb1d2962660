package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.warren.testsupport.PortFinder;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * The .deb on this machine, as an operator installs it: dpkg -i, --check-config, a short start as the warren user
 * against the test broker, a reinstall that keeps the operator's edits, dpkg -r, dpkg -P, and then nothing left but
 * what Debian policy leaves (the warren system user, which the test then deletes if it created it). It installs a
 * system package, so it runs only in CI (CI=true, as .ci/run is run), as root, with dpkg, and never over an installed
 * warren package. The machine is left as found even when a step fails. Without systemd as PID 1 (CI) the maintainer
 * scripts only enable the unit; starting and stopping the service is systemd's part.
 */
@WithRabbitBroker
@EnabledIfEnvironmentVariable(named = "CI", matches = "true")
class DebPackageIT {
    static RabbitBroker broker;

    /** Where the package puts anything, and where the maintainer scripts and systemd helpers write. */
    private static final List<String> WATCHED = List.of("/etc", "/usr/bin", "/usr/lib", "/usr/share/doc",
            "/usr/share/man/man1", "/usr/share/lintian", "/var/lib/systemd", "/opt");

    /** dpkg and the maintainer scripts want the system directories on the PATH, whatever the test JVM's is. */
    private static Command sys(String... command) {
        return Command.run(Map.of("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "DEBIAN_FRONTEND", "noninteractive", "LANG", "C.UTF-8"), Duration.ofMinutes(3), command);
    }

    private static String dpkgStatus() {
        Command c = Command.run("dpkg-query", "-W", "-f=${db:Status-Status}", "warren");
        return c.exitCode() == 0 ? c.output().strip() : "not-installed";
    }

    private static Set<String> paths() {
        List<String> command = new java.util.ArrayList<>(List.of("find"));
        command.addAll(WATCHED.stream().filter(p -> Files.exists(Path.of(p))).toList());
        command.add("-xdev");
        return new HashSet<>(Command.run(command.toArray(String[]::new)).output().lines().toList());
    }

    @Test
    void installsChecksStartsReinstallsRemovesAndPurgesLeavingNothing() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "dpkg -i needs root");
        assumeTrue(Command.run("sh", "-c", "command -v dpkg").exitCode() == 0, "not a Debian system");
        assertThat(dpkgStatus()).as("a warren package is installed on this machine: this test would replace it")
                .isEqualTo("not-installed");
        Path deb = WarrenProcess.dist().resolveSibling("warren_" + System.getProperty("warren.version") + "_amd64.deb");
        boolean userExisted = Command.run("getent", "passwd", "warren").exitCode() == 0;
        Set<String> before = paths();
        try {
            installAndCheck(deb);
            startAsTheWarrenUser();

            // An upgrade (here the same version again) keeps the operator's edits of the conffile.
            sys("dpkg", "-i", deb.toString()).ok();
            assertThat(Files.readString(Path.of("/etc/warren/warren.conf"))).contains("upstream = amqp://");

            sys("dpkg", "-r", "warren").ok();
            assertThat(dpkgStatus()).isEqualTo("config-files");
            assertThat(Path.of("/usr/lib/warren")).doesNotExist();
            assertThat(Path.of("/etc/warren/warren.conf")).as("remove keeps the configuration").exists();

            sys("dpkg", "-P", "warren").ok();
            assertThat(dpkgStatus()).isEqualTo("not-installed");
            assertThat(Path.of("/etc/warren")).as("purge removes the configuration").doesNotExist();
            assertThat(Command.run("getent", "passwd", "warren").exitCode())
                    .as("the system user stays after purge, as Debian policy asks").isZero();
            Set<String> left = new HashSet<>(paths());
            left.removeAll(before);
            assertThat(left).as("files the package left behind").noneMatch(p -> p.contains("warren"));
        } finally {
            if (!dpkgStatus().equals("not-installed")) {
                sys("dpkg", "-P", "warren");
            }
            if (!userExisted && Command.run("getent", "passwd", "warren").exitCode() == 0) {
                sys("deluser", "--system", "warren");
            }
            if (!userExisted && Command.run("getent", "group", "warren").exitCode() == 0) {
                sys("delgroup", "--system", "warren");
            }
        }
        assertThat(Command.run("getent", "passwd", "warren").exitCode() == 0).isEqualTo(userExisted);
    }

    private static void installAndCheck(Path deb) throws Exception {
        Command install = sys("dpkg", "-i", deb.toString()).ok();
        assertThat(install.output()).doesNotContain("warning", "error");
        String files = sys("dpkg", "-L", "warren").ok().output();
        assertThat(files.lines()).contains("/usr/bin/warren", "/usr/lib/warren/runtime/bin/java",
                "/usr/lib/warren/lib/warren.aot", "/usr/lib/warren/plugins", "/etc/warren/warren.conf",
                "/etc/warren/logback.xml", "/lib/systemd/system/warren.service", "/lib/systemd/system/warren@.service",
                "/usr/share/man/man1/warren.1.gz",
                "/usr/share/doc/warren/copyright", "/usr/share/warren/monitoring/grafana-dashboard.json",
                "/usr/share/warren/monitoring/prometheus-alerts.yml");
        assertThat(Command.run("dpkg-query", "-W", "-f=${Conffiles}", "warren").ok().output())
                .contains("/etc/warren/warren.conf", "/etc/warren/logback.xml");
        String user = Command.run("getent", "passwd", "warren").ok().output().strip();
        assertThat(user).endsWith(":/nonexistent:/usr/sbin/nologin");
        assertThat(Integer.parseInt(user.split(":")[2])).as("a system uid").isLessThan(1000);
        assertThat(Path.of("/etc/systemd/system/multi-user.target.wants/warren.service").toRealPath())
                .as("the unit is enabled").isEqualTo(Path.of("/lib/systemd/system/warren.service").toRealPath());
        String unit = Files.readString(Path.of("/lib/systemd/system/warren.service"));
        assertThat(unit).contains("ExecStart=/usr/bin/warren", "User=warren").doesNotContain("DynamicUser");
        // The template for upgrades without dropped clients: every instance as the same (static) user.
        String template = Files.readString(Path.of("/lib/systemd/system/warren@.service"));
        assertThat(template).contains("ExecStart=/usr/bin/warren", "User=warren", "Group=warren",
                "systemctl start warren@green").doesNotContain("DynamicUser", "/opt/warren");
        assertThat(Path.of("/etc/systemd/system/multi-user.target.wants/warren@.service"))
                .as("no instance is enabled at install").doesNotExist();
        if (Command.run("sh", "-c", "command -v systemd-analyze").exitCode() == 0) {
            Command.run("systemd-analyze", "verify", "/lib/systemd/system/warren.service").ok();
            Command.run("systemd-analyze", "verify", "warren@blue.service").ok();
        }
        assertThat(sys("man", "-l", "/usr/share/man/man1/warren.1.gz").ok().output())
                .contains("/etc/warren/warren.conf", "EXIT STATUS");

        // No upstream in the shipped configuration: --check-config says so (and the unit would not be started).
        Command check = Command.run(Map.of("PATH", "/usr/bin:/bin"), Duration.ofSeconds(30), "/usr/bin/warren",
                "--check-config");
        assertThat(check.exitCode()).isEqualTo(2);
        assertThat(check.output()).contains("upstream: missing");
    }

    private static void startAsTheWarrenUser() throws Exception {
        int amqp = PortFinder.freePort();
        int http = PortFinder.freePort();
        Files.writeString(Path.of("/etc/warren/warren.conf"), String.join("\n", "",
                "upstream = amqp://" + broker.host() + ":" + broker.amqpPort(), "listen = 127.0.0.1:" + amqp,
                "http = 127.0.0.1:" + http, "drain-timeout = 1s", ""), StandardOpenOption.APPEND);
        Command check = Command.run(Map.of("PATH", "/usr/bin:/bin"), Duration.ofSeconds(30), "/usr/bin/warren",
                "--check-config").ok();
        assertThat(check.output()).contains("# /etc/warren/warren.conf:");

        // As the unit runs it: the warren user, /usr/bin/warren, the configuration in /etc/warren; the AOT cache must
        // be usable (AOTMode=on refuses to start without it).
        try (WarrenProcess warren = WarrenProcess.start(List.of("setpriv", "--reuid=warren", "--regid=warren",
                "--clear-groups", "/usr/bin/warren"), Map.of("JAVA_OPTS", "-XX:AOTMode=on"))) {
            warren.awaitOutput("/healthz /readyz /metrics", Duration.ofSeconds(30));
            assertThat(Path.of("/proc/" + warren.pid() + "/exe").toRealPath())
                    .isEqualTo(Path.of("/usr/lib/warren/runtime/bin/java"));
            assertThat(Files.readString(Path.of("/proc/" + warren.pid() + "/status")))
                    .containsPattern("Uid:\\s+" + Command.run("id", "-u", "warren").ok().output().strip() + "\\s");
            assertThat(WarrenProcess.get(http, "/readyz").statusCode()).isEqualTo(200);
            ConnectionFactory cf = new ConnectionFactory();
            cf.setHost("127.0.0.1");
            cf.setPort(amqp);
            cf.setAutomaticRecoveryEnabled(false);
            try (Connection c = cf.newConnection()) {
                Channel ch = c.createChannel();
                String q = ch.queueDeclare("deb-it-" + UUID.randomUUID(), false, false, true, null).getQueue();
                ch.basicPublish("", q, null, "hello".getBytes(StandardCharsets.UTF_8));
                GetResponse r = null;
                for (int i = 0; i < 100 && r == null; i++) {
                    r = ch.basicGet(q, true);
                    Thread.sleep(r == null ? 50 : 0);
                }
                assertThat(r).isNotNull();
                assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("hello");
            }
            warren.terminate();
            assertThat(warren.awaitExit(Duration.ofSeconds(30))).as(warren.output()).isZero();
        }
    }
}
