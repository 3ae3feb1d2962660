package io.warren.tls;

import io.warren.api.transport.TlsClientSettings;
import io.warren.api.transport.TlsConfigException;
import io.warren.api.transport.TlsHandshakeOutcome;
import io.warren.api.transport.TlsServerSettings;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS material from PEM files, with the JDK alone, for the transport and for the launcher's checks at startup
 * (which must not depend on a transport): read and check the files, build the {@link SSLContext}, explain handshake
 * failures. Every method is static and thread-safe; the file-reading ones block (call them at startup or off the
 * event loops).
 *
 * <p>Errors are {@link TlsConfigException}s with one-line messages naming the file: unreadable, not PEM, no
 * certificate, key encrypted or undecodable, key not matching the certificate.
 */
public final class PemTls {
    private static final char[] KEY_STORE_PASSWORD = "warren".toCharArray();
    private static final Duration EXPIRY_WARNING = Duration.ofDays(14);

    private PemTls() {}

    /**
     * The context for outgoing connections: trust from {@link TlsClientSettings#caFile()} (or the JDK trust store),
     * the client certificate if given, failures explained. Host name verification and SNI are set per engine by the
     * transport (they depend on the connection), as are the protocols.
     */
    public static SSLContext clientContext(TlsClientSettings settings) throws TlsConfigException {
        KeyManager[] keys = settings.certificateFile() == null ? null
                : keyManagers(settings.certificateFile(), settings.keyFile());
        TrustManager trust = settings.insecureSkipVerifyDangerous()
                ? new TlsTrust.TrustEverything()
                : new TlsTrust.Explaining(trustManager(settings.caFile()));
        return context(keys, trust, settings.certificateFile());
    }

