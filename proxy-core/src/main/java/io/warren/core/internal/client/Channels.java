package io.warren.core.internal.client;

import io.warren.codec.AmqpMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.Frame;
import io.warren.codec.FrameType;
import io.warren.codec.LongString;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.codec.ReplyCode;
import io.warren.core.internal.pool.ChannelGrant;
import io.warren.core.internal.pool.Reply;
import io.warren.core.internal.pool.ScrubWait;
import io.warren.core.internal.upstream.Scrubber;
import io.warren.core.internal.upstream.UpstreamChannel;
import io.warren.core.internal.upstream.UpstreamConnection;
import io.warren.core.internal.upstream.UpstreamError;
import io.warren.core.internal.wire.Frames;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One client's channels: the table from its channel numbers to {@link ChannelLink}s, and each channel's life. A
 * channel.open is answered at once and pipelined upstream on a channel lent from the pool or opened for it; frames
 * on an open channel go through {@link ChannelMethods} and the {@link PublishPath}; closing follows both peers'
 * close and close-ok; a channel the client is done with goes to a {@link Scrubber}, to be scrubbed for reuse or
 * closed upstream (docs/architecture.md, "Channels").
 *
 * <p>Owned by the session's loop.
 */
final class Channels {
    private final ClientSession session;
    private final Map<Integer, ChannelLink> links = new HashMap<>(4);
    /** The exclusive queues this client declared; null until it declares one. */
    private ExclusiveQueues exclusive;

    Channels(ClientSession session) {
        this.session = session;
    }

    ChannelLink get(int clientChannel) {
        return links.get(clientChannel);
    }

    /** The client's links now, as a copy. */
    List<ChannelLink> snapshot() {
        return new ArrayList<>(links.values());
    }

    /** The upstream connections the client's channels are on (with repeats). */
    List<UpstreamConnection> upstreams() {
        List<UpstreamConnection> out = new ArrayList<>(links.size());
        for (ChannelLink link : links.values()) {
            out.add(link.upstream.connection());
        }
        return out;
    }

    // ---------------------------------------------------------------- frames from the client

    void handleFrame(Frame frame) throws ProtocolException {
        int channel = frame.channel();
        ChannelLink link = links.get(channel);
        if (link == null) {
            if (frame.type() == FrameType.METHOD && frame.classId() == ChannelMethod.Open.CLASS_ID
                    && frame.methodId() == ChannelMethod.Open.METHOD_ID) {
                MethodCodec.decode(frame.payload());
                if (links.size() >= session.channelMax) {
                    // RabbitMQ limits how many channels are open, not their numbers.
                    throw new ProtocolException(ReplyCode.NOT_ALLOWED, "number of channels opened ("
                            + links.size() + ") has reached the negotiated channel_max (" + session.channelMax + ")",
                            0, 0);
                }
                open(channel);
                return;
            }
            int classId = frame.type() == FrameType.METHOD ? frame.classId() : 0;
            int methodId = frame.type() == FrameType.METHOD ? frame.methodId() : 0;
            throw new ProtocolException(ReplyCode.CHANNEL_ERROR, "expected 'channel.open'", classId, methodId);
        }
        if (link.isUsable()) {
            openChannelFrame(link, frame);
        } else {
            closingChannelFrame(link, frame);
        }
    }

    private void openChannelFrame(ChannelLink link, Frame frame) throws ProtocolException {
        switch (frame.type()) {
            case FrameType.METHOD -> {
                link.content.checkMethod(frame.classId(), frame.methodId());
                ChannelMethods.handle(session, link, frame, MethodCodec.decode(frame.payload()));
            }
            case FrameType.HEADER -> session.publish.contentHeader(link, frame);
            case FrameType.BODY -> session.publish.contentBody(link, frame);
            default -> throw new ProtocolException(ReplyCode.FRAME_ERROR, "unknown frame type " + frame.type());
        }
    }

    /**
     * A frame on a channel that one side is closing: after sending channel.close a peer discards everything but close
     * and close-ok. A close from the client while it closes too (both at once) is answered; the client's answer to a
     * close ends its channel.
     */
    private void closingChannelFrame(ChannelLink link, Frame frame) throws ProtocolException {
        if (frame.type() != FrameType.METHOD) {
            return;
        }
        AmqpMethod method = MethodCodec.decode(frame.payload());
        boolean close = method instanceof ChannelMethod.Close;
        if (!close && !(method instanceof ChannelMethod.CloseOk)) {
            return;
        }
        if (close) {
            session.write(Frames.method(link.clientChannel, new ChannelMethod.CloseOk()));
        }
        switch (link.state) {
            case SERVER_CLOSING -> {
                link.upstream.answerClose(session.publish::sendNow);
                detach(link);
                afterBrokerClose(link);
            }
            case LOCAL_CLOSING -> {
                detach(link);
                release(link);
            }
            default -> { } // CLIENT_CLOSING: the broker's close-ok ends it
        }
    }

    /** The broker's close of {@code link}'s channel was answered: free it, or wait for its answer to ours. */
    private void afterBrokerClose(ChannelLink link) {
        if (link.upstream.closeSent()) {
            link.returned(Scrubber.awaitCloseOk(link.upstream, session.loop()));
        } else {
            free(link);
        }
    }

