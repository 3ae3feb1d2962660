package io.warren.core.internal.upstream;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The channel numbers of one upstream connection and the channel in each. Allocation and release come from client
 * loops, under this table's lock; the routing loop looks channels up without it.
 */
final class SlotTable {
    /** Replaced only at tune, on the routing loop (before any channel exists); read there without the lock. */
    private AtomicReferenceArray<UpstreamChannel> slots = new AtomicReferenceArray<>(1);
    // Guarded by this.
    private int channelMax;
    private int open;
    private int next = 1;
    private long idleSinceNanos = System.nanoTime();

    /** Sizes the table for the channel_max agreed at tune. */
    synchronized void size(int negotiatedChannelMax) {
        channelMax = negotiatedChannelMax;
        slots = new AtomicReferenceArray<>(negotiatedChannelMax + 1);
    }

    /** The channel with this number, or null; for the routing loop, lock-free. */
    UpstreamChannel get(int number) {
        AtomicReferenceArray<UpstreamChannel> s = slots;
        return number < s.length() ? s.get(number) : null;
    }

    /** Takes the next free number for a new channel of {@code connection}; null when channel_max are open. */
    synchronized UpstreamChannel allocate(UpstreamConnection connection) {
        if (open >= channelMax) {
            return null;
        }
        int slot = next;
        while (slots.get(slot) != null) {
            slot = slot >= channelMax ? 1 : slot + 1;
        }
        next = slot >= channelMax ? 1 : slot + 1;
        UpstreamChannel channel = new UpstreamChannel(connection, slot);
        slots.set(slot, channel);
        open++;
        return channel;
    }

    /** Whether {@code channel} still has its slot (not freed, so not reused). */
    synchronized boolean holds(UpstreamChannel channel) {
        return get(channel.number()) == channel;
    }

    /** Frees the slot of {@code channel}; false if it was freed already. */
    synchronized boolean free(UpstreamChannel channel) {
        if (get(channel.number()) != channel) {
            return false;
        }
        slots.set(channel.number(), null);
        open--;
        if (open == 0) {
            idleSinceNanos = System.nanoTime();
        }
        return true;
    }

    synchronized int open() {
        return open;
    }

    /** Whether no channel has been open for {@code timeoutNanos} at {@code nowNanos}. */
    synchronized boolean idleFor(long nowNanos, long timeoutNanos) {
        return open == 0 && nowNanos - idleSinceNanos >= timeoutNanos;
    }
}
