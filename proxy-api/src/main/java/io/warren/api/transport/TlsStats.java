package io.warren.api.transport;

/**
 * TLS handshake counters of a {@link NetworkRuntime}, for /metrics. Thread-safe; counts only grow.
 */
public interface TlsStats {
    /** A runtime without TLS: every count is zero. */
    TlsStats NONE = (side, outcome) -> 0;

    /** Handshakes that ended with {@code outcome} where Warren was {@code side}, since the runtime started. */
    long handshakes(TlsSide side, TlsHandshakeOutcome outcome);
}