    // ---------------------------------------------------------------- opening

    private void open(int clientChannel) {
        ClientLogin login = session.login;
        // A wait for a scrub is the pool's to call: when the key has as many channels on their way back as its
        // request rate and scrub round trip need, or its scrubs take less than scrub-wait (a local broker's).
        long waitMillis = session.clients.config().scrubWait().toMillis();
        ChannelGrant grant = session.clients.pools().requestPlain(login.keyed(), session,
                new Allocated(clientChannel), TimeUnit.MILLISECONDS.toNanos(waitMillis));
        if (grant instanceof ChannelGrant.Lent lent) {
            attach(bind(clientChannel, lent.channel()));
        } else if (grant instanceof ChannelGrant.AwaitScrub await) {
            ScrubWait wait = await.scrubWait();
            session.suspend();
            session.loop().schedule(() -> {
                if (session.clients.pools().cancelScrubWait(login.keyed(), wait) && session.isReading()) {
                    openFresh(clientChannel);
                    session.publish.flush();
                    session.resume();
                }
            }, waitMillis, TimeUnit.MILLISECONDS);
        } else {
            openFresh(clientChannel);
        }
    }

    private void openFresh(int clientChannel) {
        ClientLogin login = session.login;
        UpstreamChannel channel = session.clients.pools().openChannel(login.keyed(), login.home(), session);
        if (channel == null) {
            // Every upstream connection of this key is full: wait for a new one (pipelined frames are stashed).
            session.suspend();
            session.clients.pools().awaitChannel(login.keyed(), login.loginKey(), session,
                    new Allocated(clientChannel));
            return;
        }
        attach(bind(clientChannel, channel));
    }

    /** A channel for a client channel that waited for one (a scrub, or a new connection); on the session's loop. */
    private final class Allocated implements Reply<UpstreamChannel> {
        private final int clientChannel;

        Allocated(int clientChannel) {
            this.clientChannel = clientChannel;
        }

        @Override
        public void ok(UpstreamChannel channel) {
            assert session.onLoop();
            if (!session.isReading()) {
                if (channel.opened()) {
                    // A scrubbed channel, open upstream: it goes back to the pool (or is closed) as it is.
                    Scrubber.returnClean(channel, session.loop(), session.publish);
                    session.publish.flush();
                } else {
                    channel.free(); // never opened upstream: the slot is simply free again
                }
                return;
            }
            attach(bind(clientChannel, channel));
            session.publish.flush();
            session.resume();
        }

        @Override
        public void failed(UpstreamError error) {
            assert session.onLoop();
            if (session.isReading()) {
                session.closeConnection(error.code(), error.text(), ChannelMethod.Open.CLASS_ID,
                        ChannelMethod.Open.METHOD_ID);
            }
        }
    }

    /**
     * The client's side of {@code channel}, which it holds from now on: a lent channel is taken over as it is (open,
     * in confirm mode if it was, the client's confirm tags counting from 1).
     */
    ChannelLink bind(int clientChannel, UpstreamChannel channel) {
        ChannelLink link = new ChannelLink(session, clientChannel, channel,
                session.clients.policy().track(session.login.channelContext(channel.confirmMode())));
        if (channel.opened()) {
            link.state = ChannelLink.State.OPEN;
            link.lent = true;
            link.confirmTagOffset = channel.publishSeq();
        }
        channel.holdBy(link);
        return link;
    }

    /**
     * Opens the upstream channel and answers the client at once: channel.open is pipelined, so the client's next
     * frames follow it upstream in order and it waits for no upstream round trip. The broker's open-ok is swallowed;
     * if the broker refused the channel, its channel.close reaches the client like any asynchronous close.
     */
    private void attach(ChannelLink link) {
        links.put(link.clientChannel, link);
        session.clients.stats().clientChannelOpened();
        if (!link.upstream.opened()) {
            link.upstream.open(session.publish);
        }
        session.write(Frames.method(link.clientChannel, new ChannelMethod.OpenOk(LongString.EMPTY)));
    }

    /** A lent channel replaces the client's untouched one under the same number (confirm.select swap). */
    void replace(ChannelLink old, ChannelLink swapped) {
        links.put(old.clientChannel, swapped);
        old.returned(Scrubber.returnClean(old.upstream, session.loop(), session.publish));
    }

    // ---------------------------------------------------------------- closing

    /** Warren answers a soft error itself: the client's channel closes, the upstream channel is released. */
    void closeLocally(ChannelLink link, ReplyCode code, String text, int classId, int methodId) {
        link.state = ChannelLink.State.LOCAL_CLOSING;
        session.write(Frames.method(link.clientChannel, Frames.channelClose(code, text, classId, methodId)));
    }

