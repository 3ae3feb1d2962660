package io.warren.api.transport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * A started transport: its event loops, listeners and outgoing connections. Thread-safe.
 */
public interface NetworkRuntime extends AutoCloseable {
    /**
     * Listens for connections. Each accepted connection is assigned to one of the event loops (the transport
     * chooses; the NIO transport takes the one with the fewest accepted connections open) and gets a handler from
     * {@code handlers}, called on that loop.
     *
     * @throws IOException when the address cannot be bound; the message names the address
     */
    Listener listen(InetSocketAddress address, HandlerFactory handlers) throws IOException;

    /**
     * Like {@link #listen(InetSocketAddress, HandlerFactory)}, reading a PROXY protocol header first as
     * {@code proxyProtocol} says; handlers are created only once the header is read, and see the address it names as
     * {@link Connection#remoteAddress()}.
     *
     * @throws UnsupportedOperationException when this transport cannot read PROXY headers (and the mode is not off)
     */
    default Listener listen(InetSocketAddress address, HandlerFactory handlers, ProxyProtocol proxyProtocol)
            throws IOException {
        if (proxyProtocol == ProxyProtocol.OFF) {
            return listen(address, handlers);
        }
        throw new UnsupportedOperationException(getClass().getName() + " does not read PROXY protocol headers");
    }

    /**
     * Dials {@code address} without blocking, on {@code loop}. On success {@link ConnectionHandler#onOpen} is called
     * on that loop; on failure or timeout {@link ConnectionHandler#onClose} is called with the cause.
     */
    void connect(InetSocketAddress address, EventLoop loop, ConnectionHandler handler);

    /**
     * Listens for TLS connections: like {@link #listen(InetSocketAddress, HandlerFactory)}, but each accepted
     * connection first completes a TLS handshake; only then is a handler created (a client that fails the handshake
     * never reaches {@code handlers}; it is counted in {@link #tlsStats()}). A client that has not completed the
     * handshake within the connect timeout of the transport settings is dropped.
     *
     * @throws TlsConfigException when the certificate, key or client CA file cannot be used (message names the file)
     * @throws IOException when the address cannot be bound; the message names the address
     * @throws UnsupportedOperationException when this transport has no TLS
     */
    default Listener listen(InetSocketAddress address, HandlerFactory handlers, TlsServerSettings tls)
            throws IOException {
        throw new UnsupportedOperationException(getClass().getName() + " does not support TLS listeners");
    }

    /**
     * Like {@link #listen(InetSocketAddress, HandlerFactory, TlsServerSettings)}, reading a PROXY protocol header as
     * {@code proxyProtocol} says before the TLS handshake (a load balancer sends it in clear on the TCP stream); the
     * connect timeout covers header and handshake together.
     *
     * @throws UnsupportedOperationException when this transport cannot read PROXY headers (and the mode is not off)
     */
    default Listener listen(InetSocketAddress address, HandlerFactory handlers, TlsServerSettings tls,
            ProxyProtocol proxyProtocol) throws IOException {
        if (proxyProtocol == ProxyProtocol.OFF) {
            return listen(address, handlers, tls);
        }
        throw new UnsupportedOperationException(getClass().getName() + " does not read PROXY protocol headers");
    }

    /**
     * Dials {@code address} and performs a TLS handshake as a client, without blocking, on {@code loop}.
     * {@link ConnectionHandler#onOpen} is called once the handshake is complete; the connect timeout covers connect
     * and handshake. On failure {@link ConnectionHandler#onClose} gets a cause whose message says why in operator
     * terms, for instance {@code "TLS handshake with 10.0.0.5:5671 failed: certificate does not match host name
     * 'rabbit.example' (certificate names: DNS:other.example)"}; for unusable files a {@link TlsConfigException}.
     *
     * @throws UnsupportedOperationException when this transport has no TLS
     */
    default void connect(InetSocketAddress address, EventLoop loop, ConnectionHandler handler,
            TlsClientSettings tls) {
        throw new UnsupportedOperationException(getClass().getName() + " does not support TLS connections");
    }

    /** TLS handshake counts by side and outcome ({@link TlsStats#NONE} for a transport without TLS). */
    default TlsStats tlsStats() {
        return TlsStats.NONE;
    }

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
