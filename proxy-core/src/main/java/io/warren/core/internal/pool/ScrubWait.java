package io.warren.core.internal.pool;

import io.warren.core.internal.upstream.ChannelOwner;
import io.warren.core.internal.upstream.UpstreamChannel;

/**
 * A client waiting briefly ({@code scrub-wait}) for a channel whose scrub is about to finish, rather than opening one
 * more upstream. Either the pool serves it or the client gives up, never both: {@link #take} decides, under the pool's
 * lock.
 */
public final class ScrubWait {
    final ChannelOwner owner;
    final Reply<UpstreamChannel> reply;
    /** Guarded by the pool's lock. */
    private boolean taken;

    ScrubWait(ChannelOwner owner, Reply<UpstreamChannel> reply) {
        this.owner = owner;
        this.reply = reply;
    }

    /** @return whether this call ended the wait (false: served or given up already) */
    boolean take() {
        boolean first = !taken;
        taken = true;
        return first;
    }
}
