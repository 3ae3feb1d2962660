package io.warren.api.transport;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * TLS for a listener (amqps for clients). Checked at construction; the files themselves are read and checked by
 * {@code io.warren.tls.PemTls#serverContext} (which the launcher may call at startup to fail early).
 *
 * @param certificateFile PEM certificate chain, leaf first
 * @param keyFile PEM private key of the leaf (PKCS#8 "PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY" or SEC1
 *     "EC PRIVATE KEY", unencrypted)
 * @param clientCaFile PEM bundle of CAs for client certificates; non-null means every client must present a
 *     certificate signed by one of them; null: client certificates are neither asked for nor checked
 * @param protocols enabled protocols, a non-empty subset of {@link TlsClientSettings#SUPPORTED_PROTOCOLS}
 */
public record TlsServerSettings(Path certificateFile, Path keyFile, Path clientCaFile, List<String> protocols) {

    public TlsServerSettings {
        Objects.requireNonNull(certificateFile, "certificateFile");
        Objects.requireNonNull(keyFile, "keyFile");
        protocols = TlsClientSettings.checkProtocols(protocols);
    }

    /** A listener with this certificate and key, no client certificates, TLS 1.3 and 1.2. */
    public static TlsServerSettings of(Path certificateFile, Path keyFile) {
        return new TlsServerSettings(certificateFile, keyFile, null, TlsClientSettings.SUPPORTED_PROTOCOLS);
    }

    /** The same, requiring client certificates signed by a CA in {@code file}. */
    public TlsServerSettings withClientCaFile(Path file) {
        return new TlsServerSettings(certificateFile, keyFile, file, protocols);
    }

    public TlsServerSettings withProtocols(String... enabled) {
        return new TlsServerSettings(certificateFile, keyFile, clientCaFile, List.of(enabled));
    }

    /** Whether clients must present a certificate. */
    public boolean clientCertificateRequired() {
        return clientCaFile != null;
    }
}
