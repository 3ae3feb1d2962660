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
 * @param channelsScrubbing returned channels being scrubbed now (part of {@code channelsInUse})
 * @param channelTarget channels the key aims to have idle or in scrub: its channel requests per second times its
 *     scrub round trip, with headroom, at most max-idle-channels-per-key (which it is until both are measured)
 * @param scrubRoundTripMillis the key's smoothed scrub round trip (barrier sent to channel ready); 0 before the first
 * @param clients clients of the key (each counted once, on the connection it authenticated through)
 * @param nodes the nodes its connections are to, without repeats
 * @param blocked connections of the key the broker has blocked
 */
public record PoolView(String poolKey, String user, String vhost, int connections, int channelsInUse,
        int channelsIdle, int channelsScrubbing, int channelTarget, double scrubRoundTripMillis, int clients,
        List<String> nodes, int blocked) {

    public PoolView {
        nodes = List.copyOf(nodes);
    }
}
