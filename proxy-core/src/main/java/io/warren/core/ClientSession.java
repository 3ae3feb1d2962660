package io.warren.core;

import io.warren.api.ChannelContext;
import io.warren.api.ClientCredentials;
import io.warren.api.CredentialRejectedException;
import io.warren.api.KeyedCredentials;
import io.warren.api.PoolKey;
import io.warren.api.transport.Connection;
import io.warren.api.transport.ConnectionHandler;
import io.warren.api.transport.EventLoop;
import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConfirmMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.ContentHeader;
import io.warren.codec.ExchangeMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.Frame;
import io.warren.codec.FrameDecoder;
import io.warren.codec.FramePeek;
import io.warren.codec.FrameType;
import io.warren.codec.LongString;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.codec.ProtocolHeader;
import io.warren.codec.QueueMethod;
import io.warren.codec.ReplyCode;
import io.warren.codec.TxMethod;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: the handshake Warren answers itself, then the mapping of the client's channels onto
 * pooled upstream channels.
 *
 * <p>Threading: every method runs on the client connection's event loop. Upstream connections hand frames over
 * with {@link #deliver} through that loop; nothing else touches this object's state.
 */
final class ClientSession implements ConnectionHandler {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    /** Declared in handshake order: {@code state.compareTo(OPEN) < 0} means the handshake is not done. */
    enum State {
        AWAIT_HEADER, AWAIT_START_OK, LOGGING_IN, AWAIT_TUNE_OK, AWAIT_OPEN, AUTHENTICATING, OPEN, CLOSING, CLOSED
    }

    private final ProxyEngine engine;
    private final Connection conn;
    private final EventLoop loop;
    private final FrameDecoder decoder;
    private final Map<Integer, ChannelLink> links = new HashMap<>(4);
    /** Exclusive queues this client declared: deleted upstream when it goes (DESIGN.md invariant 10). */
    private final Set<String> exclusiveQueues = new LinkedHashSet<>(0);
    private final UpstreamOutput out = new UpstreamOutput();

    private State state = State.AWAIT_HEADER;
    private ClientCredentials credentials;
    private KeyedCredentials keyed;
    /** The pool key of this client's login without its virtual host: what the broker checks at start-ok. */
    private PoolKey loginKey;
    /** The upstream connection that proved this client's login, until it joins a pool at connection.open. */
    private UpstreamConnection parked;
    /**
     * Why the broker could not be reached when this client's login was to be checked: told at connection.open, so
     * that clients report the broker's state, not a suspected authentication failure (which is what most client
     * libraries make of a connection closed before tune).
     */
    private UpstreamError loginUnreachable;
    private ClientCapabilities capabilities = ClientCapabilities.NONE;
    private String connectionName;
    private int channelMax;
    private int frameMax;
    private int heartbeatSeconds;
    /**
     * A connection.update-secret under way: the client moves to the pool of its new secret's key once the broker
     * accepted a login with it. Null otherwise.
     */
    private SecretUpdate secretUpdate;
    /** Keys this client moved away from (update-secret); its channels opened before may still be on them. */
    private List<KeyedCredentials> formerKeys = List.of();
    /** The upstream connection this client authenticated through; new channels go there first. */
    private UpstreamConnection home;
    /** Bytes that arrived while processing was suspended (waiting for upstream); replayed on resume. */
    private ByteBuffer stash;
    private boolean suspended;
    private boolean pausedForBackPressure;
    /** Whether this client's socket is not being read, for whatever reason (see {@link #setReadPaused}). */
    private boolean readsPaused;
    /** The message being assembled inline in {@link #out}, or null. */
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
    private EventLoop.Cancellable handshakeTimer;
    private EventLoop.Cancellable heartbeatTimer;
    private long lastReadNanos;
    private long lastWriteNanos;
    private final long acceptedNanos;
    /** Whether this client was admitted, or is to be refused (at connection.open, or at once). */
    private final ClientAdmission.Decision admission;

    ClientSession(ProxyEngine engine, Connection conn, ClientAdmission.Decision admission) {
        this.engine = engine;
        this.conn = conn;
        this.admission = admission;
        this.loop = conn.eventLoop();
        this.decoder = new FrameDecoder(engine.config().frameMax());
        this.acceptedNanos = System.nanoTime();
        this.lastReadNanos = acceptedNanos;
        this.lastWriteNanos = acceptedNanos;
    }

    EventLoop loop() {
        return loop;
    }

    long id() {
        return conn.id();
    }

    // ---------------------------------------------------------------- transport events

    @Override
    public void onOpen(Connection connection) {
        engine.stats().clientConnected();
        log.debug("client {} connected from {}", conn.id(), conn.remoteAddress());
        if (admission.verdict() == ClientAdmission.Verdict.CLOSE_AT_ONCE) {
            engine.stats().handshakeFailed("connection_limit");
            state = State.CLOSING;
            conn.close();
            return;
        }
        handshakeTimer = loop.schedule(this::handshakeTimedOut, engine.config().handshakeTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
    }

    @Override
    public void onRead(Connection connection, ByteBuffer data) {
        lastReadNanos = System.nanoTime();
        engine.stats().clientBytesReceived(data.remaining());
        if (suspended) {
            stashRemaining(data);
            return;
        }
        process(data);
    }

    @Override
    public void onWritable(Connection connection) {
        unstallUpstreams(); // the client reads again: so may the upstream connections feeding it
    }

    @Override
    public void onClose(Connection connection, Throwable cause) {
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
            unstallUpstreams();
            cancelTimers();
            flushOut();
            if (before != State.CLOSING) {
                releaseEverything();
            }
            if (before.compareTo(State.OPEN) < 0 && before != State.CLOSING) {
                engine.stats().handshakeFailed("client_gone");
            }
        } finally {
            releaseHeldMessages();
            engine.sessions().remove(this);
            engine.stats().clientDisconnected();
            switch (admission.verdict()) {
                case ADMIT -> engine.admission().left();
                case REFUSE_WITH_530 -> engine.admission().refusalDone();
                case CLOSE_AT_ONCE -> { }
            }
        }
    }

    // ---------------------------------------------------------------- reading

    private void process(ByteBuffer data) {
        ByteBuffer outerRead = reading;
        reading = data;
        try {
            if (state == State.AWAIT_HEADER && !readProtocolHeader(data)) {
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
                engine.stats().clientFrameReceived();
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
            reading = outerRead;
            evictInlineMessage();
            flushOut();
        }
    }

    private boolean isReading() {
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
     * Stops or resumes reading the client's socket. While reads are paused the client's heartbeats wait unread, so
     * the silence is Warren's own and does not count against the client (as RabbitMQ pauses its heartbeat monitor
     * for a connection it blocks).
     */
    private void setReadPaused(boolean paused) {
        if (readsPaused && !paused) {
            lastReadNanos = System.nanoTime();
        }
        readsPaused = paused;
        conn.setReadPaused(paused);
    }

    /** Stops frame processing until {@link #resume()}; bytes that arrive meanwhile are kept. */
    private void suspend() {
        suspended = true;
    }

    private void resume() {
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
        if (!suspended && !pausedForBackPressure && state != State.CLOSED) {
            setReadPaused(false);
        }
    }

    /**
     * Consumes the 8-byte protocol header. A header split across reads is kept in {@link #headerPrefix} and joined
     * with the next read.
     *
     * @return whether frames may follow in {@code data}
     */
    private boolean readProtocolHeader(ByteBuffer data) {
        ByteBuffer in = data;
        if (headerPrefix != null) {
            in = ByteBuffer.allocate(headerPrefix.remaining() + data.remaining());
            in.put(headerPrefix).put(data).flip();
            headerPrefix = null;
            data.position(data.limit());
        }
        switch (ProtocolHeader.check(in)) {
            case NEED_MORE -> {
                headerPrefix = ByteBuffer.allocate(in.remaining()).put(in).flip();
                return false;
            }
            case MISMATCH -> {
                log.debug("client {} sent a wrong protocol header", conn.id());
                engine.stats().handshakeFailed("bad_protocol_header");
                write(ByteBuffer.wrap(ProtocolHeader.AMQP_0_9_1.clone()));
                state = State.CLOSING;
                conn.close();
                return false;
            }
            case MATCH -> {
                in.position(in.position() + ProtocolHeader.LENGTH);
                state = State.AWAIT_START_OK;
                write(Frames.method(0, engine.connectionStart()));
                if (in != data) {
                    // Bytes after a split header: process them as the rest of this read.
                    process(in);
                    return false;
                }
                return true;
            }
            default -> throw new IllegalStateException();
        }
    }

    /** Bytes of a protocol header that arrived split; joined with the next read. */
    private ByteBuffer headerPrefix;

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
            handleHandshakeFrame(frame);
            return;
        }
        int channel = frame.channel();
        switch (frame.type()) {
            case FrameType.HEARTBEAT -> {
                if (channel != 0) {
                    throw new ProtocolException(ReplyCode.FRAME_ERROR,
                            "heartbeat frame on channel " + channel);
                }
            }
            case FrameType.METHOD -> {
                if (channel == 0) {
                    handleConnectionMethod(MethodCodec.decode(frame.payload()));
                } else {
                    handleChannelFrame(frame);
                }
            }
            case FrameType.HEADER, FrameType.BODY -> {
                if (channel == 0) {
                    throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME,
                            "unexpected content frame on channel 0");
                }
                handleChannelFrame(frame);
            }
            default -> throw new ProtocolException(ReplyCode.FRAME_ERROR, "unknown frame type " + frame.type());
        }
    }

    // ---------------------------------------------------------------- handshake

    private void handleHandshakeFrame(Frame frame) throws ProtocolException {
        if (frame.type() == FrameType.HEARTBEAT) {
            return;
        }
        if (frame.type() != FrameType.METHOD || frame.channel() != 0) {
            throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME,
                    "unexpected frame of type " + frame.type() + " on channel " + frame.channel()
                            + " during the handshake");
        }
        AmqpMethod method = MethodCodec.decode(frame.payload());
        if (method instanceof ConnectionMethod.Close) {
            write(Frames.method(0, new ConnectionMethod.CloseOk()));
            engine.stats().handshakeFailed("client_closed");
            closeGracefully();
            return;
        }
        switch (state) {
            case AWAIT_START_OK -> onStartOk(expect(method, ConnectionMethod.StartOk.class));
            case AWAIT_TUNE_OK -> onTuneOk(expect(method, ConnectionMethod.TuneOk.class));
            case AWAIT_OPEN -> onOpen(expect(method, ConnectionMethod.Open.class));
            default -> throw new ProtocolException(ReplyCode.CHANNEL_ERROR,
                    "unexpected method in connection state " + state, method.classId(), method.methodId());
        }
    }

    private <T extends AmqpMethod> T expect(AmqpMethod method, Class<T> type) throws ProtocolException {
        if (!type.isInstance(method)) {
            throw new ProtocolException(ReplyCode.COMMAND_INVALID,
                    "expected " + expectedName() + ", got " + method.name(), method.classId(), method.methodId());
        }
        return type.cast(method);
    }

    private String expectedName() {
        return switch (state) {
            case AWAIT_START_OK -> "'connection.start-ok'";
            case AWAIT_TUNE_OK -> "'connection.tune-ok'";
            case AWAIT_OPEN -> "'connection.open'";
            default -> "nothing";
        };
    }

    private void onStartOk(ConnectionMethod.StartOk startOk) throws ProtocolException {
        capabilities = ClientCapabilities.from(startOk.clientProperties());
        connectionName = startOk.clientProperties().getString("connection_name").orElse(null);
        Sasl.Credentials parsed = Sasl.parse(startOk.mechanism(), startOk.response());
        credentials = new ClientCredentials(startOk.mechanism(), parsed.username(), parsed.password(), "",
                conn.remoteAddress(), Optional.empty());
        if (admission.verdict() != ClientAdmission.Verdict.ADMIT) {
            sendTune(); // refused at connection.open: no upstream login for a client that will not stay
            return;
        }
        KeyedCredentials login;
        try {
            login = engine.keyer().key(credentials);
        } catch (CredentialRejectedException e) {
            throw new ProtocolException(ReplyCode.ACCESS_REFUSED, e.getMessage(), 10, 11);
        }
        loginKey = login.key();
        if (engine.pools().vouchFor(login, connectionName, loop)) {
            sendTune();
            return;
        }
        // The broker judges the password before it tunes; so does Warren, by logging in upstream first.
        state = State.LOGGING_IN;
        suspend();
        engine.pools().login(login, connectionName, this);
    }

    /** Called on this loop when the broker accepted this client's login; {@code proof} may be null. */
    void loginSucceeded(UpstreamConnection proof) {
        if (secretUpdate != null && state == State.OPEN) {
            engine.pools().authenticate(secretUpdate.keyed(), connectionName, this, proof);
            return;
        }
        if (state != State.LOGGING_IN) {
            if (proof != null) {
                proof.abandon();
            }
            return;
        }
        parked = proof;
        sendTune();
        resume();
    }

    private void sendTune() {
        state = State.AWAIT_TUNE_OK;
        ProxyConfig config = engine.config();
        write(Frames.method(0, new ConnectionMethod.Tune(config.clientChannelMax(), config.frameMax(),
                (int) config.clientHeartbeat().toSeconds())));
    }

    /** The login key upstream connections dialed for this client prove: the new secret's during an update. */
    PoolKey loginKey() {
        return secretUpdate != null ? secretUpdate.loginKey() : loginKey;
    }

    private void onTuneOk(ConnectionMethod.TuneOk tuneOk) throws ProtocolException {
        ProxyConfig config = engine.config();
        long offeredFrameMax = config.frameMax();
        long frameMaxAsked = tuneOk.frameMax() == 0 ? offeredFrameMax : tuneOk.frameMax();
        if (frameMaxAsked < FrameType.MIN_FRAME_MAX) {
            throw new ProtocolException(ReplyCode.NOT_ALLOWED, "frame_max=" + tuneOk.frameMax()
                    + " < " + FrameType.MIN_FRAME_MAX + " min size");
        }
        if (frameMaxAsked > offeredFrameMax) {
            throw new ProtocolException(ReplyCode.NOT_ALLOWED, "frame_max=" + tuneOk.frameMax()
                    + " > " + offeredFrameMax + " max size");
        }
        int channelMaxAsked = tuneOk.channelMax() == 0 ? 65535 : tuneOk.channelMax();
        if (channelMaxAsked > config.clientChannelMax()) {
            throw new ProtocolException(ReplyCode.NOT_ALLOWED, "channel_max=" + tuneOk.channelMax()
                    + " > " + config.clientChannelMax() + " max channels");
        }
        frameMax = (int) frameMaxAsked;
        channelMax = channelMaxAsked;
        heartbeatSeconds = tuneOk.heartbeat();
        decoder.setMaxFrameSize(frameMax);
        state = State.AWAIT_OPEN;
    }

    private void onOpen(ConnectionMethod.Open open) throws ProtocolException {
        if (admission.verdict() != ClientAdmission.Verdict.ADMIT) {
            // Where RabbitMQ answers its per-vhost and per-user connection limits, with the same code.
            engine.stats().handshakeFailed("connection_limit");
            closeConnection(ReplyCode.NOT_ALLOWED.code(), admission.closeText(), 10, 40);
            return;
        }
        credentials = new ClientCredentials(credentials.mechanism(), credentials.username(), credentials.secret(),
                open.virtualHost(), credentials.peer(), credentials.clientCertificate());
        try {
            keyed = engine.keyer().key(credentials);
        } catch (CredentialRejectedException e) {
            throw new ProtocolException(ReplyCode.ACCESS_REFUSED, e.getMessage(), 10, 40);
        }
        if (loginUnreachable != null) {
            engine.stats().handshakeFailed("upstream_error");
            closeConnection(loginUnreachable.code(), loginUnreachable.text(), loginUnreachable.classId(),
                    loginUnreachable.methodId());
            return;
        }
        state = State.AUTHENTICATING;
        suspend();
        UpstreamConnection proof = parked;
        parked = null;
        engine.pools().authenticate(keyed, connectionName, this, proof);
    }

    /** Called on this loop when an upstream connection with this client's credentials is ready for it. */
    void upstreamReady(UpstreamConnection upstream) {
        if (!isReading()) {
            // Gone while the pool served it: the pool counted it, and nothing else will uncount it.
            engine.pools().clientGone(upstream.keyed(), this);
            return;
        }
        if (secretUpdate != null && state == State.OPEN) {
            secretUpdated(upstream);
            return;
        }
        if (state != State.AUTHENTICATING) {
            return;
        }
        home = upstream;
        state = State.OPEN;
        handshakeTimer.cancel();
        write(Frames.method(0, new ConnectionMethod.OpenOk("")));
        engine.stats().handshakeSucceeded(System.nanoTime() - acceptedNanos);
        log.debug("client {} authenticated as {} on upstream {}", conn.id(), keyed.key(), upstream.id());
        startHeartbeats();
        resume();
    }

    /** Called on this loop when the upstream refused this client's credentials or could not be reached. */
    void upstreamFailed(UpstreamError error) {
        if (secretUpdate != null && state == State.OPEN) {
            secretUpdate = null;
            if (error.code() == ReplyCode.ACCESS_REFUSED.code()) {
                secretRefused();
            } else {
                closeConnection(error.code(), error.text(), error.classId(), error.methodId());
            }
            return;
        }
        if (state != State.AUTHENTICATING && state != State.LOGGING_IN) {
            return;
        }
        if (state == State.LOGGING_IN && error.code() != ReplyCode.ACCESS_REFUSED.code()) {
            // Not a verdict on the password: tune, and refuse at connection.open with the broker's state.
            loginUnreachable = error;
            sendTune();
            resume();
            return;
        }
        engine.stats().handshakeFailed(error.code() == ReplyCode.ACCESS_REFUSED.code() ? "access_refused"
                : "upstream_error");
        UpstreamError told = Sasl.asClientMechanism(error, credentials.mechanism());
        closeConnection(told.code(), told.text(), told.classId(), told.methodId());
    }

    private void handshakeTimedOut() {
        if (state.compareTo(State.OPEN) < 0 && state != State.CLOSED) {
            log.debug("client {} did not finish the handshake in {}", conn.id(), engine.config().handshakeTimeout());
            engine.stats().handshakeFailed("timeout");
            if (state == State.AWAIT_HEADER) {
                state = State.CLOSING;
                conn.close();
            } else {
                closeConnection(ReplyCode.CONNECTION_FORCED.code(),
                        ReplyCode.CONNECTION_FORCED.text() + " - handshake timeout", 0, 0);
            }
        }
    }

    // ---------------------------------------------------------------- after the handshake: connection class

    private void handleConnectionMethod(AmqpMethod method) throws ProtocolException {
        if (method instanceof ConnectionMethod.Close) {
            write(Frames.method(0, new ConnectionMethod.CloseOk()));
            closeGracefully();
        } else if (method instanceof ConnectionMethod.UpdateSecret update) {
            updateSecret(update);
        } else {
            throw new ProtocolException(ReplyCode.CHANNEL_ERROR,
                    "unexpected method in connection state running", method.classId(), method.methodId());
        }
    }

    /** A secret refresh waiting for the broker's verdict on the new secret. */
    private record SecretUpdate(ClientCredentials credentials, KeyedCredentials keyed, PoolKey loginKey) {}

    /**
     * connection.update-secret (an OAuth 2 token refresh). The new secret is never sent up a shared connection:
     * the other clients on it never presented it (DESIGN.md: a pooled connection carries only its key's secret).
     * The new secret makes a new key, so the client moves to that key's pool once the broker accepted a login with
     * it (a fresh one, or one within the re-authentication interval); update-secret-ok follows. Channels it opened
     * before stay where they are, on connections opened with a secret it presented. A secret the broker refuses
     * ends the client with 530, as RabbitMQ answers a secret its auth backend refuses.
     */
    private void updateSecret(ConnectionMethod.UpdateSecret update) {
        ClientCredentials renewed = new ClientCredentials(credentials.mechanism(), credentials.username(),
                update.newSecret().bytes(), credentials.virtualHost(), credentials.peer(),
                credentials.clientCertificate());
        KeyedCredentials next;
        KeyedCredentials nextLogin;
        try {
            next = engine.keyer().key(renewed);
            nextLogin = engine.keyer().key(new ClientCredentials(renewed.mechanism(), renewed.username(),
                    renewed.secret(), "", renewed.peer(), renewed.clientCertificate()));
        } catch (CredentialRejectedException e) {
            secretRefused();
            return;
        }
        if (next.key().equals(keyed.key())) {
            write(Frames.method(0, new ConnectionMethod.UpdateSecretOk())); // the same secret: nothing changes
            return;
        }
        secretUpdate = new SecretUpdate(renewed, next, nextLogin.key());
        suspend();
        engine.pools().login(nextLogin, connectionName, this);
    }

    /** The new secret is proven and {@code upstream} (of its key) serves this client from now on. */
    private void secretUpdated(UpstreamConnection upstream) {
        SecretUpdate update = secretUpdate;
        secretUpdate = null;
        engine.pools().clientLeft(keyed);
        if (formerKeys.isEmpty()) {
            formerKeys = new ArrayList<>(1);
        }
        formerKeys.add(keyed);
        log.debug("client {} updated its secret: {} -> {} on upstream {}", conn.id(), keyed.key(),
                update.keyed().key(), upstream.id());
        keyed = update.keyed();
        loginKey = update.loginKey();
        credentials = update.credentials();
        home = upstream;
        write(Frames.method(0, new ConnectionMethod.UpdateSecretOk()));
        resume();
    }

    private void secretRefused() {
        // RabbitMQ's words when an auth backend refuses a new secret (rabbit_reader, connection.update-secret).
        closeConnection(ReplyCode.NOT_ALLOWED.code(), ReplyCode.NOT_ALLOWED.text()
                + " - New secret was refused by one of the backends", ConnectionMethod.UpdateSecret.CLASS_ID,
                ConnectionMethod.UpdateSecret.METHOD_ID);
    }

    // ---------------------------------------------------------------- channels

    private void handleChannelFrame(Frame frame) throws ProtocolException {
        int channel = frame.channel();
        ChannelLink link = links.get(channel);
        if (link == null) {
            if (frame.type() == FrameType.METHOD && frame.classId() == ChannelMethod.Open.CLASS_ID
                    && frame.methodId() == ChannelMethod.Open.METHOD_ID) {
                MethodCodec.decode(frame.payload());
                if (links.size() >= channelMax) {
                    // RabbitMQ limits how many channels are open, not their numbers.
                    throw new ProtocolException(ReplyCode.NOT_ALLOWED, "number of channels opened ("
                            + links.size() + ") has reached the negotiated channel_max (" + channelMax + ")", 0, 0);
                }
                openChannel(channel);
                return;
            }
            int classId = frame.type() == FrameType.METHOD ? frame.classId() : 0;
            int methodId = frame.type() == FrameType.METHOD ? frame.methodId() : 0;
            throw new ProtocolException(ReplyCode.CHANNEL_ERROR, "expected 'channel.open'", classId, methodId);
        }
        switch (link.state) {
            case OPENING, OPEN -> handleOpenChannelFrame(link, frame);
            case SERVER_CLOSING -> {
                if (frame.type() == FrameType.METHOD) {
                    AmqpMethod method = MethodCodec.decode(frame.payload());
                    if (method instanceof ChannelMethod.CloseOk || method instanceof ChannelMethod.Close) {
                        if (method instanceof ChannelMethod.Close) {
                            write(Frames.method(link.clientChannel, new ChannelMethod.CloseOk()));
                        }
                        closeOkUpstream(link);
                        detach(link);
                        if (link.closeSentUpstream) {
                            link.state = ChannelLink.State.RELEASING; // the broker's close-ok frees the slot
                        } else {
                            freeSlot(link);
                        }
                    }
                }
            }
            case LOCAL_CLOSING -> {
                if (frame.type() == FrameType.METHOD) {
                    AmqpMethod method = MethodCodec.decode(frame.payload());
                    if (method instanceof ChannelMethod.CloseOk || method instanceof ChannelMethod.Close) {
                        if (method instanceof ChannelMethod.Close) {
                            write(Frames.method(link.clientChannel, new ChannelMethod.CloseOk()));
                        }
                        detach(link);
                        releaseUpstream(link);
                    }
                }
            }
            default -> {
                // CLIENT_CLOSING: after sending channel.close a peer discards everything but close/close-ok.
                if (frame.type() == FrameType.METHOD) {
                    AmqpMethod method = MethodCodec.decode(frame.payload());
                    if (method instanceof ChannelMethod.Close) {
                        // Both sides closed at once: answer the client, the broker answers us.
                        write(Frames.method(link.clientChannel, new ChannelMethod.CloseOk()));
                    }
                }
            }
        }
    }

    private void openChannel(int channel) {
        ChannelLink lent = engine.pools().lendIdle(keyed, this, channel);
        if (lent != null) {
            attach(lent);
            return;
        }
        // Wait briefly for a channel whose scrub is about to finish (config scrubWait: long enough for a local
        // broker's barrier round trip, far shorter than a remote one's) rather than open one more upstream.
        long waitMillis = engine.config().scrubWait().toMillis();
        KeyPool.ScrubWaiter waiter = waitMillis == 0 ? null : engine.pools().awaitScrub(keyed, this, channel);
        if (waiter != null) {
            suspend();
            loop.schedule(() -> {
                if (engine.pools().cancelScrubWait(keyed, waiter) && isReading()) {
                    openFreshChannel(channel);
                    flushOut();
                    resume();
                }
            }, waitMillis, TimeUnit.MILLISECONDS);
            return;
        }
        openFreshChannel(channel);
    }

    private void openFreshChannel(int channel) {
        ChannelLink link = engine.pools().openChannel(keyed, home, this, channel);
        if (link == null) {
            // Every upstream connection of this key is full: wait for a new one (pipelined frames are stashed).
            suspend();
            engine.pools().awaitChannel(keyed, this, channel);
            return;
        }
        attach(link);
    }

    /** Called on this loop with a channel allocated on a new upstream connection after {@link #openChannel}. */
    void channelAllocated(ChannelLink link) {
        if (!isReading()) {
            if (link.lent) {
                // A scrubbed channel, open upstream: it goes back to the pool (or is closed) as it is.
                link.state = ChannelLink.State.IDLE;
                if (!engine.pools().offerIdle(link.upstream.keyed(), link)) {
                    releaseUpstream(link);
                    flushOut();
                }
            } else {
                // Not opened upstream yet (attach sends channel.open): the slot is simply free again.
                link.state = ChannelLink.State.RELEASING;
                freeSlot(link);
            }
            return;
        }
        attach(link);
        flushOut();
        resume();
    }

    void channelAllocationFailed(int clientChannel, UpstreamError error) {
        if (!isReading()) {
            return;
        }
        closeConnection(error.code(), error.text(), 20, 10);
    }

    /**
     * Opens the upstream channel and answers the client at once: channel.open is pipelined, so the client's next
     * frames follow it upstream in order and it waits for no upstream round trip. The broker's open-ok is swallowed;
     * if the broker refused the channel, its channel.close reaches the client like any asynchronous close.
     */
    private void attach(ChannelLink link) {
        links.put(link.clientChannel, link);
        engine.stats().clientChannelOpened();
        if (!link.lent) {
            append(link.upstream, Frames.method(link.upstreamChannel, new ChannelMethod.Open("")));
        }
        write(Frames.method(link.clientChannel, new ChannelMethod.OpenOk(LongString.EMPTY)));
    }

    ChannelContext channelContext(boolean confirmMode) {
        return new ChannelContext(keyed.key(), credentials.virtualHost(), credentials.username(), confirmMode);
    }

    private void handleOpenChannelFrame(ChannelLink link, Frame frame) throws ProtocolException {
        MessageAssembly message = link.message;
        switch (frame.type()) {
            case FrameType.METHOD -> {
                if (message.inProgress()) {
                    throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, message.phase
                            == MessageAssembly.Phase.EXPECT_HEADER
                            ? "expected content header for class " + message.contentClass
                                    + ", got non content header frame instead"
                            : "expected content body, got non content body frame instead",
                            frame.classId(), frame.methodId());
                }
                AmqpMethod method = MethodCodec.decode(frame.payload());
                handleChannelMethod(link, frame, method);
            }
            case FrameType.HEADER -> {
                if (message.phase != MessageAssembly.Phase.EXPECT_HEADER) {
                    throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME,
                            "expected method frame, got non method frame instead");
                }
                ByteBuffer payload = frame.payload();
                int headerClass = payload.remaining() >= 2 ? payload.getShort(payload.position()) & 0xFFFF : -1;
                if (headerClass != message.contentClass) {
                    throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, "expected content header for class "
                            + message.contentClass + ", got one for class " + headerClass + " instead");
                }
                long bodySize = ContentHeader.peekBodySize(payload, payload.position());
                try {
                    ContentHeader.decode(payload); // RabbitMQ decodes every property list: check it first
                } catch (ProtocolException e) {
                    hardError(HardError.undecodableContentProperties());
                    return;
                }
                long maxBody = maxBodySize(link, frame);
                if (bodySize > maxBody) {
                    abandonMessage(link);
                    closeChannelLocally(link, ReplyCode.PRECONDITION_FAILED, "message size " + bodySize
                            + " is larger than configured max size " + maxBody
                            + (maxBody < engine.config().maxMessageSize() ? " (message-buffer)" : ""), 60, 40);
                    return;
                }
                if (completesInThisRead(frame.channel(), bodySize, link.upstream.frameMax())) {
                    appendMessageFrame(link, frame); // inline: the usual small message, no extra copy
                } else if (!holdMessage(link, frame, bodySize)) {
                    return; // waiting for room in the message-buffer (the header is replayed), or closed
                }
                message.remainingBody = bodySize;
                message.phase = MessageAssembly.Phase.EXPECT_BODY;
                if (bodySize == 0) {
                    completeMessage(link);
                }
            }
            case FrameType.BODY -> {
                if (message.phase != MessageAssembly.Phase.EXPECT_BODY) {
                    throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, message.phase
                            == MessageAssembly.Phase.EXPECT_HEADER
                            ? "expected content header for class " + message.contentClass
                                    + ", got non content header frame instead"
                            : "expected method frame, got non method frame instead");
                }
                int size = frame.size();
                if (size > message.remainingBody) {
                    throw new ProtocolException(ReplyCode.FRAME_ERROR, "content body frame of " + size
                            + " bytes exceeds the " + message.remainingBody + " bytes the header left");
                }
                appendMessageFrame(link, frame);
                message.remainingBody -= size;
                if (message.remainingBody == 0) {
                    completeMessage(link);
                }
            }
            default -> throw new ProtocolException(ReplyCode.FRAME_ERROR, "unknown frame type " + frame.type());
        }
    }

    private void handleChannelMethod(ChannelLink link, Frame frame, AmqpMethod method) throws ProtocolException {
        Optional<HardError> hard = HardErrorScreen.check(method).or(() -> channelStateError(link, method));
        if (hard.isPresent()) {
            hardError(hard.get());
            return;
        }
        if (HardErrorScreen.needsIsolation(method)) {
            ExchangeMethod.Declare declare = (ExchangeMethod.Declare) method;
            Optional<HardError> verdict = engine.exchangeTypes().verdict(declare.type());
            if (verdict == null) {
                // An exchange type Warren has not seen: ask the broker on a connection of its own first.
                GrowableBuffer copy = new GrowableBuffer(frame.size() + FrameType.OVERHEAD);
                Frames.copyFrame(frame.type(), link.upstreamChannel, frame.payload(), copy);
                ByteBuffer upstreamFrame = copy.take();
                suspend();
                engine.exchangeTypes().probe(declare, keyed.upstream(), loop,
                        v -> exchangeTypeChecked(link, declare, upstreamFrame, v));
                return;
            }
            if (verdict.isPresent()) {
                hardError(verdict.get());
                return;
            }
        }
        if (method instanceof ChannelMethod.Open) {
            throw new ProtocolException(ReplyCode.CHANNEL_ERROR, "second 'channel.open' seen", 20, 10);
        }
        if (method instanceof ChannelMethod.Close) {
            boolean reusable = link.tracker.mayReuse();
            engine.stats().reuseDecided(reusable);
            if (reusable) {
                // Answered here: the client waits for no upstream round trip, and the channel is scrubbed.
                write(Frames.method(link.clientChannel, new ChannelMethod.CloseOk()));
                detach(link);
                scrub(link);
                return;
            }
            link.state = ChannelLink.State.CLIENT_CLOSING;
            link.closeSentUpstream = true;
            appendFrame(link, frame);
            return;
        }
        if (link.lent && !link.declaredQueue && usesLastDeclaredQueue(method)) {
            // The previous borrower's last declared queue must not leak: answer as a fresh channel would.
            closeChannelLocally(link, ReplyCode.NOT_FOUND, "no previously declared queue", method.classId(),
                    method.methodId());
            return;
        }
        if (method instanceof ConfirmMethod.Select select && confirmLocally(link, select)) {
            return;
        }
        link.untouched = false;
        if (SyncMethods.expectsReply(method)) {
            link.pendingSync++;
        }
        if (method instanceof ChannelMethod.CloseOk) {
            hardError(HardError.unimplementedMethod(method.classId(), method.methodId())); // as RabbitMQ answers
            return;
        }
        link.tracker.onClientMethod(method);
        if (method instanceof QueueMethod.Declare declare) {
            link.declaredQueue = true;
            if (declare.nowait()) {
                if (declare.exclusive() && !declare.passive() && !declare.queue().isEmpty()) {
                    exclusiveQueues.add(declare.queue());
                }
            } else {
                link.pendingQueueDeclares.add(declare.exclusive() && !declare.passive());
            }
        } else if (method instanceof QueueMethod.Delete delete) {
            exclusiveQueues.remove(delete.queue());
        }
        if (method.hasContent()) {
            link.message.begin(method.classId());
            appendMessageFrame(link, frame);
            return;
        }
        appendFrame(link, frame);
    }

    /**
     * confirm.select on a channel already in confirm mode is answered here; on an untouched channel, a scrubbed
     * confirm-mode channel from the pool replaces it (and it goes back to the pool as it is).
     *
     * @return whether the method was fully handled here
     */
    private boolean confirmLocally(ChannelLink link, ConfirmMethod.Select select) {
        if (link.confirmMode) {
            link.tracker.onClientMethod(select);
            link.untouched = false;
            if (!select.nowait()) {
                write(Frames.method(link.clientChannel, new ConfirmMethod.SelectOk()));
            }
            return true;
        }
        if (link.untouched && link.isUsable()) {
            ChannelLink swapped = engine.pools().lendConfirmChannel(keyed, this, link.clientChannel);
            if (swapped != null) {
                links.put(link.clientChannel, swapped);
                link.state = ChannelLink.State.IDLE;
                if (!engine.pools().offerIdle(link.upstream.keyed(), link)) {
                    releaseUpstream(link);
                }
                swapped.tracker.onClientMethod(select);
                swapped.untouched = false;
                if (!select.nowait()) {
                    write(Frames.method(link.clientChannel, new ConfirmMethod.SelectOk()));
                }
                return true;
            }
        }
        link.confirmMode = true;
        return false;
    }

    /** Hard errors that depend on what this client did on the channel (docs/hard-errors.md). */
    private Optional<HardError> channelStateError(ChannelLink link, AmqpMethod method) {
        if (link.txCommitPending && !(method instanceof ChannelMethod.Close)) {
            return Optional.of(HardError.txCommitInProgress(method.classId(), method.methodId()));
        }
        if (method instanceof BasicMethod.Consume consume && !consume.consumerTag().isEmpty()
                && !link.consumerTags.add(consume.consumerTag())) {
            return Optional.of(HardError.consumerTagReuse(consume.consumerTag()));
        }
        if (method instanceof BasicMethod.Cancel cancel) {
            link.consumerTags.remove(cancel.consumerTag());
        } else if (method instanceof TxMethod.Commit) {
            link.txCommitPending = true;
        }
        return Optional.empty();
    }

    private void hardError(HardError e) {
        engine.stats().clientViolation(e.code().code());
        log.debug("client {}: answering {} locally: {}", conn.id(), e.code().code(), e.text());
        closeConnection(e.code().code(), e.text(), e.classId(), e.methodId());
    }

    private void exchangeTypeChecked(ChannelLink link, ExchangeMethod.Declare declare, ByteBuffer upstreamFrame,
            Optional<HardError> verdict) {
        if (!isReading()) {
            return;
        }
        if (verdict.isPresent()) {
            hardError(verdict.get());
            return;
        }
        if (link.isUsable() && links.get(link.clientChannel) == link) {
            link.tracker.onClientMethod(declare);
            append(link.upstream, upstreamFrame);
            flushOut();
        }
        resume();
    }

    /** Warren answers a soft error itself: the client's channel closes, the upstream channel is released. */
    private void closeChannelLocally(ChannelLink link, ReplyCode code, String text, int classId, int methodId) {
        link.state = ChannelLink.State.LOCAL_CLOSING;
        write(Frames.method(link.clientChannel, Frames.channelClose(code, text, classId, methodId)));
    }

    // ---------------------------------------------------------------- building output for upstream

    /** Frames for upstream, gathered per read and written once per upstream connection. */
    private final class UpstreamOutput {
        UpstreamConnection target;
        final GrowableBuffer bytes = new GrowableBuffer(4096);
    }

    private void append(UpstreamConnection upstream, ByteBuffer frame) {
        // Never inside an incomplete inline message: abandoning it truncates the output back to its start.
        evictInlineMessage();
        if (out.target != upstream) {
            flushOut();
            out.target = upstream;
        }
        out.bytes.append(frame);
        engine.stats().upstreamFrameSent();
    }

    private void appendFrame(ChannelLink link, Frame frame) {
        if (inlineMessage != null && inlineMessage != link) {
            evictInlineMessage();
        }
        if (out.target != link.upstream) {
            flushOut();
            out.target = link.upstream;
        }
        Frames.copyFrame(frame.type(), link.upstreamChannel, frame.payload(), out.bytes);
        engine.stats().upstreamFrameSent();
    }

    private void appendMessageFrame(ChannelLink link, Frame frame) {
        engine.stats().upstreamFrameSent();
        MessageAssembly message = link.message;
        if (message.held != null) {
            message.held.appendBody(frame.payload());
            message.heldProgressNanos = System.nanoTime();
            return;
        }
        if (frame.type() == FrameType.METHOD) {
            // Start inline: the usual small message arrives whole in one read and costs no extra copy.
            evictInlineMessage(); // another channel's method frame still waiting for its header
            startInline(link);
        } else if (inlineMessage != link) {
            // A header whose message completes in this read, after its method frame left the output: method first.
            if (frame.type() != FrameType.HEADER || message.pendingMethod == null) {
                throw new IllegalStateException("content frame for a message neither inline nor held");
            }
            evictInlineMessage();
            startInline(link);
            out.bytes.append(message.pendingMethod);
            message.pendingMethod = null;
        }
        Frames.copyFrame(frame.type(), link.upstreamChannel, frame.payload(), out.bytes);
    }

    private void startInline(ChannelLink link) {
        if (out.target != link.upstream) {
            flushOut();
            out.target = link.upstream;
        }
        inlineMessage = link;
        inlineMessageStart = out.bytes.size();
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
            ByteBuffer all = out.bytes.ensure(0).duplicate();
            all.flip();
            all.position(inlineMessageStart);
            return all;
        }
        if (link.message.pendingMethod == null) {
            throw new IllegalStateException("content header without its method frame");
        }
        return link.message.pendingMethod.duplicate();
    }

    /**
     * The largest body this message may have: {@code max-message-size}, or what fits in the whole message-buffer
     * once laid out for the upstream connection.
     */
    private long maxBodySize(ChannelLink link, Frame header) {
        int methodAndHeader = methodFrameOf(link).remaining() + header.size() + FrameType.OVERHEAD;
        long fits = HeldMessage.largestBodyWithin(engine.messageBudget().capacity(), methodAndHeader,
                link.upstream.frameMax());
        return Math.min(engine.config().maxMessageSize(), Math.max(0, fits));
    }

    /**
     * Holds a message that will not complete in this read in a buffer of its exact final size, reserved from the
     * message-buffer. If it does not fit, this client waits (unread) in the budget's FIFO queue and the header frame
     * is replayed once room is granted; a client that already holds a message and cannot get room for another
     * would wait on itself, so it is closed with 406 instead.
     *
     * @return whether the message is now held
     */
    private boolean holdMessage(ChannelLink link, Frame header, long bodySize) {
        MessageBudget budget = engine.messageBudget();
        ByteBuffer method = methodFrameOf(link);
        int upstreamFrameMax = link.upstream.frameMax();
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
                engine.stats().clientViolation(ReplyCode.PRECONDITION_FAILED.code());
                closeConnection(ReplyCode.PRECONDITION_FAILED.code(), ReplyCode.PRECONDITION_FAILED.text()
                        + " - message-buffer (" + budget.capacity() + " bytes) is full and this connection already"
                        + " holds an incomplete message; publish one message at a time or raise message-buffer",
                        60, 40);
            } else {
                waitForBudget(link, header, need);
            }
            return false;
        }
        HeldMessage held = new HeldMessage(method, link.upstreamChannel, header.payload(), bodySize,
                upstreamFrameMax);
        held.reservedFrom(budget);
        if (inlineMessage == link) {
            out.bytes.truncate(inlineMessageStart);
            inlineMessage = null;
        }
        link.message.pendingMethod = null;
        link.message.held = held;
        link.message.heldProgressNanos = System.nanoTime();
        if (holding == null) {
            holding = new ArrayList<>(2);
        }
        holding.add(held);
        if (heldStallCheck == null) {
            heldStallCheck = loop.schedule(this::checkHeldStalls, engine.config().slowClientTimeout().toMillis(),
                    TimeUnit.MILLISECONDS);
        }
        engine.stats().upstreamFrameSent(); // the header frame, now in the layout
        return true;
    }

    /**
     * A held message that gets no body bytes for slow-client-timeout while other clients wait for room in the
     * message-buffer holds them all up (a header alone reserves the whole message): its channel is closed with 406
     * and the message dropped, as the broker drops a message whose channel closes. Without waiters it may wait.
     */
    private void checkHeldStalls() {
        heldStallCheck = null;
        if (state != State.OPEN || !holdsReservation()) {
            return;
        }
        Duration timeout = engine.config().slowClientTimeout();
        if (engine.messageBudget().waiting() > 0) {
            long now = System.nanoTime();
            for (ChannelLink link : new ArrayList<>(links.values())) {
                MessageAssembly message = link.message;
                if (message.held != null && link.isUsable()
                        && now - message.heldProgressNanos >= timeout.toNanos()) {
                    log.info("client {}: message on channel {} got no body frame for {} while others wait for the"
                            + " message-buffer; closing the channel", conn.id(), link.clientChannel, timeout);
                    abandonMessage(link);
                    closeChannelLocally(link, ReplyCode.PRECONDITION_FAILED, "no part of this message arrived for "
                            + timeout.toSeconds() + " s while other clients wait for room in the message-buffer",
                            60, 40);
                }
            }
        }
        if (holdsReservation()) {
            heldStallCheck = loop.schedule(this::checkHeldStalls, timeout.toMillis(), TimeUnit.MILLISECONDS);
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
        ByteBuffer replay = ByteBuffer.allocate(header.size() + FrameType.OVERHEAD
                + (stash == null ? 0 : stash.position()));
        replay.put((byte) FrameType.HEADER).putShort((short) header.channel()).putInt(header.size())
                .put(header.payload().duplicate()).put((byte) FrameType.FRAME_END);
        if (stash != null) {
            stash.flip();
            replay.put(stash);
        }
        stash = replay;
        suspend();
        setReadPaused(true);
        log.debug("client {}: waiting for {} bytes of the message-buffer", conn.id(), need);
        budgetWait = engine.messageBudget().await(need, loop, this::budgetGranted);
    }

    /** On this loop: the message-buffer reserved {@code bytes} for the message this client waits with. */
    private void budgetGranted(long bytes) {
        budgetWait = null;
        if (state != State.OPEN) {
            engine.messageBudget().release(bytes);
            return;
        }
        budgetGranted = bytes;
        try {
            resume();
        } finally {
            releaseGrant(); // unused: the channel closed meanwhile, or the message went inline
        }
    }

    private void releaseGrant() {
        if (budgetGranted > 0) {
            long n = budgetGranted;
            budgetGranted = 0;
            engine.messageBudget().release(n);
        }
    }

    /** Every reservation of this client goes back, and its wait ends: on each way a client ends. */
    private void releaseHeldMessages() {
        if (budgetWait != null) {
            engine.messageBudget().cancel(budgetWait); // if granted meanwhile, budgetGranted releases it
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

    private void completeMessage(ChannelLink link) {
        MessageAssembly message = link.message;
        if (inlineMessage == link) {
            inlineMessage = null;
        } else if (message.held != null) {
            HeldMessage held = message.held;
            flushOut(); // what the client sent before it goes first
            sendUpstream(link.upstream, held.take()); // as it is: no copy
        }
        message.reset(); // releases the reservation, after the hand-off
        if (link.confirmMode) {
            link.recordPublish();
        }
        engine.stats().messagePublished();
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
        out.bytes.truncate(inlineMessageStart);
        MessageAssembly message = link.message;
        if (message.phase == MessageAssembly.Phase.EXPECT_HEADER) {
            message.pendingMethod = copy;
            return;
        }
        log.warn("client {}: message on channel {} cut short inline; held beyond the message-buffer", conn.id(),
                link.clientChannel);
        int methodEnd = FramePeek.payloadSize(copy, 0) + FrameType.OVERHEAD;
        int headerSize = FramePeek.payloadSize(copy, methodEnd);
        ByteBuffer headerPayload = copy.slice(methodEnd + FrameType.HEADER_SIZE, headerSize);
        long bodySize = ContentHeader.peekBodySize(headerPayload, 0);
        HeldMessage held = new HeldMessage(copy.slice(0, methodEnd), link.upstreamChannel, headerPayload, bodySize,
                link.upstream.frameMax());
        for (int at = methodEnd + headerSize + FrameType.OVERHEAD; at < copy.limit();
                at += FramePeek.payloadSize(copy, at) + FrameType.OVERHEAD) {
            held.appendBody(copy.slice(at + FrameType.HEADER_SIZE, FramePeek.payloadSize(copy, at)));
        }
        engine.messageBudget().reserveAnyway(held.size());
        held.reservedFrom(engine.messageBudget());
        message.held = held;
        if (holding == null) {
            holding = new ArrayList<>(2);
        }
        holding.add(held);
    }

    private void abandonMessage(ChannelLink link) {
        if (inlineMessage == link) {
            out.bytes.truncate(inlineMessageStart);
            inlineMessage = null;
        }
        link.message.reset();
    }

    private void flushOut() {
        UpstreamConnection target = out.target;
        if (target == null || out.bytes.isEmpty()) {
            return;
        }
        if (inlineMessage != null) {
            evictInlineMessage();
            if (out.bytes.isEmpty()) {
                return;
            }
        }
        sendUpstream(target, out.bytes.take());
    }

    private void sendUpstream(ChannelLink link, ByteBuffer frame) {
        flushOut();
        sendUpstream(link.upstream, frame);
    }

    private void sendUpstream(UpstreamConnection upstream, ByteBuffer bytes) {
        if (!upstream.send(bytes) && !pausedForBackPressure && isReading()) {
            // The upstream socket is backed up: stop reading this client until it drains (TCP back-pressure).
            pausedForBackPressure = true;
            setReadPaused(true);
            upstream.whenWritable(this);
        }
    }

    /** Called on this loop when an upstream connection this client waited for has drained. */
    void upstreamWritable() {
        if (!pausedForBackPressure) {
            return;
        }
        pausedForBackPressure = false;
        if (!suspended && state != State.CLOSED) {
            setReadPaused(false);
        }
    }

    // ---------------------------------------------------------------- frames from upstream

    /**
     * Frames the upstream connection routed to this client, with channel numbers already rewritten to the
     * client's. Runs on this loop.
     */
    void deliver(UpstreamBatch batch) {
        ByteBuffer data = batch.data();
        List<ChannelLink> frameLinks = batch.links();
        GrowableBuffer kept = null; // only built when some frame must not reach the client as it is
        int at = data.position();
        for (int i = 0; i < frameLinks.size(); i++) {
            ChannelLink link = frameLinks.get(i);
            int size = FramePeek.payloadSize(data, at) + FrameType.OVERHEAD;
            boolean forward = state == State.OPEN && link.session == this && links.get(link.clientChannel) == link
                    && inspectFromUpstream(link, data, at);
            if (!forward && link.state == ChannelLink.State.RELEASING) {
                inspectWhileReleasing(link, data, at);
            } else if (!forward && link.state == ChannelLink.State.SCRUBBING) {
                inspectWhileScrubbing(link, data, at);
            }
            boolean split = forward && FramePeek.type(data, at) == FrameType.BODY && size > frameMax;
            if ((!forward || split) && kept == null) {
                kept = new GrowableBuffer(data.remaining());
                ByteBuffer before = data.duplicate();
                before.position(data.position()).limit(at);
                kept.append(before);
            }
            if (kept != null && forward) {
                ByteBuffer frame = data.duplicate();
                frame.position(at).limit(at + size);
                if (split) {
                    splitBody(frame, kept);
                } else {
                    kept.append(frame);
                }
            }
            at += size;
        }
        if (state == State.OPEN || state == State.CLOSING) {
            ByteBuffer toClient = kept == null ? data : kept.take();
            if (toClient.hasRemaining() && state == State.OPEN) {
                write(toClient, frameLinks.size());
            }
        }
        flushOut();
    }

    /** Splits a body frame larger than the client's frame_max (DESIGN.md invariant 9). */
    private void splitBody(ByteBuffer frame, GrowableBuffer dst) {
        int channel = FramePeek.channel(frame, frame.position());
        ByteBuffer payload = frame.duplicate();
        payload.position(frame.position() + FrameType.HEADER_SIZE).limit(frame.limit() - 1);
        int chunk = frameMax - FrameType.OVERHEAD;
        while (payload.hasRemaining()) {
            ByteBuffer part = payload.duplicate();
            part.limit(part.position() + Math.min(chunk, part.remaining()));
            Frames.copyFrame(FrameType.BODY, channel, part, dst);
            payload.position(part.limit());
        }
    }

    /**
     * Looks at a frame from upstream on a live link; returns whether the client should see it.
     */
    private boolean inspectFromUpstream(ChannelLink link, ByteBuffer data, int at) {
        if (FramePeek.type(data, at) != FrameType.METHOD) {
            return link.isUsable();
        }
        int classId = FramePeek.classId(data, at);
        int methodId = FramePeek.methodId(data, at);
        if (classId == ChannelMethod.Open.CLASS_ID) {
            switch (methodId) {
                case ChannelMethod.OpenOk.METHOD_ID -> {
                    if (link.state == ChannelLink.State.OPENING) {
                        link.state = ChannelLink.State.OPEN;
                    }
                    return false; // the client got its open-ok from attach()
                }
                case ChannelMethod.Close.METHOD_ID -> {
                    // The broker closed the channel (a soft error): the client answers close-ok, we relay it.
                    if (link.state == ChannelLink.State.LOCAL_CLOSING) {
                        // The client is already told; answer the broker ourselves.
                        closeOkUpstream(link);
                        detach(link);
                        freeSlot(link);
                        return false;
                    }
                    abandonMessage(link);
                    link.state = ChannelLink.State.SERVER_CLOSING;
                    return true;
                }
                case ChannelMethod.CloseOk.METHOD_ID -> {
                    if (link.state == ChannelLink.State.CLIENT_CLOSING) {
                        detach(link);
                        freeSlot(link);
                        return true;
                    }
                    if (link.state == ChannelLink.State.SERVER_CLOSING) {
                        // Our close crossed the broker's; the client got the broker's close and answers it.
                        return false;
                    }
                    return false;
                }
                default -> {
                    return link.isUsable();
                }
            }
        }
        if (SyncMethods.isReply(classId, methodId) && link.pendingSync > 0) {
            link.pendingSync--;
        }
        if (isConfirm(classId, methodId) && link.confirmMode) {
            int tagAt = at + FrameType.HEADER_SIZE + 4;
            long tag = data.getLong(tagAt);
            link.confirmed(tag, (data.get(tagAt + 8) & 1) != 0);
            if (link.confirmTagOffset > 0) {
                data.putLong(tagAt, tag - link.confirmTagOffset); // the borrower counts its own tags from 1
            }
        }
        if (classId == ChannelMethod.Flow.CLASS_ID && methodId == ChannelMethod.Flow.METHOD_ID) {
            AmqpMethod flow = decodeAt(data, at);
            if (flow != null) {
                link.tracker.onServerMethod(flow);
            }
        }
        if (classId == QueueMethod.Declare.CLASS_ID && methodId == QueueMethod.DeclareOk.METHOD_ID) {
            Boolean exclusive = link.pendingQueueDeclares.poll();
            if (Boolean.TRUE.equals(exclusive)) {
                if (decodeAt(data, at) instanceof QueueMethod.DeclareOk ok) {
                    exclusiveQueues.add(ok.queue());
                }
            }
        }
        if (classId == TxMethod.CommitOk.CLASS_ID && methodId == TxMethod.CommitOk.METHOD_ID) {
            link.txCommitPending = false;
        }
        if (classId == BasicMethod.Cancel.CLASS_ID && methodId == BasicMethod.Cancel.METHOD_ID) {
            if (decodeAt(data, at) instanceof BasicMethod.Cancel cancel) {
                link.consumerTags.remove(cancel.consumerTag());
                link.tracker.onServerMethod(cancel);
            }
            if (!capabilities.consumerCancelNotify()) {
                return false; // the broker would not have sent it to a client that did not ask for it
            }
        }
        return link.isUsable();
    }

    /** Decodes the method frame at {@code at}; null (logged) if the broker sent something undecodable. */
    private AmqpMethod decodeAt(ByteBuffer data, int at) {
        ByteBuffer payload = data.duplicate();
        payload.position(at + FrameType.HEADER_SIZE).limit(at + FrameType.HEADER_SIZE + FramePeek.payloadSize(data, at));
        try {
            return MethodCodec.decode(payload);
        } catch (ProtocolException e) {
            log.warn("client {}: undecodable method from upstream: {}", conn.id(), e.getMessage());
            return null;
        }
    }

    /** Frames for a channel whose client is done: only close/close-ok matter, to free the slot. */
    private void inspectWhileReleasing(ChannelLink link, ByteBuffer data, int at) {
        if (FramePeek.type(data, at) != FrameType.METHOD || FramePeek.classId(data, at) != ChannelMethod.Open.CLASS_ID) {
            return;
        }
        int methodId = FramePeek.methodId(data, at);
        if (methodId == ChannelMethod.Close.METHOD_ID) {
            // The broker closed it first (e.g. a failed queue.delete): it still answers our close with close-ok.
            closeOkUpstream(link);
        } else if (methodId == ChannelMethod.CloseOk.METHOD_ID) {
            freeSlot(link);
        }
    }

    /** connection.blocked / unblocked from an upstream connection this client uses. */
    void upstreamBlocked(ByteBuffer frame) {
        if (state == State.OPEN && capabilities.connectionBlocked()) {
            write(frame);
        }
    }

    /** The upstream connection died or was closed by the broker: the client goes with it (invariant 7). */
    void upstreamClosed(UpstreamConnection upstream, UpstreamError error) {
        boolean uses = home == upstream;
        for (ChannelLink link : links.values()) {
            uses |= link.upstream == upstream;
        }
        if (state == State.AUTHENTICATING) {
            upstreamFailed(error);
            return;
        }
        if (!uses || !isReading()) {
            return;
        }
        // Slots on a dead connection need no release.
        links.values().removeIf(link -> {
            if (link.upstream == upstream) {
                link.state = ChannelLink.State.CLOSED;
                engine.stats().clientChannelClosed();
                return true;
            }
            return false;
        });
        if (home == upstream) {
            engine.pools().clientGone(keyed, this); // releaseEverything only does this while home is set
            home = null;
        }
        closeConnection(error.code(), error.text(), error.classId(), error.methodId());
    }

    // ---------------------------------------------------------------- closing

    /** Ends this client for a protocol violation, as the broker would: connection.close with the code. */
    private void violation(ReplyCode code, String text, int classId, int methodId) {
        if (!isReading()) {
            return;
        }
        log.debug("client {} violated the protocol: {} {}", conn.id(), code.code(), text);
        engine.stats().clientViolation(code.code());
        if (state.compareTo(State.AWAIT_START_OK) <= 0 && state == State.AWAIT_HEADER) {
            state = State.CLOSING;
            conn.close();
            return;
        }
        closeConnection(code.code(), code.text() + " - " + text, classId, methodId);
    }

    /**
     * Sends connection.close to the client and releases its upstream resources at once (the client's channels
     * are closed upstream; what it already sent was flushed first). The socket closes on close-ok or after a
     * grace period.
     */
    private void closeConnection(int code, String text, int classId, int methodId) {
        if (!isReading()) {
            return;
        }
        abandonInlineAndFlush();
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
        }, 5, TimeUnit.SECONDS);
    }

    private void abandonInlineAndFlush() {
        if (inlineMessage != null) {
            abandonMessage(inlineMessage);
        }
        flushOut();
    }

    private void closeGracefully() {
        abandonInlineAndFlush();
        state = State.CLOSING;
        cancelTimers();
        releaseEverything();
        conn.close();
    }

    /** Connection shutdown from the engine (drain deadline): 320 CONNECTION_FORCED, as a broker does. */
    void forceClose(String reason) {
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
     * are closed upstream, exclusive queues deleted (invariants 10 and 11).
     */
    private void releaseEverything() {
        if (parked != null) {
            parked.abandon();
            parked = null;
        }
        if (keyed != null && state != State.OPEN) {
            engine.pools().cancelWaits(keyed, this);
        }
        if (secretUpdate != null) {
            engine.pools().cancelWaits(secretUpdate.keyed(), this);
            secretUpdate = null;
        }
        List<ChannelLink> all = new ArrayList<>(links.values());
        for (ChannelLink link : all) {
            detach(link);
        }
        if (!exclusiveQueues.isEmpty() && keyed != null) {
            deleteExclusiveQueues();
        }
        for (ChannelLink link : all) {
            switch (link.state) {
                case OPENING, OPEN -> retire(link);
                case LOCAL_CLOSING -> releaseUpstream(link);
                case SERVER_CLOSING -> {
                    closeOkUpstream(link);
                    if (link.closeSentUpstream) {
                        link.state = ChannelLink.State.RELEASING;
                    } else {
                        freeSlot(link);
                    }
                }
                case CLIENT_CLOSING -> link.state = ChannelLink.State.RELEASING;
                default -> { }
            }
        }
        if (home != null) {
            engine.pools().clientGone(keyed, this);
        }
        for (KeyedCredentials former : formerKeys) {
            engine.pools().forgetMember(former, this);
        }
        releaseHeldMessages(); // also messages of channels already gone with a dead upstream connection
        flushOut();
    }

    /**
     * The broker deletes exclusive queues when their connection closes, but behind Warren that connection is shared
     * and stays: delete them on a channel of our own, pipelined (open, deletes, close) so nothing waits.
     */
    private void deleteExclusiveQueues() {
        ChannelLink temp = engine.pools().openInternalChannel(keyed, home, this);
        if (temp == null) {
            log.warn("client {}: no upstream channel free to delete its exclusive queues {}", conn.id(),
                    exclusiveQueues);
            return;
        }
        append(temp.upstream, Frames.method(temp.upstreamChannel, new ChannelMethod.Open("")));
        for (String queue : exclusiveQueues) {
            append(temp.upstream, Frames.method(temp.upstreamChannel,
                    new QueueMethod.Delete(0, queue, false, false, false)));
        }
        append(temp.upstream, Frames.method(temp.upstreamChannel,
                new ChannelMethod.Close(ReplyCode.REPLY_SUCCESS.code(), "exclusive queues deleted", 0, 0)));
        temp.state = ChannelLink.State.RELEASING;
        temp.closeSentUpstream = true;
        log.debug("client {}: deleting exclusive queues {}", conn.id(), exclusiveQueues);
        exclusiveQueues.clear();
    }

    /** Closes the link's upstream channel; the broker's close-ok frees the slot. */
    private void releaseUpstream(ChannelLink link) {
        link.state = ChannelLink.State.RELEASING;
        link.closeSentUpstream = true;
        append(link.upstream, Frames.method(link.upstreamChannel,
                new ChannelMethod.Close(ReplyCode.REPLY_SUCCESS.code(), "client closed", 0, 0)));
    }

    /** The client's channel ends (its number may be opened again); the upstream channel lives on as it must. */
    private void detach(ChannelLink link) {
        if (links.remove(link.clientChannel, link)) {
            engine.stats().clientChannelClosed();
        }
    }

    // ---------------------------------------------------------------- channel reuse (DESIGN.md invariant 4)

    /**
     * Cleans a channel the policy allows to lend again: the partial message (never sent upstream) is dropped,
     * then basic.qos twice resets both prefetch limits and acts as the barrier: its -ok can only come after every
     * earlier reply, return and channel error of the old client. Outstanding confirms must arrive too.
     */
    private void scrub(ChannelLink link) {
        if (inlineMessage == link) {
            abandonMessage(link);
        }
        link.message.reset();
        link.state = ChannelLink.State.SCRUBBING;
        engine.pools().scrubStarted(link.upstream.keyed(), link);
        link.scrubOksNeeded = link.pendingSync + 2;
        append(link.upstream, Frames.method(link.upstreamChannel, new BasicMethod.Qos(0, 0, false)));
        append(link.upstream, Frames.method(link.upstreamChannel, new BasicMethod.Qos(0, 0, true)));
        link.scrubTimer = loop.schedule(() -> scrubFailed(link, "timeout"),
                engine.config().scrubTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** What the broker sends on a channel being scrubbed: counted or dropped, never shown to anyone. */
    private void inspectWhileScrubbing(ChannelLink link, ByteBuffer data, int at) {
        if (FramePeek.type(data, at) != FrameType.METHOD) {
            return; // content of a basic.return: dropped
        }
        int classId = FramePeek.classId(data, at);
        int methodId = FramePeek.methodId(data, at);
        if (classId == ChannelMethod.Close.CLASS_ID && methodId == ChannelMethod.Close.METHOD_ID) {
            // A late channel error of the old client: the channel is not reused.
            closeOkUpstream(link);
            link.scrubTimer.cancel();
            engine.pools().scrubEnded(link.upstream.keyed(), link);
            engine.stats().scrubFailed("channel_error");
            freeSlot(link);
            return;
        }
        if (isConfirm(classId, methodId)) {
            link.confirmed(data.getLong(at + FrameType.HEADER_SIZE + 4),
                    (data.get(at + FrameType.HEADER_SIZE + 12) & 1) != 0);
        } else if (SyncMethods.isReply(classId, methodId)) {
            link.scrubOksNeeded--;
        }
        if (link.scrubOksNeeded <= 0 && !link.hasUnconfirmed()) {
            link.scrubTimer.cancel();
            link.pendingSync = 0;
            link.state = ChannelLink.State.IDLE;
            if (engine.pools().offerIdle(link.upstream.keyed(), link)) {
                engine.stats().scrubSucceeded();
            } else {
                engine.pools().scrubEnded(link.upstream.keyed(), link);
                engine.stats().scrubFailed("pool_full");
                releaseUpstream(link);
                flushOut();
            }
        }
    }

    private static boolean isConfirm(int classId, int methodId) {
        return classId == BasicMethod.Ack.CLASS_ID
                && (methodId == BasicMethod.Ack.METHOD_ID || methodId == BasicMethod.Nack.METHOD_ID);
    }

    private void scrubFailed(ChannelLink link, String reason) {
        if (link.state != ChannelLink.State.SCRUBBING) {
            return;
        }
        engine.stats().scrubFailed(reason);
        engine.pools().scrubEnded(link.upstream.keyed(), link);
        releaseUpstream(link);
        flushOut();
    }

    /** An idle channel of ours expired in the pool: close it upstream. */
    void releaseIdle(ChannelLink link) {
        if (link.state == ChannelLink.State.IDLE) {
            releaseUpstream(link);
            flushOut();
        }
    }

    /** Ends a link the client is done with: scrubbed for reuse when the policy allows, else closed upstream. */
    private void retire(ChannelLink link) {
        if (link.message.inProgress()) {
            // Nothing of the half message went upstream (messages go whole), but a client that died mid-message
            // is a client whose channel we would rather not vouch for.
            engine.stats().scrubFailed("partial_message");
            abandonMessage(link);
            releaseUpstream(link);
        } else if (reused(link)) {
            scrub(link);
        } else {
            releaseUpstream(link);
        }
    }

    private boolean reused(ChannelLink link) {
        boolean reusable = link.tracker.mayReuse();
        engine.stats().reuseDecided(reusable);
        return reusable;
    }

    /** RabbitMQ methods whose empty queue name means "the queue last declared on this channel". */
    private static boolean usesLastDeclaredQueue(AmqpMethod m) {
        return (m instanceof QueueMethod.Bind b && b.queue().isEmpty())
                || (m instanceof QueueMethod.Unbind u && u.queue().isEmpty())
                || (m instanceof QueueMethod.Purge p && p.queue().isEmpty())
                || (m instanceof QueueMethod.Delete d && d.queue().isEmpty())
                || (m instanceof BasicMethod.Consume c && c.queue().isEmpty())
                || (m instanceof BasicMethod.Get g && g.queue().isEmpty());
    }

    /**
     * Answers the broker's channel.close, once per channel: a second close-ok reaches a channel the broker has
     * already forgotten, and it closes the whole upstream connection for it (504 "expected 'channel.open'").
     */
    private void closeOkUpstream(ChannelLink link) {
        if (!link.closeOkSentUpstream) {
            link.closeOkSentUpstream = true;
            sendUpstream(link, Frames.method(link.upstreamChannel, new ChannelMethod.CloseOk()));
        }
    }

    private void freeSlot(ChannelLink link) {
        if (link.state != ChannelLink.State.CLOSED) {
            link.state = ChannelLink.State.CLOSED;
            link.upstream.freeChannel(link);
        }
    }

    // ---------------------------------------------------------------- writing and heartbeats

    /** Writes one generated frame (or the protocol header) to the client. */
    void write(ByteBuffer bytes) {
        write(bytes, 1);
    }

    private void write(ByteBuffer bytes, int frames) {
        lastWriteNanos = System.nanoTime();
        engine.stats().clientBytesSent(bytes.remaining());
        engine.stats().clientFramesSent(frames);
        boolean writable = conn.write(bytes);
        long queued = conn.queuedBytes();
        engine.stats().clientWriteQueued(queued);
        if (writable || !isReading() || slowClientCut) {
            return;
        }
        if (queued > engine.config().slowClientBuffer()) {
            // Checked while stalled too: batches the upstream loop read before the pause took hold still arrive.
            cutOff(queued + " bytes queued for it (slow-client-buffer " + engine.config().slowClientBuffer() + ")");
        } else if (overflowing) {
            takeBufferShare(queued);
        } else if (stalledUpstreams == null) {
            stallUpstreams();
        }
    }

    /** Upstream connections this client paused because it does not read; null when not stalled. */
    private List<UpstreamConnection> stalledUpstreams;
    /** The client's stall ran out with its queue still full: Warren buffers for it, up to slowClientBuffer. */
    private boolean overflowing;
    /** While overflowing: this client's share of the engine's slow-client-buffer-total (its queue at last write). */
    private long bufferShare;
    private EventLoop.Cancellable slowClientTimer;
    private EventLoop.Cancellable stallTimer;
    /** The client's queue at the last stall check: it must drain {@link #STALL_PROGRESS} per slowClientStall. */
    private long queuedAtStallCheck;
    private boolean slowClientCut;
    /**
     * What a stalled client must read per slowClientStall to keep its upstream connections paused (it reads,
     * only slower than the broker sends: throttling it is right). One transport read buffer.
     */
    private static final long STALL_PROGRESS = 64 * 1024;
    /** The first stall check comes after slowClientStall divided by this. */
    private static final int FIRST_STALL_CHECK_DIVISOR = 10;

    /**
     * The client's write queue is above the high-water mark: the upstream connections feeding it stop being read
     * (the broker holds the messages, TCP back-pressure), which throttles a client that reads slower than the
     * broker sends. That stalls the other clients on them too, so the stall goes on only while the client drains
     * at least STALL_PROGRESS per slowClientStall; one that does not is buffered for instead, up to
     * slowClientBuffer, and cut off beyond it or after slowClientTimeout (DESIGN.md invariant 8). A client that
     * never reads and reconnects each time it is cut off thus costs its neighbours slowClientStall per round, not
     * slowClientTimeout; a slow reader throttles them to its own pace, as a slow consumer does on a broker.
     */
    private void stallUpstreams() {
        stalledUpstreams = new ArrayList<>(1);
        for (ChannelLink link : links.values()) {
            if (!stalledUpstreams.contains(link.upstream)) {
                stalledUpstreams.add(link.upstream);
                link.upstream.pauseReadsFor(this);
            }
        }
        queuedAtStallCheck = conn.queuedBytes();
        // The first check comes early and asks only that the client read something: one that does not read at
        // all (the usual hog, which reconnects as soon as it is cut off) then costs its neighbours a tenth of the
        // stall per round, while any reader, however slow, is kept throttled.
        stallTimer = loop.schedule(this::checkFirstStall,
                Math.max(1, engine.config().slowClientStall().toMillis() / FIRST_STALL_CHECK_DIVISOR),
                TimeUnit.MILLISECONDS);
        slowClientTimer = loop.schedule(() -> {
            if (stalledUpstreams != null || overflowing) {
                cutOff("it read nothing for " + engine.config().slowClientTimeout() + " with its write queue full");
            }
        }, engine.config().slowClientTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void checkFirstStall() {
        checkStall(1);
    }

    private void checkStall() {
        checkStall(STALL_PROGRESS);
    }

    private void checkStall(long progressNeeded) {
        List<UpstreamConnection> stalled = stalledUpstreams;
        if (stalled == null || state == State.CLOSED) {
            return;
        }
        long queued = conn.queuedBytes();
        if (queuedAtStallCheck - queued >= progressNeeded) {
            queuedAtStallCheck = queued;
            stallTimer = loop.schedule(this::checkStall, engine.config().slowClientStall().toMillis(),
                    TimeUnit.MILLISECONDS);
            return;
        }
        stalledUpstreams = null;
        overflowing = true;
        log.debug("client {} did not drain its write queue within {}: buffering for it instead of stalling {}",
                conn.id(), engine.config().slowClientStall(), stalled);
        for (UpstreamConnection upstream : stalled) {
            upstream.resumeReadsFor(this);
        }
        takeBufferShare(queued);
    }

    /** Counts what Warren buffers for this client against the engine-wide total; beyond it, cuts the client off. */
    private void takeBufferShare(long queued) {
        SlowClientBudget budget = engine.slowClientBudget();
        if (budget.move(bufferShare, queued)) {
            bufferShare = queued;
        } else {
            cutOff(queued + " bytes queued for it would take what Warren buffers for slow clients beyond "
                    + "slow-client-buffer-total (" + budget.limit() + ")");
        }
    }

    private void cutOff(String why) {
        slowClientCut = true; // writes to it are dropped from now on: they must not stall anything again
        log.info("client {} disconnected as a slow client: {}", conn.id(), why);
        engine.stats().clientViolation(ReplyCode.CONNECTION_FORCED.code());
        unstallUpstreams();
        conn.abort(); // it does not read: a connection.close would never reach it
    }

    private void unstallUpstreams() {
        List<UpstreamConnection> stalled = stalledUpstreams;
        stalledUpstreams = null;
        overflowing = false;
        if (bufferShare != 0) {
            engine.slowClientBudget().move(bufferShare, 0);
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
                upstream.resumeReadsFor(this);
            }
        }
    }

    private void startHeartbeats() {
        if (heartbeatSeconds <= 0) {
            return;
        }
        long periodMillis = Math.max(250, heartbeatSeconds * 1000L / 2);
        heartbeatTimer = loop.schedule(new Runnable() {
            @Override
            public void run() {
                if (state != State.OPEN) {
                    return;
                }
                long now = System.nanoTime();
                long interval = TimeUnit.SECONDS.toNanos(heartbeatSeconds);
                if (!readsPaused && now - lastReadNanos > 2 * interval) {
                    log.debug("client {}: missed heartbeats, timeout {} s", conn.id(), heartbeatSeconds);
                    state = State.CLOSING;
                    releaseEverything();
                    conn.close();
                    return;
                }
                if (now - lastWriteNanos >= interval / 2) {
                    write(Frames.heartbeat());
                }
                heartbeatTimer = loop.schedule(this, periodMillis, TimeUnit.MILLISECONDS);
            }
        }, periodMillis, TimeUnit.MILLISECONDS);
    }

    private void cancelTimers() {
        if (handshakeTimer != null) {
            handshakeTimer.cancel();
        }
        if (heldStallCheck != null) {
            heldStallCheck.cancel();
            heldStallCheck = null;
        }
        if (heartbeatTimer != null) {
            heartbeatTimer.cancel();
        }
    }

    @Override
    public String toString() {
        return "client " + conn.id() + " " + conn.remoteAddress();
    }

}
