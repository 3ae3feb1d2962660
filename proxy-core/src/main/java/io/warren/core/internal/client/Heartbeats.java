package io.warren.core.internal.client;

import io.warren.api.transport.EventLoop;
import io.warren.core.internal.wire.Frames;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Heartbeats with one client, at the interval agreed at tune: every half interval Warren sends one when it has
 * written nothing to the client for half an interval (whatever the client sends), and drops a client silent for two
 * intervals while Warren reads it (its silence while Warren does not read is Warren's own).
 *
 * <p>Owned by the session's loop; one timer at a time, replaced at each tick.
 */
final class Heartbeats implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Heartbeats.class);

    private final ClientSession session;
    private final long periodMillis;
    private final long intervalNanos;
    private EventLoop.Cancellable timer;

    Heartbeats(ClientSession session) {
        this.session = session;
        this.periodMillis = Math.max(250, session.heartbeatSeconds * 1000L / 2);
        this.intervalNanos = TimeUnit.SECONDS.toNanos(session.heartbeatSeconds);
        this.timer = session.loop().schedule(this, periodMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void run() {
        assert session.onLoop();
        if (session.state != ClientSession.State.OPEN) {
            return;
        }
        long now = System.nanoTime();
        if (!session.readsPaused() && now - session.lastReadNanos > 2 * intervalNanos) {
            log.debug("client {}: missed heartbeats, timeout {} s", session.id(), session.heartbeatSeconds);
            session.closeGracefully();
            return;
        }
        if (now - session.lastWriteNanos >= intervalNanos / 2) {
            session.write(Frames.heartbeat());
        }
        timer = session.loop().schedule(this, periodMillis, TimeUnit.MILLISECONDS);
    }

    void cancel() {
        timer.cancel();
    }
}
