package io.warren.core.internal.client;

import io.warren.api.ClientCredentials;
import io.warren.api.CredentialRejectedException;
import io.warren.api.KeyedCredentials;
import io.warren.api.PoolKey;
import io.warren.api.transport.EventLoop;
import io.warren.codec.AmqpMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.Frame;
import io.warren.codec.FrameType;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.codec.ProtocolHeader;
import io.warren.codec.ReplyCode;
import io.warren.core.config.ProxyConfig;
import io.warren.core.internal.limits.ClientAdmission;
import io.warren.core.internal.limits.VhostPauses;
import io.warren.core.internal.pool.Reply;
import io.warren.core.internal.upstream.Cluster;
import io.warren.core.internal.upstream.UpstreamConnection;
import io.warren.core.internal.upstream.UpstreamError;
import io.warren.core.internal.wire.Frames;
import io.warren.core.internal.wire.Sasl;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handshake Warren answers as the server, from the protocol header to connection.open-ok (docs/architecture.md,
 * "Client handshake"). It is honest (DESIGN.md invariant 2): open-ok only once the client's credentials are proven,
 * by a login within the re-authentication interval or a fresh upstream login, which runs between start-ok and tune so
 * that a wrong password fails where it fails against the broker. A client refused by admission is answered start and
 * tune locally and closed at open with 530, without an upstream login.
 *
 * <p>Owned by the session's loop; dropped once the client is open.
 */
final class ClientHandshake {
    private static final Logger log = LoggerFactory.getLogger(ClientHandshake.class);

    private final ClientSession session;
    private final EventLoop.Cancellable timer;
    /** Bytes of a protocol header that arrived split; joined with the next read. */
    private ByteBuffer headerPrefix;
    private ClientCredentials credentials;
    private ClientCapabilities capabilities = ClientCapabilities.NONE;
    private String connectionName;
    /** The pool key of this client's login without its virtual host: what the broker checks at start-ok. */
    private PoolKey loginKey;
    private KeyedCredentials keyed;
    /** The upstream connection that proved this client's login, until it joins a pool at connection.open. */
    private UpstreamConnection parked;
    /**
     * Why the broker could not be reached when this client's login was to be checked: told at connection.open, so
     * that clients report the broker's state, not a suspected authentication failure (which is what most client
     * libraries make of a connection closed before tune).
     */
    private UpstreamError loginUnreachable;
    /** The login without its virtual host, kept to ask again once a node is back. */
    private KeyedCredentials loginKeyed;
    /** While no upstream node is up: until when this client may wait for one (0: it has not waited yet). */
    private long holdUntilNanos;
    /** This client's place among the clients waiting for a node, or null. */
    private EventLoop.Cancellable hold;
    private final Reply<UpstreamConnection> loginReply = new Reply<>() {
        @Override
        public void ok(UpstreamConnection proof) {
            loginProven(proof);
        }

        @Override
        public void failed(UpstreamError error) {
            upstreamFailed(error);
        }
    };
    private final Reply<UpstreamConnection> authReply = new Reply<>() {
        @Override
        public void ok(UpstreamConnection home) {
            authenticated(home);
        }

        @Override
        public void failed(UpstreamError error) {
            upstreamFailed(error);
        }
    };

    ClientHandshake(ClientSession session) {
        this.session = session;
        this.timer = session.loop().schedule(this::timedOut,
                session.clients.config().handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Consumes the 8-byte protocol header. A header split across reads is kept and joined with the next read.
     *
     * @return whether frames may follow in {@code data}
     */
    boolean readProtocolHeader(ByteBuffer data) {
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
                log.debug("client {} sent a wrong protocol header", session.id());
                session.clients.stats().handshakeFailed("bad_protocol_header");
                session.write(ByteBuffer.wrap(ProtocolHeader.AMQP_0_9_1.clone()));
                session.state = ClientSession.State.CLOSING;
                session.conn.close();
                return false;
            }
            case MATCH -> {
                in.position(in.position() + ProtocolHeader.LENGTH);
                session.state = ClientSession.State.AWAIT_START_OK;
                session.write(session.clients.connectionStartFrame());
                if (in != data) {
                    session.processRest(in); // bytes after a split header: the rest of this read
                    return false;
                }
                return true;
            }
            default -> throw new IllegalStateException();
        }
    }

