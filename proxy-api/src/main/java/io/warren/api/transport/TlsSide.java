package io.warren.api.transport;

/** Which end of a TLS handshake Warren was: {@code CLIENT} towards the broker, {@code SERVER} on a listener. */
public enum TlsSide {
    CLIENT,
    SERVER;

    /** Lower-case name for metric labels. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
