package io.warren.core.internal.upstream;

import io.warren.codec.ChannelMethod;
import io.warren.codec.ReplyCode;
import io.warren.core.internal.wire.Frames;
import java.util.TreeSet;

/**
 * One channel of an upstream connection for its whole life: opened for a client, lent to one client after another
 * with a scrub in between, then closed. What outlives each client is kept here: the channel's number, its publisher
 * confirm accounting (delivery tags count per channel, across every client it was lent to), and whether Warren sent
 * channel.close or answered the broker's.
 *
 * <p>Owned by whoever holds it: the event loop of its {@link #holder()}, or the pool's lock while it waits idle. Every
 * change of hands goes through that loop or that lock, so each owner sees what the last one wrote. The routing loop
 * reads only {@link #holder()}.
 */
public final class UpstreamChannel {
    private final UpstreamConnection connection;
    private final int number;
    /** Who frames on this channel are routed to; null until its first holder takes it (frames are then dropped). */
    private volatile ChannelHolder holder;
    /** Whether channel.open went to the broker: a lent channel is open already. */
    private boolean opened;
    private boolean confirmMode;
    /** Publishes sent since confirm.select, over every client the channel was lent to. */
    private long publishSeq;
    /** Upstream tags of publishes not yet acked or nacked; null until the first confirm-mode publish. */
    private TreeSet<Long> unconfirmed;
    /** Whether Warren sent channel.close: then the broker's close-ok frees the slot. */
    private boolean closeSent;
    /** Whether Warren answered the broker's channel.close: it must be answered exactly once. */
    private boolean closeOkSent;
    /** While idle in its pool (guarded by the pool's lock): since when. */
    private long idleSinceNanos;

    UpstreamChannel(UpstreamConnection connection, int number) {
        this.connection = connection;
        this.number = number;
    }

    public UpstreamConnection connection() {
        return connection;
    }

    /** The channel number on the upstream connection. */
    public int number() {
        return number;
    }

    public ChannelHolder holder() {
        return holder;
    }

    /** Frames the broker sends on this channel from now on go to {@code next}. */
    public void holdBy(ChannelHolder next) {
        holder = next;
    }

    /** Whether channel.open was sent for it (true for every channel lent from the pool). */
    public boolean opened() {
        return opened;
    }

    /** Sends channel.open for it, after what went to {@code out} before. */
    public void open(FrameSink out) {
        opened = true;
        out.append(connection, Frames.method(number, new ChannelMethod.Open("")));
    }

    // ---------------------------------------------------------------- publisher confirms

    /** Whether confirm.select was sent on this channel (by this client or an earlier one). */
    public boolean confirmMode() {
        return confirmMode;
    }

    public void confirmSelected() {
        confirmMode = true;
    }

    public long publishSeq() {
        return publishSeq;
    }

    /** Records a confirm-mode publish; returns its upstream delivery tag. */
    public long recordPublish() {
        if (unconfirmed == null) {
            unconfirmed = new TreeSet<>();
        }
        publishSeq++;
        unconfirmed.add(publishSeq);
        return publishSeq;
    }

    /** basic.ack or basic.nack from the broker for upstream tag {@code tag}. */
    public void confirmed(long tag, boolean multiple) {
        if (unconfirmed == null) {
            return;
        }
        if (multiple) {
            unconfirmed.headSet(tag, true).clear();
        } else {
            unconfirmed.remove(tag);
        }
    }

    public boolean hasUnconfirmed() {
        return unconfirmed != null && !unconfirmed.isEmpty();
    }

    // ---------------------------------------------------------------- closing

    /** Whether Warren sent channel.close on it: the broker's close-ok, not Warren's, then frees the slot. */
    public boolean closeSent() {
        return closeSent;
    }

    /** A client's own channel.close was forwarded on it. */
    public void closeForwarded() {
        closeSent = true;
    }

    /** Sends channel.close (reply-success) for Warren's own reasons; the broker's close-ok frees the slot. */
    public void close(FrameSink out, String text) {
        closeSent = true;
        out.append(connection, Frames.method(number,
                new ChannelMethod.Close(ReplyCode.REPLY_SUCCESS.code(), text, 0, 0)));
    }

    /**
     * Answers the broker's channel.close, once per channel: a second close-ok reaches a channel the broker has already
     * forgotten, and it closes the whole upstream connection for it (504 "expected 'channel.open'").
     */
    public void answerClose(FrameSink out) {
        if (!closeOkSent) {
            closeOkSent = true;
            out.append(connection, Frames.method(number, new ChannelMethod.CloseOk()));
        }
    }

    /** Frees the slot: the broker and Warren both consider the channel closed. */
    public void free() {
        connection.freeChannel(this);
    }

    public long idleSinceNanos() {
        return idleSinceNanos;
    }

    public void idleSince(long nanos) {
        idleSinceNanos = nanos;
    }

    @Override
    public String toString() {
        return "upstream " + connection.id() + "/" + number;
    }
}
