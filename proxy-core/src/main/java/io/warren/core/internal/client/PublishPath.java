package io.warren.core.internal.client;

import io.warren.api.transport.EventLoop;
import io.warren.codec.BasicMethod;
import io.warren.codec.ContentHeader;
import io.warren.codec.Frame;
import io.warren.codec.FramePeek;
import io.warren.codec.FrameType;
import io.warren.codec.ProtocolException;
import io.warren.codec.ReplyCode;
import io.warren.core.internal.limits.MessageBudget;
import io.warren.core.internal.screen.HardError;
import io.warren.core.internal.screen.HardErrorScreen;
import io.warren.core.internal.upstream.FrameSink;
import io.warren.core.internal.upstream.UpstreamConnection;
import io.warren.core.internal.wire.Frames;
import io.warren.core.internal.wire.GrowableBuffer;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one client sends upstream. Frames of one read are copied (channel number rewritten) into one output buffer per
 * upstream connection and written with one call at the end of the read, so the session keeps no buffer between reads.
 * A published message goes upstream only whole (DESIGN.md invariants 5 and 11): inline in that output when its body
 * frames follow its header in the same read (the usual small message, no extra copy), otherwise held in a
 * {@link HeldMessage} of exactly its final size, reserved from the engine-wide {@code message-buffer}; a client whose
 * message does not fit waits, unread, until the budget grants it room. A full upstream write queue stops reading the
 * client until it drains (TCP back-pressure).
 *
 * <p>Owned by the session's loop.
 */
final class PublishPath implements FrameSink {
    private static final Logger log = LoggerFactory.getLogger(PublishPath.class);
    /**
     * Room beyond the read in a new output array, for frames Warren adds within the read (a scrub barrier, a
     * channel.close); more makes the array grow.
     */
    private static final int OUTPUT_SLACK = 64;

    private final ClientSession session;
    /** The upstream connection the gathered frames are for. */
    private UpstreamConnection target;
    /** Sized by the read being processed ({@link #beginRead}), 4 KiB at most before it grows. */
    private final GrowableBuffer bytes = new GrowableBuffer(4096);
    /** The message being assembled inline in {@link #bytes}, or null. */
    private ChannelLink inlineMessage;
    private int inlineMessageStart;
    /** The read being processed: a header frame looks ahead in it to see whether its message completes inline. */
    private ByteBuffer reading;
    /** Held messages of this client that reserved bytes of the message-buffer; null when none ever did. */
    private List<HeldMessage> holding;
    /** This client's place in the message-buffer queue while it waits for room, or null. */
    private MessageBudget.Waiter budgetWait;
    /** Runs every slow-client-timeout while this client holds part of the message-buffer; null otherwise. */
    private EventLoop.Cancellable heldStallCheck;
    /** Bytes the message-buffer granted after a wait, for the header frame replayed first; 0 otherwise. */
    private long budgetGranted;
    /** Reads are paused until an upstream connection this client writes to drains. */
    private boolean pausedForBackPressure;
    /**
     * Frames gathered for upstream and messages completed during the read, added to the engine's counters once at
     * {@link #endRead} (outside a read, at once): a striped add per frame was a measurable share of a message's cost.
     */
    private int framesSentInRead;
    private int messagesInRead;

    PublishPath(ClientSession session) {
        this.session = session;
    }

    /** A read begins; returns the read it interrupts (a replay within one), for {@link #endRead}. */
    ByteBuffer beginRead(ByteBuffer data) {
        ByteBuffer outer = reading;
        reading = data;
        bytes.sizeBy(data, OUTPUT_SLACK); // frames are copied 1:1 (channel number rewritten): the read's size
        return outer;
    }

    /** The read ends: nothing stays inline in the output, and what was gathered goes upstream. */
    void endRead(ByteBuffer outer) {
        reading = outer;
        addCounts(); // first: nothing below may lose them
        evictInlineMessage();
        flush();
        bytes.sizeBy(outer, OUTPUT_SLACK); // null after the outermost read: the transport's buffer is not kept
    }

    private void addCounts() {
        session.clients.stats().upstreamFramesSent(framesSentInRead);
        session.clients.stats().messagesPublished(messagesInRead);
        framesSentInRead = 0;
        messagesInRead = 0;
    }

