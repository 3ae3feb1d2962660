package io.warren.core.admin;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;

/**
 * One client connection as it was when the snapshot was taken, on its event loop.
 *
 * @param id the connection's process-unique id (as in logs: "client 17")
 * @param peer the client's address: behind a PROXY-protocol balancer, the one the balancer reported
 * @param user the user it logged in as; empty before its connection.start-ok
 * @param vhost the virtual host it opened; empty before its connection.open
 * @param connectionName the {@code connection_name} of its client properties; empty when it gave none
 * @param product the {@code product} of its client properties (its client library); empty when it gave none
 * @param version the {@code version} of its client properties; empty when it gave none
 * @param tls whether it connected over TLS
 * @param connectedSince when Warren accepted its connection
 * @param state {@code handshake}, {@code held} (waiting in the handshake for an upstream node or for its paused
 *     vhost), {@code open}, {@code draining} (open while Warren no longer accepts clients) or {@code closing}
 * @param channels its open channels, by number
 * @param bytesReceived bytes Warren read from it
 * @param bytesSent bytes Warren wrote to it
 * @param messagesPublished whole messages it published
 * @param messagesDelivered messages delivered to it (basic.deliver and basic.get-ok)
 * @param writeQueueBytes bytes queued for it and not yet written to its socket
 * @param eventLoop the index of the event loop that serves it (0 to the number of loops - 1); its channels are
 *     cheapest on upstream connections of the same loop
 */
public record ClientView(
        long id,
        InetSocketAddress peer,
        String user,
        String vhost,
        String connectionName,
        String product,
        String version,
        boolean tls,
        Instant connectedSince,
        String state,
        List<ChannelView> channels,
        long bytesReceived,
        long bytesSent,
        long messagesPublished,
        long messagesDelivered,
        long writeQueueBytes,
        int eventLoop) {

    public ClientView {
        channels = List.copyOf(channels);
    }
}
