package io.warren.api.transport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * A started transport: its event loops, listeners and outgoing connections. Thread-safe.
 */
public interface NetworkRuntime extends AutoCloseable {
    /**
     * Listens for connections. Each accepted connection is assigned to an event loop (round robin) and gets a
     * handler from {@code handlers}, called on that loop.
     *
     * @throws IOException when the address cannot be bound; the message names the address
     */
    Listener listen(InetSocketAddress address, HandlerFactory handlers) throws IOException;

    /**
     * Dials {@code address} without blocking, on {@code loop}. On success {@link ConnectionHandler#onOpen} is called
     * on that loop; on failure or timeout {@link ConnectionHandler#onClose} is called with the cause.
     */
    void connect(InetSocketAddress address, EventLoop loop, ConnectionHandler handler);

    /** The event loops, in a fixed order. */
    List<EventLoop> eventLoops();

    /** Closes listeners, then every connection, then stops the loops. Idempotent. */
    @Override
    void close();

    /** Creates a handler for each accepted connection, on the connection's event loop. */
    @FunctionalInterface
    interface HandlerFactory {
        ConnectionHandler create(Connection connection);
    }
}
