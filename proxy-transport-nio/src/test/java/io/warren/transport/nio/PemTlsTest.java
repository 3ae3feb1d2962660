package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.warren.tls.PemTls;
import io.warren.api.transport.TlsClientSettings;
import io.warren.api.transport.TlsConfigException;
import io.warren.api.transport.TlsServerSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** PEM loading and its one-line errors naming the file (api code, tested here beside the generated certificates). */
class PemTlsTest extends TlsTestSupport {

    @Test
    void loadsPkcs8Pkcs1AndSec1Keys() throws Exception {
        assertThat(PemTls.serverContext(TlsServerSettings.of(pki.serverCert, pki.serverKey))).isNotNull();
        assertThat(PemTls.serverContext(TlsServerSettings.of(pki.rsaPkcs1Cert, pki.rsaPkcs1Key))).isNotNull();
        assertThat(PemTls.serverContext(TlsServerSettings.of(pki.ecSec1Cert, pki.ecSec1Key))).isNotNull();
        assertThat(Files.readString(pki.rsaPkcs1Key)).contains("BEGIN RSA PRIVATE KEY");
        assertThat(Files.readString(pki.ecSec1Key)).contains("BEGIN EC PRIVATE KEY");
        assertThat(PemTls.clientContext(clientSettings().withClientCertificate(pki.clientCert, pki.clientKey)))
                .isNotNull();
    }

    @Test
    void missingFileIsNamed() {
        Path missing = pki.dir.resolve("nope.pem");
        assertThatThrownBy(() -> PemTls.serverContext(TlsServerSettings.of(missing, pki.serverKey)))
                .isInstanceOf(TlsConfigException.class).hasMessage(missing + ": cannot read: no such file");
    }

    @Test
    void unreadableFileIsNamed() throws Exception {
        Path locked = unreadableFile();
        assertThatThrownBy(() -> PemTls.serverContext(TlsServerSettings.of(pki.serverCert, locked)))
                .isInstanceOf(TlsConfigException.class)
                .hasMessage(locked + ": cannot read: permission denied");
    }

    /**
     * A file this process may not read: a copy of the key with no read permission, or, as root (CI runs as root, and
     * root reads any file whatever its mode), a write-only sysctl, which Linux refuses to read even to root (its
     * permission check applies the owner's mode bits to root too).
     */
    private Path unreadableFile() throws Exception {
        Path locked = pki.dir.resolve("locked.key");
        Files.copy(pki.serverKey, locked);
        assertThat(locked.toFile().setReadable(false, false)).isTrue();
        if (!Files.isReadable(locked)) {
            return locked;
        }
        for (String sysctl : List.of("/proc/sys/vm/drop_caches", "/proc/sys/vm/compact_memory",
                "/proc/sys/net/ipv4/route/flush")) {
            Path p = Path.of(sysctl);
            if (Files.exists(p) && !Files.isReadable(p)) {
                return p;
            }
        }
        Assumptions.abort("no file this process cannot read: it reads files whatever their mode, and there is no"
                + " write-only sysctl");
        throw new AssertionError("unreachable");
    }

    @Test
    void garbageIsNotPem() throws Exception {
        Path garbage = pki.dir.resolve("garbage.pem");
        Files.write(garbage, new byte[] {0x30, (byte) 0x82, 1, 2, 3});
        assertThatThrownBy(() -> PemTls.serverContext(TlsServerSettings.of(garbage, pki.serverKey)))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageStartingWith(garbage + ": not a PEM file");
        assertThatThrownBy(() -> PemTls.serverContext(TlsServerSettings.of(pki.serverCert, garbage)))
                .hasMessageStartingWith(garbage + ": not a PEM file");
    }

    @Test
    void keyInTheCertificateSlotAndCertificateInTheKeySlotAreExplained() {
        assertThatThrownBy(() -> PemTls.serverContext(TlsServerSettings.of(pki.serverKey, pki.serverKey)))
                .hasMessageStartingWith(pki.serverKey + ": no certificate in this file")
                .hasMessageContaining("'PRIVATE KEY'");
        assertThatThrownBy(() -> PemTls.serverContext(TlsServerSettings.of(pki.serverCert, pki.serverCert)))
                .hasMessageStartingWith(pki.serverCert + ": no private key in this file");
    }

    @Test
    void mismatchedKeyNamesBothFiles() {
        assertThatThrownBy(() -> PemTls.serverContext(TlsServerSettings.of(pki.serverCert, pki.clientKey)))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageStartingWith(pki.clientKey + ": the private key (EC) does not match the certificate in "
                        + pki.serverCert);
        assertThatThrownBy(() -> PemTls.serverContext(TlsServerSettings.of(pki.serverCert, pki.rsaPkcs1Key)))
                .hasMessageStartingWith(pki.rsaPkcs1Key + ": the private key (RSA) does not match");
    }

    @Test
    void encryptedKeyIsExplained() throws Exception {
        pki.openssl("pkcs8", "-topk8", "-in", "server.key", "-out", "enc.key", "-passout", "pass:secret");
        Path enc = pki.dir.resolve("enc.key");
        assertThatThrownBy(() -> PemTls.readPrivateKey(enc)).hasMessageStartingWith(enc + ": the private key is encrypted");
    }

    @Test
    void warnsAboutExpiredCertificatesAndInsecureMode() throws Exception {
        List<String> w = PemTls.warnings(TlsServerSettings.of(pki.expiredCert, pki.expiredKey), Instant.now());
        assertThat(w).singleElement().asString().startsWith(pki.expiredCert + ": certificate expired on ");
        assertThat(PemTls.warnings(serverSettings(), Instant.now())).isEmpty();
        assertThat(PemTls.warnings(clientSettings().withInsecureSkipVerifyDangerous(true), Instant.now()))
                .singleElement().asString().contains("verification of localhost is OFF");
    }

    @Test
    void settingsAreCheckedAtConstruction() {
        assertThatThrownBy(() -> clientSettings().withProtocols("TLSv1.1"))
                .hasMessage("unsupported TLS protocol 'TLSv1.1': only TLSv1.3 and TLSv1.2");
        assertThatThrownBy(() -> new TlsClientSettings("localhost", null, pki.clientCert, null, false,
                TlsClientSettings.SUPPORTED_PROTOCOLS)).hasMessageContaining("needs both a certificate file and a key");
        assertThatThrownBy(() -> TlsClientSettings.verifying(" ")).hasMessageContaining("blank");
    }
}
