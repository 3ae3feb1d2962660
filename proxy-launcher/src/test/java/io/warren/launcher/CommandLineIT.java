package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.testsupport.TlsTestCerts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/warren's command line, configuration and errors, as an operator meets them. No broker needed. */
class CommandLineIT {
    @TempDir
    Path tmp;

    private static void assertOneLineError(WarrenProcess p, String... parts) {
        assertThat(p.exitCode()).as(p.output()).isEqualTo(2);
        String out = p.output().strip();
        assertThat(out.lines()).as("one line: " + out).hasSize(1);
        assertThat(out).startsWith("warren: ").contains(parts).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void helpAndVersionExitZero() {
        WarrenProcess help = WarrenProcess.run(Map.of(), "--help");
        assertThat(help.exitCode()).isZero();
        for (Setting s : Setting.values()) {
            assertThat(help.output()).contains(s.option());
        }
        WarrenProcess version = WarrenProcess.run(Map.of(), "--version");
        assertThat(version.exitCode()).isZero();
        assertThat(version.output()).startsWith("warren " + System.getProperty("warren.version", ""));
    }

    @Test
    void missingUpstreamIsOneLineAndExitTwo() {
        assertOneLineError(WarrenProcess.run(Map.of()), "upstream: missing");
    }

    @Test
    void badValuesNameTheKeyAndTheSource() {
        assertOneLineError(WarrenProcess.run(Map.of("WARREN_LISTEN", "nonsense"), "amqp://127.0.0.1:5672"),
                "listen (WARREN_LISTEN)", "nonsense");
        assertOneLineError(WarrenProcess.run(Map.of(), "--heartbeat", "ten", "amqp://127.0.0.1:5672"),
                "heartbeat (--heartbeat)", "not a duration");
        assertOneLineError(WarrenProcess.run(Map.of(), "--frame-max", "100", "amqp://127.0.0.1:5672"),
                "frame-max (--frame-max)", "4096");
        assertOneLineError(WarrenProcess.run(Map.of(), "--message-buffer", "1k", "amqp://127.0.0.1:5672"),
                "message-buffer (--message-buffer)", "at least 65536");
        assertOneLineError(WarrenProcess.run(Map.of("WARREN_MESSAGE_BUFFER", "lots"), "amqp://127.0.0.1:5672"),
                "message-buffer (WARREN_MESSAGE_BUFFER)", "not a size");
        assertOneLineError(WarrenProcess.run(Map.of(), "--log-format", "xml", "amqp://127.0.0.1:5672"),
                "log-format (--log-format)");
        assertOneLineError(WarrenProcess.run(Map.of(), "--no-such-option", "amqp://127.0.0.1:5672"),
                "--no-such-option");
        assertOneLineError(WarrenProcess.run(Map.of(), "http://127.0.0.1:5672"), "upstream", "scheme");
    }

    @Test
    void unknownFileKeyNamesFileLineAndKey() throws Exception {
        Path conf = tmp.resolve("warren.conf");
        Files.writeString(conf, "# comment\nlisten = 127.0.0.1:5673\nlisen = 127.0.0.1:1\n");
        assertOneLineError(WarrenProcess.run(Map.of(), "--config", conf.toString(), "amqp://127.0.0.1:5672"),
                conf + ":3", "unknown key 'lisen'");
    }

    @Test
    void unknownPolicyListsTheNamesFound() {
        assertOneLineError(WarrenProcess.run(Map.of("WARREN_REUSE_POLICY", "sometimes"), "amqp://127.0.0.1:5672"),
                "reuse-policy (WARREN_REUSE_POLICY)", "'sometimes'", "never, publish-safe");
    }

    @Test
    void checkConfigShowsPrecedenceAndMasksSecrets() throws Exception {
        Path conf = tmp.resolve("warren.conf");
        Files.writeString(conf, String.join("\n",
                "upstream = amqp://admin:hunter2@127.0.0.1:5672/prod",
                "listen = 127.0.0.1:6001",
                "http = 127.0.0.1:16001",
                "heartbeat = 10s",
                "frame-max = 65536",
                ""));
        WarrenProcess p = WarrenProcess.run(
                Map.of("WARREN_CONFIG", conf.toString(), "WARREN_LISTEN", "127.0.0.1:6002",
                        "WARREN_HEARTBEAT", "20s"),
                "--check-config", "--heartbeat", "30s", "--drain-timeout", "250ms");
        assertThat(p.exitCode()).as(p.output()).isZero();
        String out = p.output();
        assertThat(out).doesNotContain("hunter2").contains("amqp://admin:***@127.0.0.1:5672/prod");
        assertThat(line(out, "heartbeat")).contains("30s").contains("# --heartbeat");            // CLI > env > file
        assertThat(line(out, "listen")).contains("127.0.0.1:6002").contains("# WARREN_LISTEN");  // env > file
        assertThat(line(out, "http")).contains("127.0.0.1:16001").contains(conf + ":3");         // file > default
        assertThat(line(out, "frame-max")).contains("65536");
        assertThat(line(out, "drain-timeout")).contains("250ms");
        assertThat(line(out, "reuse-policy")).contains("publish-safe").contains("# default");
        assertThat(out).contains("reuse-policy publish-safe");
    }

    @Test
    void shippedConfigFileIsValidAndListsEveryKeyWithItsDefault() throws Exception {
        String shipped = Files.readString(WarrenProcess.dist().resolve("conf/warren.conf"));
        for (Setting s : Setting.values()) {
            String expected = "#" + s.key() + " = " + s.defaultValue().orElse("");
            assertThat(shipped).as(s.key()).contains(expected);
        }
        // bin/warren reads it by default; all commented out, it changes nothing.
        WarrenProcess p = WarrenProcess.run(Map.of(), "--check-config", "amqp://127.0.0.1:5672");
        assertThat(p.exitCode()).as(p.output()).isZero();
        assertThat(line(p.output(), "listen")).contains("127.0.0.1:5673").contains("# default");
    }

    @Test
    void aClustersNodesAreListedAndEveryMistakeInTheListIsNamed() {
        WarrenProcess ok = WarrenProcess.run(Map.of(), "--check-config",
                "amqp://127.0.0.1:5672, amqp://bob:s3cret@127.0.0.2:5673");
        assertThat(ok.exitCode()).as(ok.output()).isZero();
        assertThat(ok.output()).doesNotContain("s3cret")
                .contains("# upstream 2 nodes (amqp): 127.0.0.1:5672, 127.0.0.2:5673");
        assertThat(line(ok.output(), "upstream")).contains("amqp://127.0.0.1:5672,amqp://bob:***@127.0.0.2:5673");
        WarrenProcess single = WarrenProcess.run(Map.of(), "--check-config", "amqp://127.0.0.1:5672");
        assertThat(single.output()).contains("# upstream node (amqp): 127.0.0.1:5672");

        assertOneLineError(WarrenProcess.run(Map.of(), "--check-config", "amqp://127.0.0.1,not a url"),
                "upstream", "entry 2: not a URL");
        assertOneLineError(WarrenProcess.run(Map.of(), "--check-config", "amqp://127.0.0.1:70000"),
                "upstream", "port 70000 is out of range 1..65535");
        assertOneLineError(WarrenProcess.run(Map.of(), "--check-config", "amqp://127.0.0.1,,amqp://127.0.0.2"),
                "upstream", "entry 2 of 3 is empty");
        assertOneLineError(WarrenProcess.run(Map.of(), "--check-config", "amqp://127.0.0.1,amqp://127.0.0.1:5672"),
                "upstream", "entry amqp://127.0.0.1:5672 is given twice");
        assertOneLineError(WarrenProcess.run(Map.of(), "--check-config", "amqp://127.0.0.1,amqps://127.0.0.2"),
                "upstream", "entry amqps://127.0.0.2:5671 is amqps but amqp://127.0.0.1:5672 is amqp");
        assertOneLineError(WarrenProcess.run(Map.of(), "--check-config", "amqp://127.0.0.1,amqp://warren-no-such.invalid"),
                "upstream", "entry amqp://warren-no-such.invalid:5672: host 'warren-no-such.invalid' does not resolve");
        assertOneLineError(WarrenProcess.run(Map.of("WARREN_UPSTREAM_HOLD", "soon"), "--check-config",
                "amqp://127.0.0.1"), "upstream-hold", "WARREN_UPSTREAM_HOLD");
    }

    @Test
    void proxyProtocolModesAreShownAndABadOneNamesTheKeyAndTheSource() {
        TlsTestCerts.ensure();
        WarrenProcess p = WarrenProcess.run(Map.of("WARREN_TLS_PROXY_PROTOCOL", "Optional"), "--check-config",
                "--proxy-protocol", "required", "--tls-listen", "127.0.0.1:0", "--tls-cert",
                TlsTestCerts.SERVER_CERT, "--tls-key", TlsTestCerts.SERVER_KEY,
                "amqp://127.0.0.1:5672");
        assertThat(p.exitCode()).as(p.output()).isZero();
        assertThat(line(p.output(), "proxy-protocol")).contains("required").contains("# --proxy-protocol");
        assertThat(line(p.output(), "tls-proxy-protocol")).contains("Optional").contains("# WARREN_TLS_PROXY_PROTOCOL");
        WarrenProcess defaults = WarrenProcess.run(Map.of(), "--check-config", "amqp://127.0.0.1:5672");
        assertThat(line(defaults.output(), "proxy-protocol")).contains("off").contains("# default");

        assertOneLineError(WarrenProcess.run(Map.of(), "--proxy-protocol", "v2", "amqp://127.0.0.1:5672"),
                "proxy-protocol (--proxy-protocol)", "'v2' is not one of off, optional, required");
        assertOneLineError(WarrenProcess.run(Map.of("WARREN_PROXY_PROTOCOL", "yes"), "amqp://127.0.0.1:5672"),
                "proxy-protocol (WARREN_PROXY_PROTOCOL)", "'yes' is not one of off, optional, required");
        assertOneLineError(WarrenProcess.run(Map.of(), "--tls-proxy-protocol", "required", "amqp://127.0.0.1:5672"),
                "tls-proxy-protocol (--tls-proxy-protocol)", "only applies to a TLS listener");
    }

    @Test
    void ipv6AddressesInBrackets() {
        WarrenProcess p = WarrenProcess.run(Map.of(), "--check-config", "--listen", "[::1]:5673",
                "amqp://[::1]:5672");
        assertThat(p.exitCode()).as(p.output()).isZero();
        assertThat(line(p.output(), "listen")).contains("[::1]:5673");
        assertThat(line(p.output(), "upstream")).contains("amqp://[::1]:5672");
    }

    private static String line(String out, String key) {
        return out.lines().filter(l -> l.startsWith(key + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no " + key + " in\n" + out));
    }
}
