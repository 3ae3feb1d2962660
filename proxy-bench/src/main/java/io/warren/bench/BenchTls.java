package io.warren.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS of the benchmark's direct clients, built with the JDK only (not with Warren's {@code PemTls}, so the baseline
 * does not depend on the code under test): trust a PEM CA bundle, verify the host name, send SNI, TLS 1.3 and 1.2.
 *
 * <p>{@code resume == false} (the default of the benches) gives every client a fresh {@link SSLContext}, hence an
 * empty session cache and a full handshake, like a new PHP or CGI process; {@code true} shares one context, so the
 * JDK resumes sessions (same number of round trips in TLS 1.3, less CPU).
 */
final class BenchTls {
    private final TrustManager[] trust;
    private final String serverName;
    private final boolean resume;
    private final SSLContext shared;

    BenchTls(Path caFile, String serverName, boolean resume) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        int i = 0;
        try (InputStream in = Files.newInputStream(caFile)) {
            for (Certificate c : cf.generateCertificates(in)) {
                store.setCertificateEntry("ca-" + i++, c);
            }
        }
        if (i == 0) {
            throw new IOException("no certificate in " + caFile);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        this.trust = tmf.getTrustManagers();
        this.serverName = serverName;
        this.resume = resume;
        this.shared = newContext();
    }

    String serverName() {
        return serverName;
    }

    /** The context for one client: shared when resuming, else fresh (empty session cache). */
    SSLContext context() throws GeneralSecurityException {
        return resume ? shared : newContext();
    }

    private SSLContext newContext() throws GeneralSecurityException {
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, trust, null);
        return c;
    }

    /** Wraps a connected socket, sets SNI, host name verification and protocols, and completes the handshake. */
    SSLSocket handshake(java.net.Socket connected, int port) throws IOException, GeneralSecurityException {
        SSLSocket s = (SSLSocket) context().getSocketFactory().createSocket(connected, serverName, port, true);
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        p.setServerNames(List.of(new SNIHostName(serverName)));
        p.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
        s.setSSLParameters(p);
        s.startHandshake();
        return s;
    }
}
