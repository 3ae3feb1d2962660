package io.warren.core.internal.pool;

import io.warren.api.KeyedCredentials;
import io.warren.core.internal.upstream.UpstreamConnection;
import java.util.List;

/**
 * One pool key as its lock saw it, for the admin API: its clients, and each connection with its idle channels.
 *
 * @param idleChannels for each of {@code connections}, in order, its channels waiting idle in the pool
 */
public record PoolSnapshot(KeyedCredentials keyed, int clients, List<UpstreamConnection> connections,
        List<Integer> idleChannels) {

    public PoolSnapshot {
        connections = List.copyOf(connections);
        idleChannels = List.copyOf(idleChannels);
    }
}
