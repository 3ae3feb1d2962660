package io.warren.core.internal.upstream;

import io.warren.api.transport.EventLoop;
import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.FramePeek;
import io.warren.codec.FrameType;
import io.warren.core.internal.screen.SyncMethods;
import io.warren.core.internal.wire.Confirms;
import io.warren.core.internal.wire.Frames;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Owns one returned channel from the moment its client let go of it until the pool lends it again or it is closed,
 * so the client's session is unreachable from the channel as soon as it leaves (pgbouncer unlinks client and server
 * before a server's reset query runs, for the same reason).
 *
 * <p>A returned channel is scrubbed for reuse ({@link State#SCRUBBING}: the partial message was dropped; basic.qos
 * twice resets both prefetch limits and is the barrier, whose -oks can only come after every earlier reply, return
 * and channel error of the old client; outstanding confirms must arrive too), then waits in its pool
 * ({@link State#IDLE}), or is closed ({@link State#RELEASING}: channel.close sent, the broker's close-ok frees the
 * slot). Whatever the broker sends on it meanwhile is counted or dropped: it never reaches a client (DESIGN.md
 * invariant 4).
 *
 * <p>Threading: runs on the loop of the client that returned the channel. Frames the broker sent before the hand-over
 * reach that loop first, through the client, which passes them on ({@link #inspect}), so this scrubber sees every
 * frame of its channel in the order the broker sent them. While idle it is guarded by its pool's lock.
 */
public final class Scrubber implements ChannelOwner, ChannelHolder {
    /** Where the returned channel is; only ever moves forward. */
    public enum State { SCRUBBING, IDLE, RELEASING, LENT, CLOSED }

    private final UpstreamChannel channel;
    private final EventLoop loop;
    /** Written on the loop, or by the pool under its lock once idle (lent); read by both. */
    private volatile State state;
    /** -oks the scrub still waits for: the old client's pending ones, then its own two. */
    private int oksNeeded;
    private EventLoop.Cancellable timer;

    private Scrubber(UpstreamChannel channel, EventLoop loop, State state) {
        assert loop.inEventLoop();
        this.channel = channel;
        this.loop = loop;
        this.state = state;
        channel.holdBy(this);
    }

    /**
     * Scrubs {@code channel} for reuse: the old client's frames went to {@code out} before, the barrier follows them.
     *
     * @param pendingSync synchronous requests of the old client whose -ok has not come back
     */
    public static Scrubber scrub(UpstreamChannel channel, int pendingSync, EventLoop loop, FrameSink out) {
        Scrubber s = new Scrubber(channel, loop, State.SCRUBBING);
        UpstreamConnection c = channel.connection();
        c.pool().scrubStarted(s);
        s.oksNeeded = pendingSync + 2;
        out.append(c, Frames.method(channel.number(), new BasicMethod.Qos(0, 0, false)));
        out.append(c, Frames.method(channel.number(), new BasicMethod.Qos(0, 0, true)));
        s.timer = loop.schedule(() -> s.scrubFailed("timeout"), c.cluster().config().scrubTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
        return s;
    }

    /** Closes {@code channel} upstream (channel.close after what went to {@code out}); its close-ok frees the slot. */
    public static Scrubber release(UpstreamChannel channel, EventLoop loop, FrameSink out, String text) {
        Scrubber s = new Scrubber(channel, loop, State.RELEASING);
        channel.close(out, text);
        return s;
    }

    /** Waits for the broker's close-ok to a channel.close already sent on {@code channel}, then frees the slot. */
    public static Scrubber awaitCloseOk(UpstreamChannel channel, EventLoop loop) {
        return new Scrubber(channel, loop, State.RELEASING);
    }

    /**
     * Returns a channel that is clean as it is (lent and never used, or swapped for a confirm-mode one) to its pool,
     * or closes it when the pool does not take it.
     */
    public static Scrubber returnClean(UpstreamChannel channel, EventLoop loop, FrameSink out) {
        Scrubber s = new Scrubber(channel, loop, State.IDLE);
        if (!channel.connection().pool().offerIdle(s)) {
            s.release(out);
        }
        return s;
    }

    public UpstreamChannel channel() {
        return channel;
    }

    public State state() {
        return state;
    }

    @Override
    public EventLoop loop() {
        return loop;
    }

    @Override
    public ChannelOwner owner() {
        return this;
    }

    @Override
    public int ownerChannel() {
        return channel.number();
    }

    @Override
    public void deliver(UpstreamBatch batch) {
        assert loop.inEventLoop();
        ByteBuffer data = batch.data();
        int at = data.position();
        List<ChannelHolder> holders = batch.holders();
        for (int i = 0; i < holders.size(); i++) {
            if (holders.get(i) == this) {
                inspect(data, at);
            }
            at += FramePeek.payloadSize(data, at) + FrameType.OVERHEAD;
        }
    }

    /** One frame the broker sent on this channel (at index {@code at} of {@code data}); on the loop. */
    public void inspect(ByteBuffer data, int at) {
        assert loop.inEventLoop();
        if (FramePeek.type(data, at) != FrameType.METHOD) {
            return; // content of a basic.return: dropped
        }
        switch (state) {
            case SCRUBBING -> whileScrubbing(FramePeek.classId(data, at), FramePeek.methodId(data, at), data, at);
            case RELEASING -> whileReleasing(FramePeek.classId(data, at), FramePeek.methodId(data, at));
            default -> { } // idle, lent on or closed: nothing for anyone
        }
    }

    private void whileScrubbing(int classId, int methodId, ByteBuffer data, int at) {
        if (classId == ChannelMethod.Close.CLASS_ID && methodId == ChannelMethod.Close.METHOD_ID) {
            // A late channel error of the old client: the channel is not reused.
            channel.answerClose(FrameSink.DIRECT);
            timer.cancel();
            channel.connection().pool().scrubEnded(this);
            channel.connection().cluster().stats().scrubFailed("channel_error");
            free();
            return;
        }
        if (Confirms.isConfirm(classId, methodId)) {
            channel.confirmed(Confirms.deliveryTag(data, at), Confirms.multiple(data, at));
        } else if (SyncMethods.isReply(classId, methodId)) {
            oksNeeded--;
        }
        if (oksNeeded <= 0 && !channel.hasUnconfirmed()) {
            timer.cancel();
            state = State.IDLE;
            UpstreamPool pool = channel.connection().pool();
            if (pool.offerIdle(this)) {
                channel.connection().cluster().stats().scrubSucceeded();
            } else {
                pool.scrubEnded(this);
                channel.connection().cluster().stats().scrubFailed("pool_full");
                release(FrameSink.DIRECT);
            }
        }
    }

    /** A channel whose client is done: only close and close-ok matter, to free the slot. */
    private void whileReleasing(int classId, int methodId) {
        if (classId != ChannelMethod.Close.CLASS_ID) {
            return;
        }
        if (methodId == ChannelMethod.Close.METHOD_ID) {
            // The broker closed it first (e.g. a failed queue.delete): it still answers our close with close-ok.
            channel.answerClose(FrameSink.DIRECT);
        } else if (methodId == ChannelMethod.CloseOk.METHOD_ID) {
            free();
        }
    }

    private void scrubFailed(String reason) {
        if (state != State.SCRUBBING) {
            return;
        }
        channel.connection().cluster().stats().scrubFailed(reason);
        channel.connection().pool().scrubEnded(this);
        release(FrameSink.DIRECT);
    }

    /** The pool lends the channel to a client (under the pool's lock): this scrubber is done with it. */
    void lent() {
        state = State.LENT;
    }

    /** The channel waited idle longer than the idle channel timeout (the pool took it out): close it upstream. */
    public void expire() {
        assert loop.inEventLoop();
        if (state == State.IDLE) {
            release(FrameSink.DIRECT);
        }
    }

    private void release(FrameSink out) {
        state = State.RELEASING;
        channel.close(out, "client closed");
    }

    private void free() {
        if (state != State.CLOSED) {
            state = State.CLOSED;
            channel.free();
        }
    }

    @Override
    public String toString() {
        return "scrubber of " + channel + " " + state;
    }
}
