package io.warren.transport.nio;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates generated with openssl into a temporary directory, once per test class: nothing secret is committed.
 * EC P-256 keys (fast), one test CA, and the cases the tests need.
 */
final class TlsFixture {
    final Path dir;
    final Path caCert;
    final Path serverCert;
    final Path serverKey;
    final Path wrongHostCert;
    final Path wrongHostKey;
    final Path expiredCert;
    final Path expiredKey;
    final Path rogueCert;
    final Path rogueKey;
    final Path clientCert;
    final Path clientKey;
    final Path rsaPkcs1Cert;
    final Path rsaPkcs1Key;
    final Path ecSec1Cert;
    final Path ecSec1Key;

    TlsFixture(Path dir) throws IOException {
        this.dir = dir;
        caCert = dir.resolve("ca.pem");
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=Warren Test CA");
        serverCert = dir.resolve("server.pem");
        serverKey = dir.resolve("server.key");
        signed("server", "/CN=localhost", "DNS:localhost,IP:127.0.0.1", "30", "ca");
        wrongHostCert = dir.resolve("wrong.pem");
        wrongHostKey = dir.resolve("wrong.key");
        signed("wrong", "/CN=wrong.example", "DNS:wrong.example", "30", "ca");
        expiredCert = dir.resolve("expired.pem");
        expiredKey = dir.resolve("expired.key");
        signed("expired", "/CN=localhost", "DNS:localhost,IP:127.0.0.1", "-1", "ca");
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "rogue-ca.key", "-out", "rogue-ca.pem", "-days", "30", "-subj", "/CN=Rogue CA");
        rogueCert = dir.resolve("rogue.pem");
        rogueKey = dir.resolve("rogue.key");
        signed("rogue", "/CN=localhost", "DNS:localhost,IP:127.0.0.1", "30", "rogue-ca");
        clientCert = dir.resolve("client.pem");
        clientKey = dir.resolve("client.key");
        signed("client", "/CN=warren-client", "DNS:warren-client", "30", "ca");
        rsaPkcs1Key = dir.resolve("rsa1.key");
        rsaPkcs1Cert = dir.resolve("rsa1.pem");
        openssl("genrsa", "-traditional", "-out", "rsa1.key", "2048");
        openssl("req", "-x509", "-key", "rsa1.key", "-out", "rsa1.pem", "-days", "30", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1");
        ecSec1Key = dir.resolve("ec1.key");
        ecSec1Cert = dir.resolve("ec1.pem");
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-out", "ec1.key"); // with an EC PARAMETERS block
        openssl("req", "-x509", "-key", "ec1.key", "-out", "ec1.pem", "-days", "30", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1");
    }

    private void signed(String name, String subject, String sans, String days, String ca) throws IOException {
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key",
                "-out", name + ".csr", "-subj", subject);
        Files.writeString(dir.resolve(name + ".ext"), "subjectAltName=" + sans + "\n", StandardCharsets.US_ASCII);
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
                "-days", days, "-extfile", name + ".ext", "-out", name + ".pem");
    }

    void openssl(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        try {
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("openssl " + String.join(" ", args) + " failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
