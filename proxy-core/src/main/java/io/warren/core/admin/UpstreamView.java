package io.warren.core.admin;

import java.time.Instant;

/**
 * One upstream connection as it was when the snapshot was taken, on its event loop.
 *
 * @param id its process-unique id (as in logs: "upstream 3")
 * @param node the node it is to
 * @param poolKey the pool key it belongs to: the credential keyer's opaque id, never a secret
 * @param user the user it logged in as
 * @param vhost its virtual host
 * @param state {@code connecting}, {@code handshake}, {@code parked}, {@code opening}, {@code ready},
 *     {@code closing} or {@code closed}
 * @param channelsInUse channels held by clients, or being scrubbed
 * @param channelsIdle scrubbed channels waiting in the pool to be lent
 * @param clients clients that authenticated through it or hold channels on it
 * @param openedAt when it was dialed
 * @param heartbeatSeconds the heartbeat interval agreed with the broker (0: none, or not tuned yet)
 * @param lastHeardMillis milliseconds since the broker last sent anything on it
 * @param blocked whether the broker has blocked it (connection.blocked: a resource alarm)
 * @param eventLoop the index of the event loop that serves it; a key has a connection on each loop its clients are on
 */
public record UpstreamView(
        long id,
        String node,
        String poolKey,
        String user,
        String vhost,
        String state,
        int channelsInUse,
        int channelsIdle,
        int clients,
        Instant openedAt,
        int heartbeatSeconds,
        long lastHeardMillis,
        boolean blocked,
        int eventLoop) {}
