package io.warren.api.transport;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.Optional;

/** A bound listening socket. */
public interface Listener extends AutoCloseable {
    /** The bound address (with the real port when port 0 was asked for). */
    InetSocketAddress address();

    /** Stops accepting; connections already accepted stay open. Idempotent. */
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
}
