package io.warren.core.stats;

import java.time.Instant;

/**
 * One upstream node as Warren sees it now.
 *
 * @param name host:port as configured (with the address when the host is a name)
 * @param state {@code up}, {@code down} or {@code draining}
 * @param reason why it is in that state (the failure that took it down, or how it came up)
 * @param since when it entered that state
 * @param connections upstream connections to it now (connecting or open)
 * @param connectFailures connection attempts to it that failed (clients' and probes'), since start
 * @param failovers times it went down, since start (each time, its clients were closed and new ones went elsewhere)
 */
public record NodeStatus(String name, String state, String reason, Instant since, int connections,
        long connectFailures, long failovers) {

    public boolean up() {
        return state.equals("up");
    }
}
