package io.warren.core.internal.upstream;

import io.warren.api.transport.Connection;
import java.util.HashSet;
import java.util.Set;

/**
 * Who has paused the reads of one upstream connection: each client whose write queue is full stops the connection
 * feeding it (TCP back-pressure towards the broker), and reads resume when the last of them drains or is cut off.
 *
 * <p>Thread-safe: clients pause and resume from their own loops. This object's lock guards the set and is held while
 * the socket's reads are switched, so a pause and a resume from two loops cannot be applied out of order.
 */
final class ReadPause {
    private final Set<ChannelOwner> stalling = new HashSet<>();

    /** {@code client} stalls the reads of {@code conn} (null before it is connected: only recorded). */
    synchronized void pauseFor(ChannelOwner client, Connection conn) {
        if (stalling.add(client) && stalling.size() == 1 && conn != null) {
            conn.setReadPaused(true);
        }
    }

    /** @return whether reads resumed: {@code client} was the last to stall them */
    synchronized boolean resumeFor(ChannelOwner client, Connection conn) {
        if (stalling.remove(client) && stalling.isEmpty() && conn != null) {
            conn.setReadPaused(false);
            return true;
        }
        return false;
    }

    synchronized boolean paused() {
        return !stalling.isEmpty();
    }
}
