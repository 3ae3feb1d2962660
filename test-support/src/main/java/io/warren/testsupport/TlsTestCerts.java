package io.warren.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

/**
 * Test certificates, made with openssl when first needed, at a fixed path so that {@code @BrokerConfig} lines (static
 * annotation text) can name them. World-readable: the broker node runs as user {@code rabbitmq}. Nothing secret: the
 * keys exist only for the tests. Generated into a fresh directory and moved into place atomically, so concurrent test
 * JVMs agree on one set.
 *
 * <ul>
 *   <li>{@code ca.pem}: the test CA; {@code other-ca.pem}: an unrelated CA (for "not trusted")
 *   <li>{@code server.pem}/{@code server.key}: CN=localhost, SAN DNS:localhost and IP:127.0.0.1, signed by the CA
 *   <li>{@code expired.pem}/{@code expired.key}: the same names, valid only on 2020-01-01
 *   <li>{@code client.pem}/{@code client.key}: a client certificate signed by the CA
 * </ul>
 */
public final class TlsTestCerts {
    /** Bump when the set of files changes. */
    public static final String DIR_NAME = "/tmp/warren-tls-test-certs-v1";
    public static final Path DIR = Path.of(DIR_NAME);

    public static final String CA = DIR_NAME + "/ca.pem";
    public static final String SERVER_CERT = DIR_NAME + "/server.pem";
    public static final String SERVER_KEY = DIR_NAME + "/server.key";
    public static final String EXPIRED_CERT = DIR_NAME + "/expired.pem";
    public static final String EXPIRED_KEY = DIR_NAME + "/expired.key";

    private static final String SCRIPT = String.join("\n",
            "set -e",
            "cat > san.ext <<'X'",
            "subjectAltName = DNS:localhost, IP:127.0.0.1",
            "extendedKeyUsage = serverAuth, clientAuth",
            "X",
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -subj '/CN=Warren Test CA'",
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 3650"
                    + " -subj '/CN=Warren Other CA'",
            "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=localhost'",
            "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 825"
                    + " -extfile san.ext",
            "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj '/CN=warren-test-client'",
            "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 825",
            // An expired certificate: openssl 3.0's x509 cannot back-date, 'openssl ca' can.
            "mkdir -p cadb && : > cadb/index.txt && echo 1000 > cadb/serial",
            "cat > ca.cnf <<'X'",
            "[ ca ]",
            "default_ca = test_ca",
            "[ test_ca ]",
            "dir = .",
            "database = ./cadb/index.txt",
            "serial = ./cadb/serial",
            "new_certs_dir = ./cadb",
            "certificate = ./ca.pem",
            "private_key = ./ca.key",
            "default_md = sha256",
            "policy = anything",
            "copy_extensions = none",
            "unique_subject = no",
            "[ anything ]",
            "commonName = supplied",
            "[ server_ext ]",
            "subjectAltName = DNS:localhost, IP:127.0.0.1",
            "extendedKeyUsage = serverAuth",
            "X",
            "openssl req -newkey rsa:2048 -nodes -keyout expired.key -out expired.csr -subj '/CN=localhost'",
            "openssl ca -batch -config ca.cnf -extensions server_ext -startdate 20200101000000Z"
                    + " -enddate 20200102000000Z -in expired.csr -out expired.pem -notext",
            "rm -rf cadb *.csr ca.cnf san.ext *.srl",
            "chmod 644 *",
            "");

    private TlsTestCerts() {}

    /** Makes the certificates unless they are there. */
    public static synchronized void ensure() {
        if (Files.exists(DIR.resolve("done"))) {
            return;
        }
        try {
            Path tmp = Files.createTempDirectory(DIR.getParent(), "warren-tls-gen-");
            Process p = new ProcessBuilder("bash", "-c", SCRIPT).directory(tmp.toFile()).redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("openssl failed:\n" + out);
            }
            Files.writeString(tmp.resolve("done"), "ok\n");
            Files.setPosixFilePermissions(tmp.resolve("done"), PosixFilePermissions.fromString("rw-r--r--"));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            try {
                Files.move(tmp, DIR, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                // another JVM won the race; its set is as good
            } catch (AtomicMoveNotSupportedException e) {
                throw new IllegalStateException(e);
            }
            if (!Files.exists(DIR.resolve("done"))) {
                throw new IllegalStateException(DIR + " exists without a complete set of certificates; delete it");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static Path path(String name) {
        return DIR.resolve(name);
    }
}