    void handleFrame(Frame frame) throws ProtocolException {
        if (frame.type() == FrameType.HEARTBEAT) {
            return;
        }
        if (frame.type() != FrameType.METHOD || frame.channel() != 0) {
            throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, "unexpected frame of type " + frame.type()
                    + " on channel " + frame.channel() + " during the handshake");
        }
        AmqpMethod method = MethodCodec.decode(frame.payload());
        if (method instanceof ConnectionMethod.Close) {
            session.write(Frames.method(0, new ConnectionMethod.CloseOk()));
            session.clients.stats().handshakeFailed("client_closed");
            session.closeGracefully();
            return;
        }
        switch (session.state) {
            case AWAIT_START_OK -> startOk(expect(method, ConnectionMethod.StartOk.class));
            case AWAIT_TUNE_OK -> tuneOk(expect(method, ConnectionMethod.TuneOk.class));
            case AWAIT_OPEN -> open(expect(method, ConnectionMethod.Open.class));
            default -> throw new ProtocolException(ReplyCode.CHANNEL_ERROR,
                    "unexpected method in connection state " + session.state, method.classId(), method.methodId());
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
        return switch (session.state) {
            case AWAIT_START_OK -> "'connection.start-ok'";
            case AWAIT_TUNE_OK -> "'connection.tune-ok'";
            case AWAIT_OPEN -> "'connection.open'";
            default -> "nothing";
        };
    }

    private void startOk(ConnectionMethod.StartOk startOk) throws ProtocolException {
        capabilities = ClientCapabilities.from(startOk.clientProperties());
        connectionName = startOk.clientProperties().getString("connection_name").orElse(null);
        session.connectionName = connectionName == null ? "" : connectionName;
        session.product = startOk.clientProperties().getString("product").orElse("");
        session.version = startOk.clientProperties().getString("version").orElse("");
        Sasl.Credentials parsed = Sasl.parse(startOk.mechanism(), startOk.response());
        credentials = new ClientCredentials(startOk.mechanism(), parsed.username(), parsed.password(), "",
                session.conn.remoteAddress(), Optional.empty());
        if (session.admission.verdict() != ClientAdmission.Verdict.ADMIT) {
            sendTune(); // refused at connection.open: no upstream login for a client that will not stay
            return;
        }
        KeyedCredentials login;
        try {
            login = session.clients.keyer().key(credentials);
        } catch (CredentialRejectedException e) {
            throw new ProtocolException(ReplyCode.ACCESS_REFUSED, e.getMessage(), ConnectionMethod.StartOk.CLASS_ID,
                    ConnectionMethod.StartOk.METHOD_ID);
        }
        loginKey = login.key();
        loginKeyed = login;
        if (session.clients.logins().vouchFor(login, connectionName, session.loop())) {
            sendTune();
            return;
        }
        // The broker judges the password before it tunes; so does Warren, by logging in upstream first.
        session.state = ClientSession.State.LOGGING_IN;
        session.suspend();
        session.clients.logins().login(login, connectionName, session, loginReply);
    }

    /** On the loop: the broker accepted this client's login; {@code proof} (may be null) is parked for it. */
    private void loginProven(UpstreamConnection proof) {
        assert session.onLoop();
        if (session.state != ClientSession.State.LOGGING_IN) {
            if (proof != null) {
                proof.abandon();
            }
            return;
        }
        parked = proof;
        sendTune();
        session.resume();
    }

    private void sendTune() {
        session.state = ClientSession.State.AWAIT_TUNE_OK;
        ProxyConfig config = session.clients.config();
        session.write(Frames.method(0, new ConnectionMethod.Tune(config.clientChannelMax(), config.frameMax(),
                (int) config.clientHeartbeat().toSeconds())));
    }

    private void tuneOk(ConnectionMethod.TuneOk tuneOk) throws ProtocolException {
        ProxyConfig config = session.clients.config();
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
        session.frameMax = (int) frameMaxAsked;
        session.channelMax = channelMaxAsked;
        session.heartbeatSeconds = tuneOk.heartbeat();
        session.setClientFrameMax((int) frameMaxAsked);
        session.state = ClientSession.State.AWAIT_OPEN;
    }