    /** The context for a listener: its certificate and key, and the client CAs if client certificates are required. */
    public static SSLContext serverContext(TlsServerSettings settings) throws TlsConfigException {
        KeyManager[] keys = keyManagers(settings.certificateFile(), settings.keyFile());
        TrustManager[] trust = settings.clientCaFile() == null ? null
                : new TrustManager[] {new TlsTrust.Explaining(trustManager(settings.clientCaFile()))};
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, trust, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new TlsConfigException(settings.certificateFile(), "cannot set up TLS: " + Pem.oneLine(e), e);
        }
    }

    /** When the listener's leaf certificate expires (for the certificate-expiry metric). */
    public static Instant certificateNotAfter(TlsServerSettings settings) throws TlsConfigException {
        return Pem.readCertificates(settings.certificateFile()).get(0).getNotAfter().toInstant();
    }

    /**
     * Problems worth a warning at startup that do not prevent it, one line each: certificates expired, not yet valid
     * or expiring within 14 days. Call after {@link #serverContext} succeeded (the files are readable).
     */
    public static List<String> warnings(TlsServerSettings settings, Instant now) throws TlsConfigException {
        List<String> out = new ArrayList<>();
        validity(settings.certificateFile(), now, out);
        if (settings.clientCaFile() != null) {
            validity(settings.clientCaFile(), now, out);
        }
        return out;
    }

    /** Like {@link #warnings(TlsServerSettings, Instant)}, plus a warning when verification is turned off. */
    public static List<String> warnings(TlsClientSettings settings, Instant now) throws TlsConfigException {
        List<String> out = new ArrayList<>();
        if (settings.insecureSkipVerifyDangerous()) {
            out.add("TLS certificate and host name verification of " + settings.serverName()
                    + " is OFF (insecure skip verify): anyone on the network path can read and change the traffic");
        }
        if (settings.caFile() != null) {
            validity(settings.caFile(), now, out);
        }
        if (settings.certificateFile() != null) {
            validity(settings.certificateFile(), now, out);
        }
        return out;
    }

    /** The certificates of a PEM file, in file order. */
    public static List<X509Certificate> readCertificates(Path file) throws TlsConfigException {
        return Pem.readCertificates(file);
    }

    /** The (unencrypted) private key of a PEM file: PKCS#8, PKCS#1 RSA or SEC1 EC. */
    public static PrivateKey readPrivateKey(Path file) throws TlsConfigException {
        return Pem.readPrivateKey(file);
    }

    /**
     * Why a TLS handshake failed, in operator terms, without the "TLS handshake with ... failed: " prefix: for
     * instance {@code "certificate is not trusted (unknown CA: issuer 'CN=Test CA' is not among the trusted CAs)"}.
     */
    public static String describeHandshakeFailure(Throwable failure) {
        return TlsTrust.explainFailure(failure).text();
    }

    /** The metric outcome of a failed handshake. */
    public static TlsHandshakeOutcome classifyHandshakeFailure(Throwable failure) {
        return TlsTrust.explainFailure(failure).outcome();
    }

    // ---- internals ------------------------------------------------------------------------------------------------

    private static SSLContext context(KeyManager[] keys, TrustManager trust, Path fileForErrors)
            throws TlsConfigException {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, new TrustManager[] {trust}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new TlsConfigException(fileForErrors == null ? Path.of("(none)") : fileForErrors,
                    "cannot set up TLS: " + Pem.oneLine(e), e);
        }
    }

    private static KeyManager[] keyManagers(Path certificateFile, Path keyFile) throws TlsConfigException {
        List<X509Certificate> chain = Pem.readCertificates(certificateFile);
        PrivateKey key = Pem.readPrivateKey(keyFile);
        checkKeyMatches(key, keyFile, chain.get(0), certificateFile);
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("warren", key, KEY_STORE_PASSWORD, chain.toArray(new X509Certificate[0]));
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, KEY_STORE_PASSWORD);
            return factory.getKeyManagers();
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new TlsConfigException(keyFile, "cannot use this key with " + certificateFile + ": "
                    + Pem.oneLine(e), e);
        }
    }

    private static X509ExtendedTrustManager trustManager(Path caFile) throws TlsConfigException {
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            if (caFile == null) {
                factory.init((KeyStore) null);
            } else {
                List<X509Certificate> cas = Pem.readCertificates(caFile);
                KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
                store.load(null, null);
                for (int i = 0; i < cas.size(); i++) {
                    store.setCertificateEntry("ca-" + i, cas.get(i));
                }
                factory.init(store);
            }
            for (TrustManager m : factory.getTrustManagers()) {
                if (m instanceof X509ExtendedTrustManager x) {
                    return x;
                }
            }
            throw new IllegalStateException("the JDK offers no X509ExtendedTrustManager");
        } catch (TlsConfigException e) {
            throw e;
        } catch (GeneralSecurityException | java.io.IOException e) {
            Path where = caFile == null ? Path.of(System.getProperty("java.home"), "lib", "security", "cacerts") : caFile;
            throw new TlsConfigException(where, "cannot build a trust store: " + Pem.oneLine(e), e);
        }
    }

    /** Signs a random challenge with the key and verifies it with the certificate's public key. */
    private static void checkKeyMatches(PrivateKey key, Path keyFile, X509Certificate leaf, Path certificateFile)
            throws TlsConfigException {
        PublicKey publicKey = leaf.getPublicKey();
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "DSA" -> "SHA256withDSA";
            case "RSASSA-PSS" -> null; // needs parameters; the TLS handshake will tell
            default -> key.getAlgorithm(); // EdDSA, Ed25519, Ed448
        };
        if (algorithm == null) {
            return;
        }
        boolean matches;
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            matches = verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            matches = false;
        }
        if (!matches) {
            throw new TlsConfigException(keyFile, "the private key (" + key.getAlgorithm() + ") does not match the"
                    + " certificate in " + certificateFile + " (" + publicKey.getAlgorithm() + " key, "
                    + TlsTrust.subject(leaf) + ")");
        }
    }

    private static void validity(Path file, Instant now, List<String> out) throws TlsConfigException {
        for (X509Certificate c : Pem.readCertificates(file)) {
            Instant notAfter = c.getNotAfter().toInstant();
            Instant notBefore = c.getNotBefore().toInstant();
            if (now.isAfter(notAfter)) {
                out.add(file + ": certificate expired on " + notAfter + " (" + TlsTrust.subject(c) + ")");
            } else if (now.isBefore(notBefore)) {
                out.add(file + ": certificate is not valid before " + notBefore + " (" + TlsTrust.subject(c) + ")");
            } else if (now.plus(EXPIRY_WARNING).isAfter(notAfter)) {
                out.add(file + ": certificate expires soon, on " + notAfter + " (" + TlsTrust.subject(c) + ")");
            }
        }
    }
}
