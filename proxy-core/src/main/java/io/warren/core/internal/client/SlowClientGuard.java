package io.warren.core.internal.client;

import io.warren.api.transport.EventLoop;
import io.warren.codec.ReplyCode;
import io.warren.core.config.ProxyConfig;
import io.warren.core.internal.limits.SlowClientBudget;
import io.warren.core.internal.upstream.UpstreamConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What Warren does for a client whose write queue is above the high-water mark (DESIGN.md invariant 8). The upstream
 * connections feeding it stop being read (the broker holds the messages, TCP back-pressure), which throttles a client
 * that reads slower than the broker sends. That stalls the other clients on them too, so the stall goes on only while
 * the client drains at least {@link #STALL_PROGRESS} per {@code slow-client-stall}; one that does not is buffered for
 * instead, up to {@code slow-client-buffer} (and its share of {@code slow-client-buffer-total}), and cut off beyond it
 * or after {@code slow-client-timeout}. A client that never reads and reconnects each time it is cut off thus costs
 * its neighbours a tenth of the stall per round; a slow reader throttles them to its own pace, as a slow consumer
 * does on a broker.
 *
 * <p>Created when the client's write queue first fills up; owned by the session's loop.
 */
final class SlowClientGuard {
    private static final Logger log = LoggerFactory.getLogger(SlowClientGuard.class);
    /**
     * What a stalled client must read per slowClientStall to keep its upstream connections paused (it reads, only
     * slower than the broker sends: throttling it is right). One transport read buffer.
     */
    private static final long STALL_PROGRESS = 64 * 1024;
    /** The first stall check comes after slowClientStall divided by this. */
    private static final int FIRST_STALL_CHECK_DIVISOR = 10;

    private final ClientSession session;
    private final ProxyConfig config;
    /** Upstream connections this client paused because it does not read; null when not stalled. */
    private List<UpstreamConnection> stalledUpstreams;
    /** The client's stall ran out with its queue still full: Warren buffers for it, up to slowClientBuffer. */
    private boolean overflowing;
    /** While overflowing: this client's share of the engine's slow-client-buffer-total (its queue at last write). */
    private long bufferShare;
    private EventLoop.Cancellable slowClientTimer;
    private EventLoop.Cancellable stallTimer;
    /** The client's queue at the last stall check: it must drain STALL_PROGRESS per slowClientStall. */
    private long queuedAtStallCheck;
    /** Writes to it are dropped from now on: they must not stall anything again. */
    private boolean cut;

    SlowClientGuard(ClientSession session) {
        this.session = session;
        this.config = session.clients.config();
    }

    /** A write left {@code queued} bytes queued, above the high-water mark. */
    void writeQueueFull(long queued) {
        if (cut) {
            return;
        }
        if (queued > config.slowClientBuffer()) {
            // Checked while stalled too: batches the upstream loop read before the pause took hold still arrive.
            cutOff(queued + " bytes queued for it (slow-client-buffer " + config.slowClientBuffer() + ")");
        } else if (overflowing) {
            takeBufferShare(queued);
        } else if (stalledUpstreams == null) {
            stallUpstreams();
        }
    }

    private void stallUpstreams() {
        stalledUpstreams = new ArrayList<>(1);
        for (UpstreamConnection upstream : session.channels.upstreams()) {
            if (!stalledUpstreams.contains(upstream)) {
                stalledUpstreams.add(upstream);
                upstream.pauseReadsFor(session);
            }
        }
        queuedAtStallCheck = session.conn.queuedBytes();
        // The first check comes early and asks only that the client read something: one that does not read at
        // all (the usual hog, which reconnects as soon as it is cut off) then costs its neighbours a tenth of the
        // stall per round, while any reader, however slow, is kept throttled.
        EventLoop loop = session.loop();
        stallTimer = loop.schedule(() -> checkStall(1),
                Math.max(1, config.slowClientStall().toMillis() / FIRST_STALL_CHECK_DIVISOR), TimeUnit.MILLISECONDS);
        slowClientTimer = loop.schedule(() -> {
            if (stalledUpstreams != null || overflowing) {
                cutOff("it read nothing for " + config.slowClientTimeout() + " with its write queue full");
            }
        }, config.slowClientTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void checkStall(long progressNeeded) {
        assert session.onLoop();
        List<UpstreamConnection> stalled = stalledUpstreams;
        if (stalled == null || session.state == ClientSession.State.CLOSED) {
            return;
        }
        long queued = session.conn.queuedBytes();
        if (queuedAtStallCheck - queued >= progressNeeded) {
            queuedAtStallCheck = queued;
            stallTimer = session.loop().schedule(() -> checkStall(STALL_PROGRESS),
                    config.slowClientStall().toMillis(), TimeUnit.MILLISECONDS);
            return;
        }
        stalledUpstreams = null;
        overflowing = true;
        log.debug("client {} did not drain its write queue within {}: buffering for it instead of stalling {}",
                session.id(), config.slowClientStall(), stalled);
        for (UpstreamConnection upstream : stalled) {
            upstream.resumeReadsFor(session);
        }
        takeBufferShare(queued);
    }

    /** Counts what Warren buffers for this client against the engine-wide total; beyond it, cuts the client off. */
    private void takeBufferShare(long queued) {
        SlowClientBudget budget = session.clients.slowClientBudget();
        if (budget.move(bufferShare, queued)) {
            bufferShare = queued;
        } else {
            cutOff(queued + " bytes queued for it would take what Warren buffers for slow clients beyond "
                    + "slow-client-buffer-total (" + budget.limit() + ")");
        }
    }

    private void cutOff(String why) {
        cut = true;
        log.info("client {} disconnected as a slow client: {}", session.id(), why);
        session.clients.stats().clientViolation(ReplyCode.CONNECTION_FORCED.code());
        unstall();
        session.conn.abort(); // it does not read: a connection.close would never reach it
    }

    /** The client reads again, or is gone: the upstream connections it paused may read again. */
    void unstall() {
        List<UpstreamConnection> stalled = stalledUpstreams;
        stalledUpstreams = null;
        overflowing = false;
        if (bufferShare != 0) {
            session.clients.slowClientBudget().move(bufferShare, 0);
            bufferShare = 0;
        }
        if (slowClientTimer != null) {
            slowClientTimer.cancel();
        }
        if (stallTimer != null) {
            stallTimer.cancel();
        }
        if (stalled != null) {
            for (UpstreamConnection upstream : stalled) {
                upstream.resumeReadsFor(session);
            }
        }
    }
}