    private void open(ConnectionMethod.Open open) throws ProtocolException {
        if (session.admission.verdict() != ClientAdmission.Verdict.ADMIT) {
            // Where RabbitMQ answers its per-vhost and per-user connection limits, with the same code.
            session.clients.stats().handshakeFailed("connection_limit");
            session.closeConnection(ReplyCode.NOT_ALLOWED.code(), session.admission.closeText(),
                    ConnectionMethod.Open.CLASS_ID, ConnectionMethod.Open.METHOD_ID);
            return;
        }
        credentials = new ClientCredentials(credentials.mechanism(), credentials.username(), credentials.secret(),
                open.virtualHost(), credentials.peer(), credentials.clientCertificate());
        try {
            keyed = session.clients.keyer().key(credentials);
        } catch (CredentialRejectedException e) {
            throw new ProtocolException(ReplyCode.ACCESS_REFUSED, e.getMessage(), ConnectionMethod.Open.CLASS_ID,
                    ConnectionMethod.Open.METHOD_ID);
        }
        if (loginUnreachable != null) {
            session.clients.stats().handshakeFailed("upstream_error");
            session.closeConnection(loginUnreachable.code(), loginUnreachable.text(), loginUnreachable.classId(),
                    loginUnreachable.methodId());
            return;
        }
        session.state = ClientSession.State.AUTHENTICATING;
        session.suspend();
        if (!holdForPausedVhost()) {
            authenticate();
        }
    }

    private void authenticate() {
        UpstreamConnection proof = parked;
        parked = null;
        session.clients.pools().authenticate(keyed, connectionName, loginKey, session, proof, authReply);
    }

    /**
     * The operator paused this client's vhost: it waits, unread, until the vhost is resumed or {@code upstream-hold}
     * (counted from its first wait) runs out, and is then refused with 320.
     *
     * @return whether it waits, or was refused
     */
    private boolean holdForPausedVhost() {
        VhostPauses pauses = session.clients.pauses();
        String vhost = credentials.virtualHost();
        if (!pauses.isPaused(vhost)) {
            return false;
        }
        long now = System.nanoTime();
        if (holdUntilNanos == 0) {
            holdUntilNanos = now + session.clients.config().upstreamHold().toNanos();
        }
        hold = pauses.await(session.loop(), vhost, holdUntilNanos - now, this::vhostResumed, this::vhostStillPaused);
        if (hold != null) {
            log.debug("client {} waits at connection.open: virtual host '{}' is paused", session.id(), vhost);
            return true;
        }
        if (!pauses.isPaused(vhost)) {
            return false; // resumed meanwhile
        }
        vhostStillPaused();
        return true;
    }

    private void vhostResumed() {
        assert session.onLoop();
        hold = null;
        if (session.state == ClientSession.State.AUTHENTICATING && session.isReading()) {
            authenticate();
        }
    }

    private void vhostStillPaused() {
        assert session.onLoop();
        hold = null;
        if (session.state != ClientSession.State.AUTHENTICATING) {
            return;
        }
        session.clients.stats().handshakeFailed("vhost_paused");
        session.closeConnection(ReplyCode.CONNECTION_FORCED.code(), ReplyCode.CONNECTION_FORCED.text()
                + " - virtual host '" + credentials.virtualHost() + "' is paused by the operator",
                ConnectionMethod.Open.CLASS_ID, ConnectionMethod.Open.METHOD_ID);
    }

    /** What the client presented so far: null before start-ok; the vhost is empty before connection.open. */
    ClientCredentials credentials() {
        return credentials;
    }

    /** Whether this client waits, unread, for an upstream node or for its paused vhost. */
    boolean held() {
        return hold != null;
    }

    /** On the loop: an upstream connection with this client's credentials is ready for it. */
    private void authenticated(UpstreamConnection home) {
        assert session.onLoop();
        if (!session.isReading()) {
            // Gone while the pool served it: the pool counted it, and nothing else will uncount it.
            session.clients.pools().clientGone(home.keyed(), session);
            return;
        }
        if (session.state != ClientSession.State.AUTHENTICATING) {
            return;
        }
        timer.cancel();
        session.write(Frames.method(0, new ConnectionMethod.OpenOk("")));
        session.clients.stats().handshakeSucceeded(System.nanoTime() - session.acceptedNanos);
        log.debug("client {} authenticated as {} on upstream {}", session.id(), keyed.key(), home.id());
        session.opened(new ClientLogin(credentials, keyed, loginKey, capabilities, connectionName, home));
        session.resume();
    }