    /** Counts one frame for upstream: per read while in one, otherwise at once. */
    private void countFrameSent() {
        framesSentInRead++;
        if (reading == null) {
            addCounts();
        }
    }

    // ---------------------------------------------------------------- gathering

    /** Queues one whole frame that Warren generates for {@code upstream}. */
    @Override
    public void append(UpstreamConnection upstream, ByteBuffer frame) {
        // Never inside an incomplete inline message: abandoning it truncates the output back to its start.
        evictInlineMessage();
        retarget(upstream);
        bytes.append(frame);
        countFrameSent();
    }

    /** Queues a client's frame (not part of a message) for its link's upstream channel. */
    void appendFrame(ChannelLink link, Frame frame) {
        if (inlineMessage != null && inlineMessage != link) {
            evictInlineMessage();
        }
        retarget(link.upstream.connection());
        Frames.copyFrame(frame.type(), link.upstream.number(), frame.payload(), bytes);
        countFrameSent();
    }

    private void retarget(UpstreamConnection upstream) {
        if (target != upstream) {
            flush();
            target = upstream;
        }
    }

    /** A content method frame (basic.publish): its message begins, inline. */
    void contentMethod(ChannelLink link, Frame frame) {
        link.content.begin(frame.classId());
        appendMessageFrame(link, frame);
    }

    /** A content header frame, checked against the sequence, the message size limits and the message-buffer. */
    void contentHeader(ChannelLink link, Frame frame) throws ProtocolException {
        long bodySize = link.content.checkHeader(frame.payload());
        // RabbitMQ decodes every property list: check it first.
        Optional<HardError> undecodable = HardErrorScreen.checkContentHeader(frame.payload());
        if (undecodable.isPresent()) {
            session.hardError(undecodable.get());
            return;
        }
        long maxBody = maxBodySize(link, frame);
        if (bodySize > maxBody) {
            abandonMessage(link);
            session.channels.closeLocally(link, ReplyCode.PRECONDITION_FAILED, "message size " + bodySize
                    + " is larger than configured max size " + maxBody
                    + (maxBody < session.clients.config().maxMessageSize() ? " (message-buffer)" : ""),
                    BasicMethod.Publish.CLASS_ID, BasicMethod.Publish.METHOD_ID);
            return;
        }
        if (completesInThisRead(frame.channel(), bodySize, link.upstream.connection().frameMax())) {
            appendMessageFrame(link, frame); // inline: the usual small message, no extra copy
        } else if (!holdMessage(link, frame, bodySize)) {
            return; // waiting for room in the message-buffer (the header is replayed), or closed
        }
        if (link.content.headerAccepted(bodySize)) {
            completeMessage(link);
        }
    }

    /** A content body frame. */
    void contentBody(ChannelLink link, Frame frame) throws ProtocolException {
        int size = frame.size();
        link.content.checkBody(size);
        appendMessageFrame(link, frame);
        if (link.content.bodyAccepted(size)) {
            completeMessage(link);
        }
    }

    private void appendMessageFrame(ChannelLink link, Frame frame) {
        countFrameSent();
        if (link.held != null) {
            link.held.appendBody(frame.payload());
            link.heldProgressNanos = System.nanoTime();
            return;
        }
        if (frame.type() == FrameType.METHOD) {
            // Start inline: the usual small message arrives whole in one read and costs no extra copy.
            evictInlineMessage(); // another channel's method frame still waiting for its header
            startInline(link);
        } else if (inlineMessage != link) {
            // A header whose message completes in this read, after its method frame left the output: method first.
            if (frame.type() != FrameType.HEADER || link.pendingMethod == null) {
                throw new IllegalStateException("content frame for a message neither inline nor held");
            }
            evictInlineMessage();
            startInline(link);
            bytes.append(link.pendingMethod);
            link.pendingMethod = null;
        }
        Frames.copyFrame(frame.type(), link.upstream.number(), frame.payload(), bytes);
    }

    private void startInline(ChannelLink link) {
        retarget(link.upstream.connection());
        inlineMessage = link;
        inlineMessageStart = bytes.size();
    }