    /** A class-20 method from the broker on a live link; returns whether the client should see it. */
    boolean channelMethodFromUpstream(ChannelLink link, int methodId) {
        switch (methodId) {
            case ChannelMethod.OpenOk.METHOD_ID -> {
                if (link.state == ChannelLink.State.OPENING) {
                    link.state = ChannelLink.State.OPEN;
                }
                return false; // the client got its open-ok from attach()
            }
            case ChannelMethod.Close.METHOD_ID -> {
                if (link.state == ChannelLink.State.LOCAL_CLOSING) {
                    // The client is already told; answer the broker ourselves.
                    link.upstream.answerClose(session.publish::sendNow);
                    detach(link);
                    free(link);
                    return false;
                }
                // The broker closed the channel (a soft error): the client answers close-ok, we relay it.
                session.publish.abandonMessage(link);
                link.state = ChannelLink.State.SERVER_CLOSING;
                return true;
            }
            case ChannelMethod.CloseOk.METHOD_ID -> {
                if (link.state == ChannelLink.State.CLIENT_CLOSING) {
                    detach(link);
                    free(link);
                    return true;
                }
                // SERVER_CLOSING: our close crossed the broker's; the client got the broker's close and answers it.
                return false;
            }
            default -> {
                return link.isUsable();
            }
        }
    }

    /** The client's channel.close on a channel that is not lent again: forwarded, the broker's close-ok ends it. */
    void clientClosing(ChannelLink link, Frame close) {
        link.state = ChannelLink.State.CLIENT_CLOSING;
        link.upstream.closeForwarded();
        session.publish.appendFrame(link, close);
    }

    /** The client's channel.close on a channel the policy allows to lend again: answered here, then scrubbed. */
    void returnForReuse(ChannelLink link) {
        // Answered here: the client waits for no upstream round trip, and the channel is scrubbed.
        session.write(Frames.method(link.clientChannel, new ChannelMethod.CloseOk()));
        detach(link);
        scrub(link);
    }

    /**
     * The client is gone: every channel is detached; exclusive queues are deleted; each channel is scrubbed for
     * reuse when the policy allows, else closed upstream (invariants 4, 10 and 11).
     */
    void releaseAll() {
        List<ChannelLink> all = snapshot();
        for (ChannelLink link : all) {
            detach(link);
        }
        if (exclusive != null && session.login != null) {
            exclusive.deleteAll(session);
        }
        for (ChannelLink link : all) {
            switch (link.state) {
                case OPENING, OPEN -> retire(link);
                case LOCAL_CLOSING -> release(link);
                case SERVER_CLOSING -> {
                    link.upstream.answerClose(session.publish::sendNow);
                    afterBrokerClose(link);
                }
                case CLIENT_CLOSING -> link.returned(Scrubber.awaitCloseOk(link.upstream, session.loop()));
                default -> { }
            }
        }
    }

    /** Ends a link the client is done with: scrubbed for reuse when the policy allows, else closed upstream. */
    private void retire(ChannelLink link) {
        if (link.messageInProgress()) {
            // Nothing of the half message went upstream (messages go whole), but a client that died mid-message
            // is a client whose channel we would rather not vouch for.
            session.clients.stats().scrubFailed("partial_message");
            session.publish.abandonMessage(link);
            release(link);
        } else if (reuseAllowed(link)) {
            scrub(link);
        } else {
            release(link);
        }
    }

    /** The reuse policy's verdict on a channel its client is done with, counted. */
    boolean reuseAllowed(ChannelLink link) {
        boolean reusable = link.tracker.mayReuse();
        session.clients.stats().reuseDecided(reusable);
        return reusable;
    }

    private void scrub(ChannelLink link) {
        session.publish.abandonMessage(link); // the partial message, never sent upstream
        link.returned(Scrubber.scrub(link.upstream, link.pendingSync, session.loop(), session.publish));
    }

    /** Closes the link's upstream channel; the broker's close-ok frees the slot. */
    private void release(ChannelLink link) {
        link.returned(Scrubber.release(link.upstream, session.loop(), session.publish, "client closed"));
    }

    /** The client's channel ends (its number may be opened again); the upstream channel lives on as it must. */
    private void detach(ChannelLink link) {
        if (links.remove(link.clientChannel, link)) {
            session.clients.stats().clientChannelClosed();
        }
    }

    private void free(ChannelLink link) {
        if (link.state != ChannelLink.State.CLOSED) {
            link.state = ChannelLink.State.CLOSED;
            link.upstream.free();
        }
    }

    /**
     * {@code upstream} died: the client's channels on it are gone with it (their slots need no release).
     *
     * @return whether the client had any there
     */
    boolean dropAllOn(UpstreamConnection upstream) {
        return links.values().removeIf(link -> {
            if (link.upstream.connection() == upstream) {
                link.state = ChannelLink.State.CLOSED;
                session.clients.stats().clientChannelClosed();
                return true;
            }
            return false;
        });
    }

    // ---------------------------------------------------------------- exclusive queues (DESIGN.md invariant 10)

    void exclusiveQueueDeclared(String queue, UpstreamConnection on) {
        if (exclusive == null) {
            exclusive = new ExclusiveQueues();
        }
        exclusive.declared(queue, on);
    }

    void queueDeleted(String queue) {
        if (exclusive != null) {
            exclusive.deleted(queue);
        }
    }
}