    /** On the loop: the upstream refused this client's credentials, could not be reached, or died meanwhile. */
    void upstreamFailed(UpstreamError error) {
        assert session.onLoop();
        ClientSession.State state = session.state;
        if (state != ClientSession.State.AUTHENTICATING && state != ClientSession.State.LOGGING_IN) {
            return;
        }
        if (error.code() == ReplyCode.CONNECTION_FORCED.code() && holdForANode(state)) {
            return; // no node is up: wait for one, briefly, rather than fail
        }
        if (state == ClientSession.State.LOGGING_IN && error.code() != ReplyCode.ACCESS_REFUSED.code()) {
            // Not a verdict on the password: tune, and refuse at connection.open with the broker's state.
            loginUnreachable = error;
            sendTune();
            session.resume();
            return;
        }
        session.clients.stats().handshakeFailed(error.code() == ReplyCode.ACCESS_REFUSED.code() ? "access_refused"
                : "upstream_error");
        UpstreamError told = asClientMechanism(error, credentials.mechanism());
        session.closeConnection(told.code(), told.text(), told.classId(), told.methodId());
    }

    /**
     * No upstream node is up: this client waits, unread, up to {@code upstream-hold} (counted from its first wait) for
     * one to come back, then asks again; past that it gets the answer it would have got at once.
     *
     * @return whether it waits
     */
    private boolean holdForANode(ClientSession.State waitingIn) {
        Cluster cluster = session.clients.cluster();
        long now = System.nanoTime();
        if (holdUntilNanos == 0) {
            holdUntilNanos = now + session.clients.config().upstreamHold().toNanos();
        }
        hold = cluster.awaitUp(session.loop(), holdUntilNanos - now, () -> askAgain(waitingIn),
                () -> upstreamFailed(cluster.noNodeUp()));
        return hold != null;
    }

    /** A node is up again: the step that failed for want of one is asked again. */
    private void askAgain(ClientSession.State waitingIn) {
        assert session.onLoop();
        hold = null;
        if (session.state != waitingIn) {
            return;
        }
        if (waitingIn == ClientSession.State.LOGGING_IN) {
            session.clients.logins().login(loginKeyed, connectionName, session, loginReply);
        } else {
            session.clients.pools().authenticate(keyed, connectionName, loginKey, session, null, authReply);
        }
    }

    /** An upstream connection died while this client waited to be authenticated on it. */
    void upstreamClosed(UpstreamConnection upstream, UpstreamError error) {
        upstreamFailed(error);
    }

    /**
     * RabbitMQ's refusal of a wrong password, for the mechanism the client used: Warren logs in upstream with PLAIN,
     * so the broker's own text names PLAIN even when the client chose AMQPLAIN.
     */
    static UpstreamError asClientMechanism(UpstreamError error, String mechanism) {
        String upstreamText = ReplyCode.ACCESS_REFUSED.text() + " - " + Sasl.refusedDetail("PLAIN");
        if (error.code() != ReplyCode.ACCESS_REFUSED.code() || mechanism.equals("PLAIN")
                || !error.text().equals(upstreamText)) {
            return error;
        }
        return new UpstreamError(error.code(), ReplyCode.ACCESS_REFUSED.text() + " - "
                + Sasl.refusedDetail(mechanism), error.classId(), error.methodId());
    }

    private void timedOut() {
        ClientSession.State state = session.state;
        if (state.compareTo(ClientSession.State.OPEN) < 0 && state != ClientSession.State.CLOSED) {
            log.debug("client {} did not finish the handshake in {}", session.id(),
                    session.clients.config().handshakeTimeout());
            session.clients.stats().handshakeFailed("timeout");
            if (state == ClientSession.State.AWAIT_HEADER) {
                session.state = ClientSession.State.CLOSING;
                session.conn.close();
            } else {
                session.closeConnection(ReplyCode.CONNECTION_FORCED.code(),
                        ReplyCode.CONNECTION_FORCED.text() + " - handshake timeout", 0, 0);
            }
        }
    }

    /** The client is gone before the handshake ended: nothing upstream waits for it any more. */
    void release() {
        if (hold != null) {
            hold.cancel();
            hold = null;
        }
        if (parked != null) {
            parked.abandon();
            parked = null;
        }
        if (keyed != null) {
            session.clients.pools().cancelWaits(keyed, session);
        }
    }

    void cancelTimer() {
        timer.cancel();
    }
}
