package io.warren.core.internal.client;

import io.warren.api.ClientCredentials;
import io.warren.api.transport.Connection;
import io.warren.api.transport.ConnectionHandler;
import io.warren.api.transport.EventLoop;
import io.warren.codec.AmqpMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.Frame;
import io.warren.codec.FrameDecoder;
import io.warren.codec.FrameType;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.codec.ReplyCode;
import io.warren.core.admin.ChannelView;
import io.warren.core.admin.ClientView;
import io.warren.core.internal.limits.ClientAdmission;
import io.warren.core.internal.screen.HardError;
import io.warren.core.internal.upstream.ChannelOwner;
import io.warren.core.internal.upstream.UpstreamBatch;
import io.warren.core.internal.upstream.UpstreamConnection;
import io.warren.core.internal.upstream.UpstreamError;
import io.warren.core.internal.wire.Frames;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: the transport's callbacks, the dispatch of the client's frames, the session's state, and
 * how it ends. What happens in each state is the job of a collaborator: {@link ClientHandshake} until open-ok, then
 * {@link Channels} (the client's channels and their methods) feeding {@link PublishPath} (what goes upstream), with
 * {@link DeliveryFilter} for what comes back, {@link SlowClientGuard} for a client that stops reading, and
 * {@link Heartbeats}.
 *
 * <p>Threading: owned by the client connection's event loop ({@link #loop()}); every entry point asserts it. Upstream
 * connections and pools reach it only as a {@link ChannelOwner} or through replies, handed to that loop.
 */
public final class ClientSession implements ConnectionHandler, ChannelOwner {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    /** Declared in handshake order: {@code state.compareTo(OPEN) < 0} means the handshake is not done. */
    enum State {
        AWAIT_HEADER, AWAIT_START_OK, LOGGING_IN, AWAIT_TUNE_OK, AWAIT_OPEN, AUTHENTICATING, OPEN, CLOSING, CLOSED
    }

    final Clients clients;
    final Connection conn;
    private final EventLoop loop;
    private final FrameDecoder decoder;
    /** Whether this client was admitted, or is to be refused (at connection.open, or at once). */
    final ClientAdmission.Decision admission;
    final long acceptedNanos;
    State state = State.AWAIT_HEADER;
    /** Warren's side of the handshake; null once it is done. */
    private ClientHandshake handshake;
    /** Who the client logged in as and where it authenticated; null before start-ok. */
    ClientLogin login;
    /** What was negotiated at tune. */
    int channelMax;
    int frameMax;
    int heartbeatSeconds;
    final Channels channels = new Channels(this);
    final PublishPath publish = new PublishPath(this);
    /** Created when the client's write queue first fills up. */
    private SlowClientGuard slow;
    private Heartbeats heartbeats;
    /** A connection.update-secret under way, or null. */
    SecretUpdate secretUpdate;
    /** Bytes that arrived while processing was suspended (waiting for upstream); replayed on resume. */
    private ByteBuffer stash;
    private boolean suspended;
    /** Whether this client's socket is not being read, for whatever reason (see {@link #setReadPaused}). */
    private boolean readsPaused;
    long lastReadNanos;
    long lastWriteNanos;
    /** When Warren accepted the connection, for the admin API (wall clock). */
    private final long acceptedMillis = System.currentTimeMillis();
    /** What the client said of itself at start-ok (empty when it did not). */
    String connectionName = "";
    String product = "";
    String version = "";
    /** Counted for the admin API. */
    private long bytesReceived;
    private long bytesSent;
    long messagesPublished;
    long messagesDelivered;

    ClientSession(Clients clients, Connection conn, ClientAdmission.Decision admission) {
        this.clients = clients;
        this.conn = conn;
        this.admission = admission;
        this.loop = conn.eventLoop();
        this.decoder = new FrameDecoder(clients.config().frameMax());
        this.acceptedNanos = System.nanoTime();
        this.lastReadNanos = acceptedNanos;
        this.lastWriteNanos = acceptedNanos;
    }

    @Override
    public EventLoop loop() {
        return loop;
    }

    public long id() {
        return conn.id();
    }

    boolean onLoop() {
        return loop.inEventLoop();
    }

    // ---------------------------------------------------------------- transport events

    @Override
    public void onOpen(Connection connection) {
        assert onLoop();
        clients.stats().clientConnected();
        log.debug("client {} connected from {}", conn.id(), conn.remoteAddress());
        if (admission.verdict() == ClientAdmission.Verdict.CLOSE_AT_ONCE) {
            clients.stats().handshakeFailed("connection_limit");
            state = State.CLOSING;
            conn.close();
            return;
        }
        handshake = new ClientHandshake(this);
    }

    @Override
    public void onRead(Connection connection, ByteBuffer data) {
        assert onLoop();
        lastReadNanos = System.nanoTime();
        bytesReceived += data.remaining();
        clients.stats().clientBytesReceived(data.remaining());
        if (suspended) {
            stashRemaining(data);
            return;
        }
        process(data);
    }

    @Override
    public void onWritable(Connection connection) {
        assert onLoop();
        if (slow != null) {
            slow.unstall(); // the client reads again: so may the upstream connections feeding it
        }
    }

    @Override
    public void onClose(Connection connection, Throwable cause) {
        assert onLoop();
        if (state == State.CLOSED) {
            return;
        }
        if (cause != null) {
            log.debug("client {} connection lost: {}", conn.id(), cause.toString());
        } else {
            log.debug("client {} disconnected", conn.id());
        }
        State before = state;
        state = State.CLOSED;
        try {
            if (slow != null) {
                slow.unstall();
            }
            cancelTimers();
            publish.flush();
            if (before != State.CLOSING) {
                releaseEverything();
            }
            if (before.compareTo(State.OPEN) < 0 && before != State.CLOSING) {
                clients.stats().handshakeFailed("client_gone");
            }
        } finally {
            publish.releaseHeldMessages();
            switch (admission.verdict()) {
                case ADMIT -> clients.admission().left();
                case REFUSE_WITH_530 -> clients.admission().refusalDone();
                case CLOSE_AT_ONCE -> { }
            }
            clients.stats().clientDisconnected();
            clients.closed(this); // last: once a client is no longer counted, its place is free
        }
    }

    // ---------------------------------------------------------------- reading

    private void process(ByteBuffer data) {
        ByteBuffer outerRead = publish.beginRead(data);
        int framesRead = 0; // added once, in finally: also the frames before a violation count
        try {
            if (state == State.AWAIT_HEADER && !handshake.readProtocolHeader(data)) {
                return;
            }
            while (state != State.CLOSED && !suspended) {
                if (decoder.failed()) {
                    // After a frame error nothing can be read, not even the close-ok Warren asked for: what still
                    // comes is dropped, and the grace period ends the connection (closing now, with unread bytes,
                    // would reset it and could cost the client Warren's connection.close).
                    data.position(data.limit());
                    break;
                }
                Frame frame = decoder.next(data);
                if (frame == null) {
                    break;
                }
                framesRead++;
                if (state == State.CLOSING) {
                    awaitCloseOk(frame);
                } else {
                    handleFrame(frame);
                }
            }
            if (suspended && data.hasRemaining() && isReading()) {
                stashRemaining(data);
            }
        } catch (ProtocolException e) {
            if (state == State.CLOSING) {
                conn.close(); // garbage while we wait for close-ok: nothing more to say
            } else {
                violation(e.replyCode(), e.getMessage(), e.classId(), e.methodId());
            }
        } catch (RuntimeException e) {
            log.warn("client {}: internal error while processing its frames", conn.id(), e);
            violation(ReplyCode.INTERNAL_ERROR, "internal error in proxy", 0, 0);
        } finally {
            clients.stats().clientFramesReceived(framesRead);
            publish.endRead(outerRead);
        }
    }

    /** Bytes after a protocol header that arrived split: processed as the rest of this read. */
    void processRest(ByteBuffer rest) {
        process(rest);
    }

    boolean isReading() {
        return state != State.CLOSING && state != State.CLOSED;
    }

    private void stashRemaining(ByteBuffer data) {
        if (!data.hasRemaining()) {
            return;
        }
        int extra = data.remaining();
        if (stash == null) {
            stash = ByteBuffer.allocate(extra);
        } else if (stash.remaining() < extra) {
            ByteBuffer bigger = ByteBuffer.allocate(stash.position() + extra);
            stash.flip();
            bigger.put(stash);
            stash = bigger;
        }
        stash.put(data);
        setReadPaused(true);
    }

    /**
     * Puts {@code frame} (one whole frame, as the client sent it) back in front of what is stashed and stops reading
     * until {@link #resume()}: it is handled again then.
     */
    void pushBack(ByteBuffer frame) {
        ByteBuffer replay = ByteBuffer.allocate(frame.remaining() + (stash == null ? 0 : stash.position()));
        replay.put(frame);
        if (stash != null) {
            stash.flip();
            replay.put(stash);
        }
        stash = replay;
        suspend();
        setReadPaused(true);
    }

    /**
     * Stops or resumes reading the client's socket. While reads are paused the client's heartbeats wait unread, so
     * the silence is Warren's own and does not count against the client (as RabbitMQ pauses its heartbeat monitor
     * for a connection it blocks).
     */
    void setReadPaused(boolean paused) {
        if (readsPaused && !paused) {
            lastReadNanos = System.nanoTime();
        }
        readsPaused = paused;
        conn.setReadPaused(paused);
    }

    /** The frame_max agreed at tune: larger frames from the client are a frame error. */
    void setClientFrameMax(int max) {
        decoder.setMaxFrameSize(max);
    }

    boolean readsPaused() {
        return readsPaused;
    }

    /** Stops frame processing until {@link #resume()}; bytes that arrive meanwhile are kept. */
    void suspend() {
        suspended = true;
    }

    boolean suspended() {
        return suspended;
    }

    void resume() {
        if (!suspended) {
            return;
        }
        suspended = false;
        ByteBuffer pending = stash;
        stash = null;
        if (pending != null) {
            pending.flip();
            process(pending);
            if (suspended && pending.hasRemaining()) {
                stashRemaining(pending);
            }
        }
        // Also while CLOSING: a violation found in the replayed bytes must not leave reads off, or the client's
        // close-ok (and its end of stream) would never be read and it would wait out the grace period.
        if (!suspended && !publish.pausedForBackPressure() && state != State.CLOSED) {
            setReadPaused(false);
        }
    }

    /** After connection.close a peer discards everything but close and close-ok. */
    private void awaitCloseOk(Frame frame) throws ProtocolException {
        if (frame.type() != FrameType.METHOD || frame.channel() != 0) {
            return;
        }
        AmqpMethod method = MethodCodec.decode(frame.payload());
        if (method instanceof ConnectionMethod.CloseOk) {
            conn.close();
        } else if (method instanceof ConnectionMethod.Close) {
            write(Frames.method(0, new ConnectionMethod.CloseOk()));
            conn.close();
        }
    }

    private void handleFrame(Frame frame) throws ProtocolException {
        if (state.compareTo(State.OPEN) < 0) {
            handshake.handleFrame(frame);
            return;
        }
        int channel = frame.channel();
        switch (frame.type()) {
            case FrameType.HEARTBEAT -> {
                if (channel != 0) {
                    throw new ProtocolException(ReplyCode.FRAME_ERROR, "heartbeat frame on channel " + channel);
                }
            }
            case FrameType.METHOD -> {
                if (channel == 0) {
                    handleConnectionMethod(MethodCodec.decode(frame.payload()));
                } else {
                    channels.handleFrame(frame);
                }
            }
            case FrameType.HEADER, FrameType.BODY -> {
                if (channel == 0) {
                    throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, "unexpected content frame on channel 0");
                }
                channels.handleFrame(frame);
            }
            default -> throw new ProtocolException(ReplyCode.FRAME_ERROR, "unknown frame type " + frame.type());
        }
    }

    /** After the handshake: connection-class methods on channel 0. */
    private void handleConnectionMethod(AmqpMethod method) throws ProtocolException {
        if (method instanceof ConnectionMethod.Close) {
            write(Frames.method(0, new ConnectionMethod.CloseOk()));
            closeGracefully();
        } else if (method instanceof ConnectionMethod.UpdateSecret update) {
            SecretUpdate.start(this, update);
        } else {
            throw new ProtocolException(ReplyCode.CHANNEL_ERROR,
                    "unexpected method in connection state running", method.classId(), method.methodId());
        }
    }

    /** The handshake is done: open-ok was sent. */
    void opened(ClientLogin authenticated) {
        login = authenticated;
        handshake = null;
        state = State.OPEN;
        if (heartbeatSeconds > 0) {
            heartbeats = new Heartbeats(this);
        }
    }

    // ---------------------------------------------------------------- from upstream (ChannelOwner)

    @Override
    public void deliver(UpstreamBatch batch) {
        assert onLoop();
        DeliveryFilter.deliver(this, batch);
    }

    @Override
    public void upstreamBlocked(ByteBuffer frame) {
        assert onLoop();
        if (state == State.OPEN && login.capabilities().connectionBlocked()) {
            write(frame);
        }
    }

    @Override
    public void upstreamWritable() {
        assert onLoop();
        if (publish.upstreamWritable() && !suspended && state != State.CLOSED) {
            setReadPaused(false);
        }
    }

    /** The upstream connection died or was closed by the broker: the client goes with it (invariant 7). */
    @Override
    public void upstreamClosed(UpstreamConnection upstream, UpstreamError error) {
        assert onLoop();
        if (state == State.AUTHENTICATING) {
            handshake.upstreamClosed(upstream, error);
            return;
        }
        if (login == null || !isReading()) {
            return;
        }
        if (login.home() == upstream) {
            login.leaveHome(); // its next channels go to another connection of its key, or a new one
        }
        // A proxy cannot move a channel's broker-side state: a client that had channels there goes with them.
        if (channels.dropAllOn(upstream)) {
            closeConnection(error.code(), error.text(), error.classId(), error.methodId());
        }
    }

    // ---------------------------------------------------------------- closing

    /** Ends this client for a protocol violation, as the broker would: connection.close with the code. */
    void violation(ReplyCode code, String text, int classId, int methodId) {
        if (!isReading()) {
            return;
        }
        log.debug("client {} violated the protocol: {} {}", conn.id(), code.code(), text);
        clients.stats().clientViolation(code.code());
        if (state == State.AWAIT_HEADER) {
            state = State.CLOSING;
            conn.close();
            return;
        }
        closeConnection(code.code(), code.text() + " - " + text, classId, methodId);
    }

    /** Ends this client for a hard error Warren answers itself with the broker's code and text. */
    void hardError(HardError e) {
        clients.stats().clientViolation(e.code().code());
        log.debug("client {}: answering {} locally: {}", conn.id(), e.code().code(), e.text());
        closeConnection(e.code().code(), e.text(), e.classId(), e.methodId());
    }

    /**
     * Sends connection.close to the client and releases its upstream resources at once (the client's channels
     * are closed upstream; what it already sent was flushed first). The socket closes on close-ok or after a
     * grace period.
     */
    void closeConnection(int code, String text, int classId, int methodId) {
        if (!isReading()) {
            return;
        }
        publish.abandonInlineAndFlush();
        state = State.CLOSING;
        cancelTimers();
        write(Frames.method(0, new ConnectionMethod.Close(code, Frames.truncate(text), classId, methodId)));
        releaseEverything();
        // Closed while waiting for upstream (a refused login, a refused new secret): read on, for the close-ok.
        resume();
        // A client that never answers close-ok is cut off after a grace period.
        loop.schedule(() -> {
            if (state == State.CLOSING) {
                conn.close();
            }
        }, Frames.CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The client asked to close (connection.close, answered already), or stopped answering heartbeats. */
    void closeGracefully() {
        publish.abandonInlineAndFlush();
        state = State.CLOSING;
        cancelTimers();
        releaseEverything();
        conn.close();
    }

    /** Connection shutdown from the engine (drain deadline): 320 CONNECTION_FORCED, as a broker does. */
    public void forceClose(String reason) {
        assert onLoop();
        if (state.compareTo(State.OPEN) < 0) {
            state = State.CLOSING;
            conn.close();
            return;
        }
        closeConnection(ReplyCode.CONNECTION_FORCED.code(), ReplyCode.CONNECTION_FORCED.text() + " - " + reason, 0,
                0);
    }

    /**
     * Returns every upstream resource: pending messages that never completed are dropped (never routed), channels
     * are closed upstream or scrubbed, exclusive queues deleted (invariants 10 and 11).
     */
    private void releaseEverything() {
        if (handshake != null) {
            handshake.release();
        }
        if (secretUpdate != null) {
            secretUpdate.cancel();
        }
        channels.releaseAll();
        if (login != null) {
            login.release(this);
        }
        publish.releaseHeldMessages(); // also messages of channels already gone with a dead upstream connection
        publish.flush();
    }

    // ---------------------------------------------------------------- writing

    /** Writes one generated frame (or the protocol header) to the client. */
    void write(ByteBuffer bytes) {
        write(bytes, 1);
    }

    /** Writes {@code frames} whole frames to the client. */
    void write(ByteBuffer bytes, int frames) {
        lastWriteNanos = System.nanoTime();
        bytesSent += bytes.remaining();
        clients.stats().clientBytesSent(bytes.remaining());
        clients.stats().clientFramesSent(frames);
        boolean writable = conn.write(bytes);
        long queued = conn.queuedBytes();
        clients.stats().clientWriteQueued(queued);
        if (writable || !isReading()) {
            return;
        }
        if (slow == null) {
            slow = new SlowClientGuard(this);
        }
        slow.writeQueueFull(queued);
    }

    private void cancelTimers() {
        if (handshake != null) {
            handshake.cancelTimer();
        }
        publish.cancelTimer();
        if (heartbeats != null) {
            heartbeats.cancel();
        }
    }

    /** Whether the connection is closed (it leaves the registry at once); on the loop. */
    public boolean gone() {
        return state == State.CLOSED;
    }

    @Override
    public boolean isClient() {
        return true;
    }

    // ---------------------------------------------------------------- the operator's view

    /**
     * What the admin API shows of this client now.
     *
     * @param draining whether Warren no longer accepts clients (an open client then drains)
     * @param eventLoop the index of its loop among the runtime's
     */
    public ClientView view(boolean draining, int eventLoop) {
        assert onLoop();
        ClientCredentials who = login != null ? login.credentials() : handshake != null ? handshake.credentials()
                : null;
        String shownState = switch (state) {
            case CLOSING, CLOSED -> "closing";
            case OPEN -> draining ? "draining" : "open";
            default -> handshake != null && handshake.held() ? "held" : "handshake";
        };
        List<ChannelView> shown = new ArrayList<>();
        for (ChannelLink link : channels.snapshot()) {
            String linkState = switch (link.state) {
                case OPENING -> "opening";
                case OPEN -> "open";
                case RETURNED, CLOSED -> null; // the client is done with it
                default -> "closing";
            };
            if (linkState != null) {
                UpstreamConnection on = link.upstream.connection();
                shown.add(new ChannelView(link.clientChannel, on.node().name(), on.id(), link.upstream.number(),
                        link.lent, linkState, link.tracker.verdictSoFar()));
            }
        }
        shown.sort(Comparator.comparingInt(ChannelView::number));
        return new ClientView(conn.id(), conn.remoteAddress(), who == null ? "" : who.username(),
                who == null ? "" : who.virtualHost(), connectionName, product, version, conn.isTls(),
                Instant.ofEpochMilli(acceptedMillis), shownState, shown, bytesReceived, bytesSent, messagesPublished,
                messagesDelivered, conn.queuedBytes(), eventLoop);
    }

    /** Closes this client for the operator: 320 CONNECTION_FORCED with {@code text}, as the broker's own tools do. */
    public void closeForOperator(String text) {
        assert onLoop();
        log.info("client {} {} closed by the operator: {}", conn.id(), conn.remoteAddress(), text);
        if (state == State.AWAIT_HEADER) {
            state = State.CLOSING; // no AMQP spoken yet: nothing to say
            conn.close();
            return;
        }
        closeConnection(ReplyCode.CONNECTION_FORCED.code(), ReplyCode.CONNECTION_FORCED.text() + " - " + text, 0, 0);
    }

    @Override
    public String toString() {
        return "client " + conn.id() + " " + conn.remoteAddress();
    }
}