    /**
     * Whether the body frames of a message whose header was just read follow it whole in this read, on its channel,
     * each within the upstream frame_max: then the message completes inline before any other frame is handled.
     */
    private boolean completesInThisRead(int clientChannel, long bodySize, int upstreamFrameMax) {
        if (bodySize == 0) {
            return true;
        }
        ByteBuffer d = reading;
        if (d == null) {
            return false;
        }
        int at = d.position();
        long left = bodySize;
        while (left > 0) {
            if (d.limit() - at < FrameType.HEADER_SIZE || FramePeek.type(d, at) != FrameType.BODY
                    || FramePeek.channel(d, at) != clientChannel) {
                return false;
            }
            long size = Integer.toUnsignedLong(FramePeek.payloadSize(d, at));
            if (size > left || size > upstreamFrameMax - FrameType.OVERHEAD
                    || d.limit() - at < size + FrameType.OVERHEAD) {
                return false;
            }
            left -= size;
            at += (int) size + FrameType.OVERHEAD;
        }
        return true;
    }

    /** The method frame of the message whose header is being read, as it goes upstream (a view). */
    private ByteBuffer methodFrameOf(ChannelLink link) {
        if (inlineMessage == link) {
            ByteBuffer all = bytes.ensure(0).duplicate();
            all.flip();
            all.position(inlineMessageStart);
            return all;
        }
        return pendingMethod(link).duplicate();
    }

    /** The size of {@link #methodFrameOf}, without the view. */
    private int methodFrameSize(ChannelLink link) {
        return inlineMessage == link ? bytes.size() - inlineMessageStart : pendingMethod(link).remaining();
    }

    private static ByteBuffer pendingMethod(ChannelLink link) {
        if (link.pendingMethod == null) {
            throw new IllegalStateException("content header without its method frame");
        }
        return link.pendingMethod;
    }

    /**
     * The largest body this message may have: {@code max-message-size}, or what fits in the whole message-buffer
     * once laid out for the upstream connection.
     */
    private long maxBodySize(ChannelLink link, Frame header) {
        int methodAndHeader = methodFrameSize(link) + header.size() + FrameType.OVERHEAD;
        long fits = HeldMessage.largestBodyWithin(session.clients.messageBudget().capacity(), methodAndHeader,
                link.upstream.connection().frameMax());
        return Math.min(session.clients.config().maxMessageSize(), Math.max(0, fits));
    }

    // ---------------------------------------------------------------- held messages and the message-buffer

