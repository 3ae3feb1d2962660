package io.warren.tls;

import io.warren.api.transport.TlsClientSettings;
import io.warren.api.transport.TlsHandshakeOutcome;
import java.net.Socket;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trust managers: one that wraps the JDK's PKIX manager and turns its failures into operator sentences (which the
 * SSLEngine carries as the message of its handshake exception), and the trust-everything one behind
 * {@link TlsClientSettings#insecureSkipVerifyDangerous()}.
 */
final class TlsTrust {
    private TlsTrust() {}

    /** A rejected certificate, explained: the message is the sentence for the operator. */
    static final class ExplainedCertificateException extends CertificateException {
        private static final long serialVersionUID = 1L;
        final TlsHandshakeOutcome outcome;

        ExplainedCertificateException(TlsHandshakeOutcome outcome, String message, Throwable cause) {
            super(message, cause);
            this.outcome = outcome;
        }
    }

    static final class Explaining extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager delegate;

        Explaining(X509ExtendedTrustManager delegate) {
            this.delegate = delegate;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            try {
                delegate.checkServerTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                throw explain("certificate", chain, e, engine == null ? null : engine.getPeerHost());
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            try {
                delegate.checkClientTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                throw explain("client certificate", chain, e, null);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            try {
                delegate.checkServerTrusted(chain, authType, socket);
            } catch (CertificateException e) {
                throw explain("certificate", chain, e, null);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            try {
                delegate.checkClientTrusted(chain, authType, socket);
            } catch (CertificateException e) {
                throw explain("client certificate", chain, e, null);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                delegate.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                throw explain("certificate", chain, e, null);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                delegate.checkClientTrusted(chain, authType);
            } catch (CertificateException e) {
                throw explain("client certificate", chain, e, null);
            }
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }

    /** Accepts every certificate: insecure, on purpose. */
    static final class TrustEverything extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    static ExplainedCertificateException explain(String what, X509Certificate[] chain, CertificateException e,
            String expectedHost) {
        Instant now = Instant.now();
        if (chain != null) {
            for (X509Certificate c : chain) {
                if (now.isAfter(c.getNotAfter().toInstant())) {
                    return new ExplainedCertificateException(TlsHandshakeOutcome.EXPIRED_CERTIFICATE, what
                            + " expired on " + c.getNotAfter().toInstant() + " (" + subject(c) + ")", e);
                }
                if (now.isBefore(c.getNotBefore().toInstant())) {
                    return new ExplainedCertificateException(TlsHandshakeOutcome.EXPIRED_CERTIFICATE, what
                            + " is not valid before " + c.getNotBefore().toInstant() + " (" + subject(c) + ")", e);
                }
            }
        }
        String message = String.valueOf(e.getMessage());
        if (hasCause(e, CertPathBuilderException.class) || message.contains("unable to find valid certification path")) {
            String issuer = chain == null || chain.length == 0 ? "?"
                    : chain[chain.length - 1].getIssuerX500Principal().getName();
            return new ExplainedCertificateException(TlsHandshakeOutcome.UNTRUSTED_CERTIFICATE, what
                    + " is not trusted (unknown CA: issuer '" + issuer + "' is not among the trusted CAs)", e);
        }
        if (message.startsWith("No subject alternative") || message.startsWith("No name matching")) {
            String names = chain == null || chain.length == 0 ? "none" : names(chain[0]);
            return new ExplainedCertificateException(TlsHandshakeOutcome.HOST_NAME_MISMATCH, what
                    + " does not match host name '" + (expectedHost == null ? "?" : expectedHost)
                    + "' (certificate names: " + names + ")", e);
        }
        return new ExplainedCertificateException(TlsHandshakeOutcome.UNTRUSTED_CERTIFICATE, what
                + " is not trusted (" + Pem.oneLine(e) + ")", e);
    }

    static String subject(X509Certificate c) {
        return "subject '" + c.getSubjectX500Principal().getName() + "'";
    }

    static String names(X509Certificate c) {
        List<String> out = new ArrayList<>();
        try {
            Collection<List<?>> sans = c.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    int type = (Integer) san.get(0);
                    if (type == 2) {
                        out.add("DNS:" + san.get(1));
                    } else if (type == 7) {
                        out.add("IP:" + san.get(1));
                    }
                }
            }
        } catch (CertificateParsingException ignored) {
            // fall back to the subject
        }
        if (out.isEmpty()) {
            out.add(c.getSubjectX500Principal().getName() + " (no subject alternative names)");
        }
        return String.join(", ", out);
    }

    static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    /** What a handshake failure means, for the operator; see {@link PemTls#describeHandshakeFailure}. */
    static Explanation explainFailure(Throwable failure) {
        for (Throwable c = failure; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof ExplainedCertificateException x) {
                return new Explanation(x.outcome, x.getMessage());
            }
        }
        String message = String.valueOf(failure.getMessage());
        String lower = message.toLowerCase(Locale.ROOT);
        if (lower.startsWith("received fatal alert: ")) {
            String alert = message.substring("received fatal alert: ".length()).trim();
            return switch (alert) {
                case "certificate_required" -> new Explanation(TlsHandshakeOutcome.CLIENT_CERTIFICATE_MISSING,
                        "the peer requires a client certificate (alert certificate_required)");
                case "bad_certificate", "certificate_unknown", "unknown_ca", "certificate_expired",
                        "certificate_revoked", "unsupported_certificate", "access_denied" -> new Explanation(
                        TlsHandshakeOutcome.REJECTED_BY_PEER, "the peer rejected our certificate (alert " + alert + ")");
                case "protocol_version", "handshake_failure", "insufficient_security" -> new Explanation(
                        TlsHandshakeOutcome.PROTOCOL,
                        "no TLS protocol version or cipher suite in common with the peer (alert " + alert + ")");
                default -> new Explanation(TlsHandshakeOutcome.REJECTED_BY_PEER,
                        "the peer aborted the handshake (alert " + alert + ")");
            };
        }
        if (lower.contains("empty client certificate chain") || lower.contains("empty certificate chain")) {
            return new Explanation(TlsHandshakeOutcome.CLIENT_CERTIFICATE_MISSING,
                    "the client presented no certificate, but one is required");
        }
        if (lower.contains("unsupported or unrecognized ssl message") || lower.contains("plaintext connection")) {
            return new Explanation(TlsHandshakeOutcome.PROTOCOL, "the peer does not speak TLS (a plain port?)");
        }
        if (lower.contains("no appropriate protocol") || lower.contains("cipher suites in common")
                || lower.contains("protocol_version")) {
            return new Explanation(TlsHandshakeOutcome.PROTOCOL,
                    "no TLS protocol version or cipher suite in common with the peer (" + Pem.oneLine(failure) + ")");
        }
        if (failure instanceof javax.net.ssl.SSLException) {
            return new Explanation(TlsHandshakeOutcome.PROTOCOL, Pem.oneLine(failure));
        }
        return new Explanation(TlsHandshakeOutcome.CONNECTION_CLOSED, Pem.oneLine(failure));
    }

    record Explanation(TlsHandshakeOutcome outcome, String text) {}
}
