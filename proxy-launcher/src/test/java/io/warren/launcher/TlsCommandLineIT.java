package io.warren.launcher;

import io.warren.testsupport.TlsTestCerts;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TLS options of bin/warren, as an operator meets them: checked at startup, errors on one line. No broker. */
class TlsCommandLineIT {
    private static final Path CERTS = TlsTestCerts.DIR;
    private static final String CA = TlsTestCerts.CA;
    private static final String CERT = TlsTestCerts.SERVER_CERT;
    private static final String KEY = TlsTestCerts.SERVER_KEY;
    private static final String OTHER_KEY = CERTS + "/client.key";

    @TempDir
    Path tmp;

    @BeforeAll
    static void certificates() {
        TlsTestCerts.ensure();
    }

    private static void assertOneLineError(WarrenProcess p, String... parts) {
        assertThat(p.exitCode()).as(p.output()).isEqualTo(2);
        String out = p.output().strip();
        assertThat(out.lines()).as("one line: " + out).hasSize(1);
        assertThat(out).startsWith("warren: ").contains(parts).doesNotContain("Exception").doesNotContain("\tat ");
    }

    private static String line(String out, String key) {
        return out.lines().filter(l -> l.startsWith(key + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no " + key + " in\n" + out));
    }

    @Test
    void unusableFilesAreOneLineErrorsNamingOptionAndFile() throws Exception {
        String missing = tmp.resolve("missing.pem").toString();
        assertOneLineError(WarrenProcess.run(Map.of(), "--tls-listen", "127.0.0.1", "--tls-cert", missing,
                "--tls-key", KEY, "amqp://127.0.0.1:5672"), "tls-cert (--tls-cert)", missing);
        // a key that belongs to another certificate
        assertOneLineError(WarrenProcess.run(Map.of(), "--tls-listen", "127.0.0.1", "--tls-cert", CERT,
                "--tls-key", OTHER_KEY, "amqp://127.0.0.1:5672"), OTHER_KEY, "does not match");
        // from the environment, the source is named
        Path notPem = tmp.resolve("not.pem");
        Files.writeString(notPem, "hello\n");
        assertOneLineError(WarrenProcess.run(Map.of("WARREN_UPSTREAM_CA", notPem.toString()),
                "amqps://localhost:5671"), "upstream-ca (WARREN_UPSTREAM_CA)", notPem.toString());
        assertOneLineError(WarrenProcess.run(Map.of(), "--upstream-cert", CERT, "--upstream-key", OTHER_KEY,
                "amqps://localhost"), "upstream-key (--upstream-key)", OTHER_KEY);
        // and from the file
        Path conf = tmp.resolve("warren.conf");
        Files.writeString(conf, "upstream = amqps://localhost\nupstream-cert = " + CERT + "\n");
        assertOneLineError(WarrenProcess.run(Map.of(), "--config", conf.toString()), "upstream-cert (" + conf + ":2)",
                "upstream-key");
    }

    @Test
    void tlsOptionsWithoutTlsAreErrorsNamingTheOption() {
        assertOneLineError(WarrenProcess.run(Map.of(), "--upstream-ca", CA, "amqp://127.0.0.1:5672"),
                "upstream-ca (--upstream-ca)", "amqps");
        assertOneLineError(WarrenProcess.run(Map.of(), "--upstream-insecure-skip-verify", "amqp://127.0.0.1:5672"),
                "upstream-insecure-skip-verify (--upstream-insecure-skip-verify)", "amqps");
        assertOneLineError(WarrenProcess.run(Map.of(), "--tls-cert", CERT, "amqp://127.0.0.1:5672"),
                "tls-cert (--tls-cert)", "--tls-listen");
        assertOneLineError(WarrenProcess.run(Map.of("WARREN_TLS_CLIENT_CA", CA), "amqp://127.0.0.1:5672"),
                "tls-client-ca (WARREN_TLS_CLIENT_CA)", "--tls-listen");
        assertOneLineError(WarrenProcess.run(Map.of(), "--no-plain-listener", "amqp://127.0.0.1:5672"),
                "no-plain-listener (--no-plain-listener)", "--tls-listen");
        assertOneLineError(WarrenProcess.run(Map.of(), "--tls-listen", "127.0.0.1:5674", "amqp://127.0.0.1:5672"),
                "tls-listen (--tls-listen)", "--tls-cert", "--tls-key");
        assertOneLineError(WarrenProcess.run(Map.of("WARREN_NO_PLAIN_LISTENER", "maybe"), "amqp://127.0.0.1:5672"),
                "no-plain-listener (WARREN_NO_PLAIN_LISTENER)", "true or false");
    }

    @Test
    void checkConfigShowsTlsSettingsAndWarnings() throws Exception {
        Path conf = tmp.resolve("warren.conf");
        Files.writeString(conf, String.join("\n",
                "upstream = amqps://admin:hunter2@localhost",
                "tls-cert = " + CERT,
                "tls-key = " + KEY,
                "no-plain-listener = true",
                ""));
        WarrenProcess p = WarrenProcess.run(Map.of("WARREN_CONFIG", conf.toString(), "WARREN_UPSTREAM_CA", CA),
                "--check-config", "--tls-listen", "127.0.0.1", "--tls-client-ca", CA);
        assertThat(p.exitCode()).as(p.output()).isZero();
        String out = p.output();
        assertThat(out).doesNotContain("hunter2");
        assertThat(line(out, "upstream")).contains("amqps://admin:***@localhost:5671");
        assertThat(line(out, "upstream-ca")).contains(CA).contains("# WARREN_UPSTREAM_CA");
        assertThat(line(out, "upstream-insecure-skip-verify")).contains("false").contains("# default");
        assertThat(line(out, "tls-listen")).contains("127.0.0.1").contains("# --tls-listen");
        assertThat(line(out, "tls-cert")).contains(CERT).contains(conf + ":2");
        assertThat(line(out, "tls-key")).contains(KEY);
        assertThat(line(out, "tls-client-ca")).contains(CA).contains("# --tls-client-ca");
        assertThat(line(out, "no-plain-listener")).contains("true").contains(conf + ":4");
        assertThat(out).doesNotContain("# warning");

        WarrenProcess insecure = WarrenProcess.run(Map.of(), "--check-config", "--upstream-insecure-skip-verify",
                "amqps://localhost");
        assertThat(insecure.exitCode()).as(insecure.output()).isZero();
        assertThat(line(insecure.output(), "upstream-insecure-skip-verify")).contains("true");
        assertThat(insecure.output()).contains("# warning: TLS certificate and host name verification of localhost"
                + " is OFF");
    }

    @Test
    void expiredListenerCertificateIsAWarningNotAnError() {
        WarrenProcess p = WarrenProcess.run(Map.of(), "--check-config", "--tls-listen", "127.0.0.1:0",
                "--tls-cert", TlsTestCerts.EXPIRED_CERT, "--tls-key", TlsTestCerts.EXPIRED_KEY,
                "amqp://127.0.0.1:5672");
        assertThat(p.exitCode()).as(p.output()).isZero();
        assertThat(p.output()).contains("# warning: ").contains(TlsTestCerts.EXPIRED_CERT);
    }
}
