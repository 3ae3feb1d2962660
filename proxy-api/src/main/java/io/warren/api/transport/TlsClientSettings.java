package io.warren.api.transport;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * TLS for an outgoing connection (amqps to the broker). Checked at construction; the files themselves are read and
 * checked by {@code io.warren.tls.PemTls#clientContext} (which the launcher may call at startup to fail early).
 *
 * @param serverName the host name sent as SNI and checked against the server's certificate (an IP literal is
 *     checked against the certificate's IP addresses and sent without SNI)
 * @param caFile PEM bundle of trusted CA certificates; null: the JDK's default trust store
 * @param certificateFile PEM client certificate chain for mutual TLS (leaf first); null: none. Needs {@code keyFile}
 * @param keyFile PEM private key of {@code certificateFile} (PKCS#8, PKCS#1 RSA or SEC1 EC, unencrypted); null: none
 * @param insecureSkipVerifyDangerous accept any server certificate and any host name. Only for tests and
 *     emergencies: anyone on the path can read and change the traffic. The launcher must log a warning
 * @param protocols enabled protocols, a non-empty subset of {@link #SUPPORTED_PROTOCOLS}
 */
public record TlsClientSettings(
        String serverName,
        Path caFile,
        Path certificateFile,
        Path keyFile,
        boolean insecureSkipVerifyDangerous,
        List<String> protocols) {

    /** The only protocols Warren enables. */
    public static final List<String> SUPPORTED_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    public TlsClientSettings {
        Objects.requireNonNull(serverName, "serverName");
        if (serverName.isBlank()) {
            throw new IllegalArgumentException("TLS server name must not be blank");
        }
        if ((certificateFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("a TLS client certificate needs both a certificate file and a key file"
                    + " (got certificate " + certificateFile + ", key " + keyFile + ")");
        }
        protocols = checkProtocols(protocols);
    }

    /** Verifying settings for {@code serverName}: JDK trust store, no client certificate, TLS 1.3 and 1.2. */
    public static TlsClientSettings verifying(String serverName) {
        return new TlsClientSettings(serverName, null, null, null, false, SUPPORTED_PROTOCOLS);
    }

    public TlsClientSettings withCaFile(Path file) {
        return new TlsClientSettings(serverName, file, certificateFile, keyFile, insecureSkipVerifyDangerous,
                protocols);
    }

    public TlsClientSettings withClientCertificate(Path certificate, Path key) {
        return new TlsClientSettings(serverName, caFile, certificate, key, insecureSkipVerifyDangerous, protocols);
    }

    public TlsClientSettings withServerName(String name) {
        return new TlsClientSettings(name, caFile, certificateFile, keyFile, insecureSkipVerifyDangerous, protocols);
    }

    /** See {@link #insecureSkipVerifyDangerous()}. */
    public TlsClientSettings withInsecureSkipVerifyDangerous(boolean skip) {
        return new TlsClientSettings(serverName, caFile, certificateFile, keyFile, skip, protocols);
    }

    public TlsClientSettings withProtocols(String... enabled) {
        return new TlsClientSettings(serverName, caFile, certificateFile, keyFile, insecureSkipVerifyDangerous,
                List.of(enabled));
    }

    static List<String> checkProtocols(List<String> protocols) {
        Objects.requireNonNull(protocols, "protocols");
        if (protocols.isEmpty()) {
            throw new IllegalArgumentException("at least one TLS protocol must be enabled (TLSv1.3, TLSv1.2)");
        }
        for (String p : protocols) {
            if (!SUPPORTED_PROTOCOLS.contains(p)) {
                throw new IllegalArgumentException("unsupported TLS protocol '" + p + "': only TLSv1.3 and TLSv1.2");
            }
        }
        return List.copyOf(protocols);
    }
}
