package io.warren.api.transport;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.Optional;

/** A bound listening socket. */
public interface Listener extends AutoCloseable {
    /** The bound address (with the real port when port 0 was asked for). */
    InetSocketAddress address();

    /**
     * Stops accepting; connections already accepted stay open, and a transport should accept and serve those still
     * queued for it rather than reset them (a successor on the same address takes the next ones). Idempotent.
     */
    @Override
    void close();

    /** Whether connections accepted here speak TLS. */
    default boolean isTls() {
        return false;
    }

    /** For a TLS listener, when its (leaf) certificate expires: export it as a metric. Empty for plain listeners. */
    default Optional<Instant> certificateNotAfter() {
        return Optional.empty();
    }

    /**
     * For a TLS listener: TLS handshakes from now on use {@code tls} (a renewed certificate, key or client CA, read
     * now on the calling thread); handshakes under way and connections already open keep what they had.
     *
     * @throws TlsConfigException when a file cannot be used; nothing changes then
     * @throws UnsupportedOperationException for a plain listener, or a transport that cannot change it live
     */
    default void reloadTls(TlsServerSettings tls) throws TlsConfigException {
        throw new UnsupportedOperationException(getClass().getName() + " cannot change TLS settings while it runs");
    }
}
