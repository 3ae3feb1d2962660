package io.warren.core.internal.pool;

import io.warren.api.KeyedCredentials;
import io.warren.core.internal.upstream.UpstreamConnection;
import java.util.List;

/**
 * One pool key as its lock saw it, for the admin API: its clients, and each connection with its idle channels.
 *
 * @param idleChannels for each of {@code connections}, in order, its channels waiting idle in the pool
 * @param scrubbing channels of the key being scrubbed
 * @param channelTarget channels the key aims to have idle or in scrub ({@link ScrubPipeline#target})
 * @param scrubRoundTripNanos the key's smoothed scrub round trip; 0 before its first scrub finished
 */
public record PoolSnapshot(KeyedCredentials keyed, int clients, List<UpstreamConnection> connections,
        List<Integer> idleChannels, int scrubbing, int channelTarget, long scrubRoundTripNanos) {

    public PoolSnapshot {
        connections = List.copyOf(connections);
        idleChannels = List.copyOf(idleChannels);
    }
}
