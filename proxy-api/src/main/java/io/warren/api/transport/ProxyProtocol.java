package io.warren.api.transport;

/**
 * Whether a listener reads a PROXY protocol header (HAProxy's, version 1 text or version 2 binary) at the start of
 * each accepted connection, before any AMQP or TLS byte: a TCP load balancer in front of Warren sends it to say who
 * the client really is. The address it names is then the connection's {@link Connection#remoteAddress()}, and the
 * balancer's is {@link Connection#proxiedBy()}.
 */
public enum ProxyProtocol {
    /** No header is read: the socket's peer is the client. */
    OFF,
    /**
     * A connection that starts with a PROXY v1 or v2 signature must carry a valid header; one that does not is read
     * as usual (clients that connect directly keep working).
     */
    OPTIONAL,
    /**
     * Every connection must start with a valid header, complete within the connect timeout of the transport settings;
     * otherwise it is closed, with one log line and without a byte sent.
     */
    REQUIRED
}
