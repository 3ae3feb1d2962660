package io.warren.api.transport;

import java.net.InetSocketAddress;

/** A bound listening socket. */
public interface Listener extends AutoCloseable {
    /** The bound address (with the real port when port 0 was asked for). */
    InetSocketAddress address();

    /** Stops accepting; connections already accepted stay open. Idempotent. */
    @Override
    void close();
}