    /**
     * Holds a message that will not complete in this read in a buffer of its exact final size, reserved from the
     * message-buffer. If it does not fit, this client waits (unread) in the budget's FIFO queue and the header frame
     * is replayed once room is granted; a client that already holds a message and cannot get room for another
     * would wait on itself, so it is closed with 406 instead.
     *
     * @return whether the message is now held
     */
    private boolean holdMessage(ChannelLink link, Frame header, long bodySize) {
        MessageBudget budget = session.clients.messageBudget();
        ByteBuffer method = methodFrameOf(link);
        int upstreamFrameMax = link.upstream.connection().frameMax();
        long need = HeldMessage.layoutSize(method.remaining(), header.size(), bodySize, upstreamFrameMax);
        boolean holdsOther = holdsReservation();
        boolean reserved;
        if (budgetGranted == need) {
            budgetGranted = 0;
            reserved = true;
        } else {
            releaseGrant();
            reserved = budget.tryReserve(need, holdsOther);
        }
        if (!reserved) {
            if (holdsOther) {
                session.clients.stats().clientViolation(ReplyCode.PRECONDITION_FAILED.code());
                session.closeConnection(ReplyCode.PRECONDITION_FAILED.code(), ReplyCode.PRECONDITION_FAILED.text()
                        + " - message-buffer (" + budget.capacity() + " bytes) is full and this connection already"
                        + " holds an incomplete message; publish one message at a time or raise message-buffer",
                        BasicMethod.Publish.CLASS_ID, BasicMethod.Publish.METHOD_ID);
            } else {
                waitForBudget(link, header, need);
            }
            return false;
        }
        HeldMessage held = new HeldMessage(method, link.upstream.number(), header.payload(), bodySize,
                upstreamFrameMax);
        held.reservedFrom(budget);
        if (inlineMessage == link) {
            bytes.truncate(inlineMessageStart);
            inlineMessage = null;
        }
        link.pendingMethod = null;
        link.held = held;
        link.heldProgressNanos = System.nanoTime();
        hold(held);
        if (heldStallCheck == null) {
            heldStallCheck = session.loop().schedule(this::checkHeldStalls,
                    session.clients.config().slowClientTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
        countFrameSent(); // the header frame, now in the layout
        return true;
    }

    private void hold(HeldMessage held) {
        if (holding == null) {
            holding = new ArrayList<>(2);
        }
        holding.add(held);
    }

    /**
     * A held message that gets no body bytes for slow-client-timeout while other clients wait for room in the
     * message-buffer holds them all up (a header alone reserves the whole message): its channel is closed with 406
     * and the message dropped, as the broker drops a message whose channel closes. Without waiters it may wait.
     */
    private void checkHeldStalls() {
        assert session.onLoop();
        heldStallCheck = null;
        if (session.state != ClientSession.State.OPEN || !holdsReservation()) {
            return;
        }
        Duration timeout = session.clients.config().slowClientTimeout();
        if (session.clients.messageBudget().waiting() > 0) {
            long now = System.nanoTime();
            for (ChannelLink link : session.channels.snapshot()) {
                if (link.held != null && link.isUsable() && now - link.heldProgressNanos >= timeout.toNanos()) {
                    log.info("client {}: message on channel {} got no body frame for {} while others wait for the"
                            + " message-buffer; closing the channel", session.id(), link.clientChannel, timeout);
                    abandonMessage(link);
                    session.channels.closeLocally(link, ReplyCode.PRECONDITION_FAILED, "no part of this message "
                            + "arrived for " + timeout.toSeconds() + " s while other clients wait for room in the "
                            + "message-buffer", BasicMethod.Publish.CLASS_ID, BasicMethod.Publish.METHOD_ID);
                }
            }
        }
        if (holdsReservation()) {
            heldStallCheck = session.loop().schedule(this::checkHeldStalls, timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private boolean holdsReservation() {
        if (holding == null) {
            return false;
        }
        holding.removeIf(h -> !h.holdsReservation());
        return !holding.isEmpty();
    }

    /**
     * Stops reading this client until the message-buffer has {@code need} bytes for it: the header frame goes back in
     * front of the stash, to be handled again on the grant; what was read after it waits in the stash.
     */
    private void waitForBudget(ChannelLink link, Frame header, long need) {
        if (inlineMessage == link) {
            evictInlineMessage();
        }
        ByteBuffer frame = ByteBuffer.allocate(header.size() + FrameType.OVERHEAD);
        frame.put((byte) FrameType.HEADER).putShort((short) header.channel()).putInt(header.size())
                .put(header.payload().duplicate()).put((byte) FrameType.FRAME_END).flip();
        session.pushBack(frame);
        log.debug("client {}: waiting for {} bytes of the message-buffer", session.id(), need);
        budgetWait = session.clients.messageBudget().await(need, session.loop(), this::budgetGranted);
    }

    /** On the loop: the message-buffer reserved {@code granted} bytes for the message this client waits with. */
    private void budgetGranted(long granted) {
        assert session.onLoop();
        budgetWait = null;
        if (session.state != ClientSession.State.OPEN) {
            session.clients.messageBudget().release(granted);
            return;
        }
        budgetGranted = granted;
        try {
            session.resume();
        } finally {
            releaseGrant(); // unused: the channel closed meanwhile, or the message went inline
        }
    }

    private void releaseGrant() {
        if (budgetGranted > 0) {
            long n = budgetGranted;
            budgetGranted = 0;
            session.clients.messageBudget().release(n);
        }
    }

    /** Every reservation of this client goes back, and its wait ends: on each way a client ends. */
    void releaseHeldMessages() {
        if (budgetWait != null) {
            session.clients.messageBudget().cancel(budgetWait); // if granted meanwhile, budgetGranted releases it
            budgetWait = null;
        }
        releaseGrant();
        if (holding != null) {
            for (HeldMessage h : holding) {
                h.release();
            }
            holding = null;
        }
    }

    void cancelTimer() {
        if (heldStallCheck != null) {
            heldStallCheck.cancel();
            heldStallCheck = null;
        }
    }

    private void completeMessage(ChannelLink link) {
        if (inlineMessage == link) {
            inlineMessage = null;
        } else if (link.held != null) {
            HeldMessage held = link.held;
            flush(); // what the client sent before it goes first
            send(link.upstream.connection(), held.take()); // as it is: no copy
        }
        link.resetMessage(); // releases the reservation, after the hand-off
        if (link.upstream.confirmMode()) {
            link.upstream.recordPublish();
        }
        session.messagesPublished++;
        messagesInRead++;
        if (reading == null) {
            addCounts();
        }
    }

    /**
     * Moves an incomplete inline message out of the shared output. Normally it is only a method frame waiting for its
     * header (a few hundred bytes, kept as they are): a message whose header was read is inline only when it completes
     * in the same read ({@link #completesInThisRead}). Should one still be cut short, it is converted into its held
     * layout, its reservation taken even beyond the budget, so that nothing is lost.
     */
    private void evictInlineMessage() {
        ChannelLink link = inlineMessage;
        if (link == null) {
            return;
        }
        ByteBuffer region = methodFrameOf(link);
        inlineMessage = null;
        ByteBuffer copy = ByteBuffer.allocate(region.remaining()).put(region).flip();
        bytes.truncate(inlineMessageStart);
        if (link.content.expectsHeader()) {
            link.pendingMethod = copy;
            return;
        }
        log.warn("client {}: message on channel {} cut short inline; held beyond the message-buffer", session.id(),
                link.clientChannel);
        int methodEnd = FramePeek.payloadSize(copy, 0) + FrameType.OVERHEAD;
        int headerSize = FramePeek.payloadSize(copy, methodEnd);
        ByteBuffer headerPayload = copy.slice(methodEnd + FrameType.HEADER_SIZE, headerSize);
        long bodySize = ContentHeader.peekBodySize(headerPayload, 0);
        HeldMessage held = new HeldMessage(copy.slice(0, methodEnd), link.upstream.number(), headerPayload, bodySize,
                link.upstream.connection().frameMax());
        for (int at = methodEnd + headerSize + FrameType.OVERHEAD; at < copy.limit();
                at += FramePeek.payloadSize(copy, at) + FrameType.OVERHEAD) {
            held.appendBody(copy.slice(at + FrameType.HEADER_SIZE, FramePeek.payloadSize(copy, at)));
        }
        session.clients.messageBudget().reserveAnyway(held.size());
        held.reservedFrom(session.clients.messageBudget());
        link.held = held;
        hold(held);
    }

    /** Drops the message under way on {@code link}: nothing of it went upstream. */
    void abandonMessage(ChannelLink link) {
        if (inlineMessage == link) {
            bytes.truncate(inlineMessageStart);
            inlineMessage = null;
        }
        link.resetMessage();
    }

    /** The client is being closed: its incomplete inline message is dropped, the rest goes upstream. */
    void abandonInlineAndFlush() {
        if (inlineMessage != null) {
            abandonMessage(inlineMessage);
        }
        flush();
    }

    // ---------------------------------------------------------------- writing upstream

    /** Sends what was gathered (never an incomplete inline message). */
    void flush() {
        UpstreamConnection to = target;
        if (to == null || bytes.isEmpty()) {
            return;
        }
        if (inlineMessage != null) {
            evictInlineMessage();
            if (bytes.isEmpty()) {
                return;
            }
        }
        send(to, bytes.take());
    }

    /**
     * Sends one frame Warren generates at once, after what was gathered: for frames that must reach the broker before
     * anything that follows from another loop (the close-ok before its slot is freed and opened again).
     */
    void sendNow(UpstreamConnection upstream, ByteBuffer frame) {
        flush();
        send(upstream, frame);
    }

    private void send(UpstreamConnection upstream, ByteBuffer data) {
        if (!upstream.send(data) && !pausedForBackPressure && session.isReading()) {
            // The upstream socket is backed up: stop reading this client until it drains (TCP back-pressure).
            pausedForBackPressure = true;
            session.setReadPaused(true);
            upstream.whenWritable(session);
        }
    }

    boolean pausedForBackPressure() {
        return pausedForBackPressure;
    }

    /** An upstream connection this client waited for has drained; returns whether reads were paused for it. */
    boolean upstreamWritable() {
        boolean was = pausedForBackPressure;
        pausedForBackPressure = false;
        return was;
    }
}
