package io.warren.api.transport;

/** How a TLS handshake ended, for metrics (see {@link TlsStats}). */
public enum TlsHandshakeOutcome {
    /** Completed. */
    OK,
    /** The peer's certificate (or our verification of it) failed: unknown CA, bad chain. */
    UNTRUSTED_CERTIFICATE,
    /** The peer's certificate is valid but for another host name. */
    HOST_NAME_MISMATCH,
    /** A certificate of the peer's chain is expired or not yet valid. */
    EXPIRED_CERTIFICATE,
    /** A client certificate was required and none was presented (or the server required one from us). */
    CLIENT_CERTIFICATE_MISSING,
    /** The peer refused our certificate or the handshake (a fatal alert from the peer). */
    REJECTED_BY_PEER,
    /** No common protocol version or cipher suite, or not TLS at all. */
    PROTOCOL,
    /** The handshake did not complete in time. */
    TIMEOUT,
    /** The connection closed or broke during the handshake. */
    CONNECTION_CLOSED;

    /** Lower-case name for metric labels. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
