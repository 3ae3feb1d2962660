package io.warren.core.internal.limits;

import io.warren.core.internal.stats.EngineStats;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes queued, all clients together, for the clients Warren buffers for once their stall ran out
 * ({@code slow-client-buffer-total}). Each such client holds a share (its write queue at its last write) and moves
 * it with every write; the write that would take the total beyond the limit is refused, and its client is cut off.
 * So clients that stop reading all at once cost at most the limit plus one write each, not clients x
 * slow-client-buffer. Any thread: each client moves its own share from its loop.
 */
public final class SlowClientBudget {
    private volatile long limit;
    private final AtomicLong used = new AtomicLong();
    private final EngineStats stats;

    public SlowClientBudget(long limit, EngineStats stats) {
        this.limit = limit;
        this.stats = stats;
    }

    /**
     * Moves a client's share from {@code held} to {@code wanted} bytes.
     *
     * @return whether it moved; false (the share stays {@code held}) when growing it would exceed the limit
     */
    public boolean move(long held, long wanted) {
        long total = used.addAndGet(wanted - held);
        if (wanted > held && total > limit) {
            used.addAndGet(held - wanted);
            return false;
        }
        stats.slowClientBuffered(total);
        return true;
    }

    public long limit() {
        return limit;
    }

    /** A reload changed {@code slow-client-buffer-total}: shares held stay; the next growth is checked against it. */
    public void resize(long newLimit) {
        limit = newLimit;
    }
}
