package io.warren.core.admin;

import java.util.List;

/**
 * One pool key's upstream connections in sum.
 *
 * @param poolKey the credential keyer's opaque id, never a secret
 * @param user the user its connections log in as
 * @param vhost their virtual host
 * @param connections upstream connections of the key now
 * @param channelsInUse channels held by clients or being scrubbed, over its connections
 * @param channelsIdle scrubbed channels waiting to be lent
 * @param clients clients of the key (each counted once, on the connection it authenticated through)
 * @param nodes the nodes its connections are to, without repeats
 * @param blocked connections of the key the broker has blocked
 */
public record PoolView(String poolKey, String user, String vhost, int connections, int channelsInUse,
        int channelsIdle, int clients, List<String> nodes, int blocked) {

    public PoolView {
        nodes = List.copyOf(nodes);
    }
}
