package io.warren.core;

import io.warren.api.ChannelTracker;
import io.warren.api.KeyedCredentials;
import io.warren.api.PoolKey;
import io.warren.api.UpstreamCredentials;
import io.warren.api.transport.Connection;
import io.warren.api.transport.ConnectionHandler;
import io.warren.api.transport.EventLoop;
import io.warren.codec.AmqpMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.FieldValue;
import io.warren.codec.Frame;
import io.warren.codec.FrameDecoder;
import io.warren.codec.FrameType;
import io.warren.codec.LongString;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.codec.ProtocolHeader;
import io.warren.codec.ReplyCode;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection to the broker, shared by every client of one pool key. It authenticates with the key's upstream
 * credentials, then routes frames: each upstream channel slot holds the {@link ChannelLink} that owns it, and
 * frames are handed to that link's client loop in batches.
 *
 * <p>Threading: the handshake, routing and heartbeats run on this connection's event loop. Slot allocation and
 * release come from client loops and are guarded by {@code this}. {@link #send} is callable from any thread.
 */
final class UpstreamConnection implements ConnectionHandler {
    private static final Logger log = LoggerFactory.getLogger(UpstreamConnection.class);
    private static final AtomicLong IDS = new AtomicLong();
    private static final ChannelTracker INTERNAL = new ChannelTracker() {
        @Override
        public void onClientMethod(AmqpMethod method) {}

        @Override
        public boolean mayReuse() {
            return false;
        }
    };

    /**
     * CONNECTING and HANDSHAKE until the broker accepted the login (its connection.tune); a connection dialed only
     * to prove a client's login then waits PARKED until that client names its virtual host; OPENING until
     * open-ok.
     */
    enum State { CONNECTING, HANDSHAKE, PARKED, OPENING, READY, CLOSING, CLOSED }

    private final long id = IDS.incrementAndGet();
    private final ProxyEngine engine;
    private final UpstreamPools pools;
    private final PoolKey loginKey;
    private final UpstreamCredentials login;
    /** Set when the connection joins a pool: at creation, or on adoption after a parked login. */
    private volatile KeyPool pool;
    private volatile KeyedCredentials keyed;
    /** Clients waiting for this connection's login to be proven; null for a connection dialed by a pool. */
    private final UpstreamPools.LoginAttempt attempt;
    private final EventLoop loop;
    private final String clientConnectionName;
    private final FrameDecoder decoder;
    /** Clients that authenticated through or hold channels on this connection: told when it dies. */
    private final Set<ClientSession> members = ConcurrentHashMap.newKeySet();
    /** Clients that stopped reading because this connection's write queue was full. */
    private final Set<ClientSession> pausedClients = ConcurrentHashMap.newKeySet();
    private final Map<ClientSession, BatchBuilder> batches = new IdentityHashMap<>();

    private volatile State state = State.CONNECTING;
    private volatile Connection conn;
    private volatile long lastWriteNanos = System.nanoTime();
    private long lastReadNanos = System.nanoTime();
    private int heartbeatSeconds;
    /** Negotiated at tune, before any channel is lent; read by client sessions laying out held messages. */
    private volatile int frameMax;
    private EventLoop.Cancellable timer;
    /** When this connection's login succeeded; a later client with the same key may rely on it for a while. */
    private volatile long authenticatedNanos;

    // Guarded by this: the slot table.
    private AtomicReferenceArray<ChannelLink> slots = new AtomicReferenceArray<>(1);
    private int channelMax;
    private int openChannels;
    private int nextSlot = 1;
    private long idleSinceNanos = System.nanoTime();

    /** A connection of a pool, opened through to the key's virtual host. */
    UpstreamConnection(ProxyEngine engine, KeyPool pool, KeyedCredentials keyed, PoolKey loginKey, EventLoop loop,
            String clientConnectionName) {
        this(engine, pool, keyed, loginKey, keyed.upstream(), null, loop, clientConnectionName);
    }

    /** A connection that proves a login, then parks until {@link #adopt}ed or {@link #abandon}ed. */
    UpstreamConnection(ProxyEngine engine, PoolKey loginKey, UpstreamCredentials login,
            UpstreamPools.LoginAttempt attempt, EventLoop loop, String clientConnectionName) {
        this(engine, null, null, loginKey, login, attempt, loop, clientConnectionName);
    }

    private UpstreamConnection(ProxyEngine engine, KeyPool pool, KeyedCredentials keyed, PoolKey loginKey,
            UpstreamCredentials login, UpstreamPools.LoginAttempt attempt, EventLoop loop,
            String clientConnectionName) {
        this.engine = engine;
        this.pools = engine.pools();
        this.pool = pool;
        this.keyed = keyed;
        this.loginKey = loginKey;
        this.login = login;
        this.attempt = attempt;
        this.loop = loop;
        this.clientConnectionName = clientConnectionName;
        this.decoder = new FrameDecoder(engine.config().frameMax());
    }

    long id() {
        return id;
    }

    State state() {
        return state;
    }

    /** The pool key and credentials of the pool this connection belongs to; null before it joins one. */
    /** The frame_max negotiated with the broker (Warren's {@code frame-max} or the broker's, the lower). */
    int frameMax() {
        return frameMax;
    }

    KeyedCredentials keyed() {
        return keyed;
    }

    long authenticatedNanos() {
        return authenticatedNanos;
    }

    void start() {
        if (engine.config().upstreamTls().isPresent()) {
            engine.runtime().connect(engine.config().upstream(), loop, this, engine.config().upstreamTls().get());
        } else {
            engine.runtime().connect(engine.config().upstream(), loop, this);
        }
        timer = loop.schedule(() -> {
            if (state != State.READY && state != State.CLOSING && state != State.CLOSED) {
                fail(UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream " + upstreamName()
                        + " did not complete the AMQP handshake within " + engine.config().upstreamConnectTimeout()));
            }
        }, engine.config().upstreamConnectTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private String upstreamName() {
        return engine.config().upstream().getHostString() + ":" + engine.config().upstream().getPort();
    }

    // ---------------------------------------------------------------- transport events

    @Override
    public void onOpen(Connection connection) {
        conn = connection;
        state = State.HANDSHAKE;
        send(ByteBuffer.wrap(ProtocolHeader.AMQP_0_9_1.clone()));
    }

    @Override
    public void onRead(Connection connection, ByteBuffer data) {
        lastReadNanos = System.nanoTime();
        engine.stats().upstreamBytesReceived(data.remaining());
        try {
            Frame frame;
            while (state != State.CLOSED && (frame = decoder.next(data)) != null) {
                engine.stats().upstreamFrameReceived();
                if (state == State.READY || state == State.CLOSING) {
                    route(frame);
                } else {
                    handshake(frame);
                }
            }
        } catch (ProtocolException e) {
            log.warn("upstream {}: broker sent a malformed frame: {} {}", id, e.replyCode().code(), e.getMessage());
            closeWithError(e.replyCode(), e.getMessage());
            fail(UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream sent a malformed frame: " + e.getMessage()));
        } finally {
            dispatchBatches();
        }
    }

    @Override
    public void onWritable(Connection connection) {
        for (ClientSession session : pausedClients) {
            pausedClients.remove(session);
            session.loop().execute(session::upstreamWritable);
        }
    }

    @Override
    public void onClose(Connection connection, Throwable cause) {
        if (state == State.CLOSED) {
            return;
        }
        String why = cause == null ? "closed by the broker" : cause.getMessage();
        if (conn == null && why != null && why.startsWith("TLS ")) {
            // Never opened: the transport's text already names the address and says why ("TLS handshake with
            // host:port failed: certificate is not trusted (...)"); "lost" would mislead.
            fail(UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream " + why));
            return;
        }
        if (state == State.HANDSHAKE && connection.isTls() && engine.config().upstreamTls()
                .map(t -> t.certificateFile() == null).orElse(false)) {
            // TLS 1.3 lets a broker refuse a missing client certificate only after our side finished the
            // handshake: all we see is the connection dropped before the broker said a word of AMQP.
            why += " (the broker dropped the TLS connection before the AMQP handshake; if it requires client"
                    + " certificates, set --upstream-cert and --upstream-key)";
            fail(UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream connection to " + upstreamName() + " lost: "
                    + why));
        } else if (conn == null) {
            fail(UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream broker " + upstreamName() + " unreachable: "
                    + why));
        } else if (state != State.READY && state != State.CLOSING) {
            fail(UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream broker " + upstreamName()
                    + " dropped the connection during the AMQP handshake: " + why));
        } else {
            fail(UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream connection to " + upstreamName() + " lost: "
                    + why));
        }
    }

    // ---------------------------------------------------------------- handshake (Warren is the client here)

    private void handshake(Frame frame) throws ProtocolException {
        if (frame.type() == FrameType.HEARTBEAT) {
            return;
        }
        if (frame.type() != FrameType.METHOD || frame.channel() != 0) {
            throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, "unexpected frame during handshake");
        }
        AmqpMethod method = MethodCodec.decode(frame.payload());
        if (method instanceof ConnectionMethod.Start start) {
            if (!start.mechanisms().asString().contains("PLAIN")) {
                fail(UpstreamError.of(ReplyCode.ACCESS_REFUSED, "upstream does not offer SASL PLAIN (offers "
                        + start.mechanisms().asString() + ")"));
                return;
            }
            engine.learnServerProperties(start.serverProperties());
            send(Frames.method(0, new ConnectionMethod.StartOk(clientProperties(), "PLAIN",
                    Sasl.plainResponse(login.username(), login.password()), "en_US")));
        } else if (method instanceof ConnectionMethod.Tune tuneMethod) {
            // The broker checks the password before it tunes: the login is proven (DESIGN.md invariant 2).
            tune = tuneMethod;
            pools.loginProven(loginKey);
            if (attempt != null && keyed == null) {
                state = State.PARKED;
                pools.loginFinished(attempt, this, null);
            } else {
                openVirtualHost();
            }
        } else if (method instanceof ConnectionMethod.OpenOk) {
            authenticatedNanos = System.nanoTime();
            state = State.READY;
            timer.cancel();
            startHousekeeping();
            log.info("upstream {} connected to {} as {} (channel_max {}, frame_max {}, heartbeat {} s)", id,
                    upstreamName(), keyed.key(), channelMax, frameMax, heartbeatSeconds);
            engine.stats().upstreamConnected();
            pool.connectionReady(this);
        } else if (method instanceof ConnectionMethod.Close close) {
            send(Frames.method(0, new ConnectionMethod.CloseOk()));
            fail(new UpstreamError(close.replyCode(), close.replyText(), close.failingClassId(),
                    close.failingMethodId()));
        } else if (method instanceof ConnectionMethod.Secure) {
            fail(UpstreamError.of(ReplyCode.ACCESS_REFUSED, "upstream asked for a SASL challenge Warren cannot answer"));
        }
    }

    private ConnectionMethod.Tune tune;

    /** Tune-ok and connection.open for the pool's virtual host; on the loop. */
    private void openVirtualHost() {
        ProxyConfig config = engine.config();
        channelMax = Math.min(tune.channelMax() == 0 ? 65535 : tune.channelMax(), config.maxUpstreamChannels());
        long serverFrameMax = tune.frameMax() == 0 ? Integer.MAX_VALUE : tune.frameMax();
        frameMax = (int) Math.min(serverFrameMax, config.frameMax());
        int ours = (int) config.upstreamHeartbeat().toSeconds();
        heartbeatSeconds = ours == 0 ? 0 : tune.heartbeat() == 0 ? ours : Math.min(ours, tune.heartbeat());
        synchronized (this) {
            slots = new AtomicReferenceArray<>(channelMax + 1);
        }
        decoder.setMaxFrameSize(frameMax);
        state = State.OPENING;
        send(Frames.method(0, new ConnectionMethod.TuneOk(channelMax, frameMax, heartbeatSeconds)));
        send(Frames.method(0, new ConnectionMethod.Open(keyed.upstream().virtualHost(), "", false)));
    }

    /**
     * Joins a pool after a parked login, once the client named its virtual host. Called under the pool's lock;
     * the handshake continues on this connection's loop.
     */
    void adopt(KeyPool owner, KeyedCredentials key) {
        pool = owner;
        keyed = key;
        loop.execute(() -> {
            if (state == State.PARKED) {
                openVirtualHost();
            }
        });
    }

    /** A parked login nobody needs any more (its client left, or a pooled connection serves it). */
    void abandon() {
        loop.execute(() -> {
            if (state == State.PARKED) {
                state = State.CLOSED;
                timer.cancel();
                conn.abort();
            }
        });
    }

    private FieldTable clientProperties() {
        FieldValue yes = new FieldValue.Bool(true);
        FieldTable capabilities = FieldTable.builder()
                .put("publisher_confirms", yes)
                .put("exchange_exchange_bindings", yes)
                .put("basic.nack", yes)
                .put("consumer_cancel_notify", yes)
                .put("connection.blocked", yes)
                .put("authentication_failure_close", yes)
                .put("per_consumer_qos", yes)
                .put("direct_reply_to", yes)
                .build();
        String name = clientConnectionName == null ? "warren" : "warren: " + clientConnectionName;
        return FieldTable.builder()
                .put("product", LongString.of("Warren"))
                .put("version", LongString.of(ProxyEngine.VERSION))
                .put("platform", LongString.of("Java " + Runtime.version().feature()))
                .put("information", LongString.of("AMQP 0-9-1 proxy"))
                .put("capabilities", new FieldValue.Table(capabilities))
                .put("connection_name", LongString.of(Frames.truncate(name)))
                .build();
    }

    // ---------------------------------------------------------------- routing

    private void route(Frame frame) throws ProtocolException {
        int channel = frame.channel();
        if (channel == 0) {
            connectionFrame(frame);
            return;
        }
        ChannelLink link = channel < slots.length() ? slots.get(channel) : null;
        if (link == null) {
            return; // a channel nobody owns any more: the broker's late frames are dropped
        }
        BatchBuilder batch = batches.get(link.session);
        if (batch == null) {
            batch = new BatchBuilder();
            batches.put(link.session, batch);
        }
        Frames.copyFrame(frame.type(), link.clientChannel, frame.payload(), batch.data);
        batch.links.add(link);
    }

    private void dispatchBatches() {
        if (batches.isEmpty()) {
            return;
        }
        for (Map.Entry<ClientSession, BatchBuilder> e : batches.entrySet()) {
            ClientSession session = e.getKey();
            UpstreamBatch batch = new UpstreamBatch(e.getValue().data.take(), e.getValue().links);
            if (session.loop().inEventLoop()) {
                session.deliver(batch);
            } else {
                session.loop().execute(() -> session.deliver(batch));
            }
        }
        batches.clear();
    }

    private static final class BatchBuilder {
        final GrowableBuffer data = new GrowableBuffer(256);
        final List<ChannelLink> links = new ArrayList<>(4);
    }

    private void connectionFrame(Frame frame) throws ProtocolException {
        if (frame.type() != FrameType.METHOD) {
            return; // heartbeat
        }
        AmqpMethod method = MethodCodec.decode(frame.payload());
        if (method instanceof ConnectionMethod.Close close) {
            log.info("upstream {} closed by the broker: {} {}", id, close.replyCode(), close.replyText());
            pools.forgetProof(loginKey); // e.g. 320 "user 'x' is deleted": the login must be proven afresh
            send(Frames.method(0, new ConnectionMethod.CloseOk()));
            fail(new UpstreamError(close.replyCode(), close.replyText(), close.failingClassId(),
                    close.failingMethodId()));
            conn.close();
        } else if (method instanceof ConnectionMethod.CloseOk) {
            state = State.CLOSED;
            conn.close();
        } else if (method instanceof ConnectionMethod.Blocked || method instanceof ConnectionMethod.Unblocked) {
            log.info("upstream {}: {}", id, method);
            ByteBuffer encoded = Frames.method(0, method);
            for (ClientSession member : members) {
                ByteBuffer copy = encoded.duplicate();
                member.loop().execute(() -> member.upstreamBlocked(copy));
            }
        }
    }

    // ---------------------------------------------------------------- slots (called from client loops)

    /** Takes a free upstream channel for a client channel, or returns null when this connection is full. */
    synchronized ChannelLink allocate(ClientSession session, int clientChannel, boolean internal) {
        if (state != State.READY || openChannels >= channelMax) {
            return null;
        }
        int slot = nextSlot;
        while (slots.get(slot) != null) {
            slot = slot >= channelMax ? 1 : slot + 1;
        }
        nextSlot = slot >= channelMax ? 1 : slot + 1;
        ChannelTracker tracker = internal ? INTERNAL : engine.policy().track(session.channelContext(false));
        ChannelLink link = new ChannelLink(session, clientChannel, this, slot, tracker);
        slots.set(slot, link);
        openChannels++;
        members.add(session);
        engine.stats().upstreamChannelOpened();
        return link;
    }

    /**
     * Gives an idle, scrubbed channel to a new client: a new link takes over the slot, inheriting the channel's
     * confirm state. Returns null if the idle link no longer owns its slot.
     */
    synchronized ChannelLink lend(ChannelLink idle, ClientSession session, int clientChannel) {
        if (state != State.READY || slots.get(idle.upstreamChannel) != idle) {
            return null;
        }
        ChannelLink link = new ChannelLink(session, clientChannel, this, idle.upstreamChannel,
                engine.policy().track(session.channelContext(idle.confirmMode)));
        link.state = ChannelLink.State.OPEN;
        link.lent = true;
        link.confirmMode = idle.confirmMode;
        link.publishSeq = idle.publishSeq;
        link.confirmTagOffset = idle.publishSeq;
        idle.state = ChannelLink.State.CLOSED; // the old owner is done with it
        slots.set(idle.upstreamChannel, link);
        members.add(session);
        engine.stats().channelLent();
        return link;
    }

    /** Frees a slot once the broker and Warren both consider the channel closed. */
    void freeChannel(ChannelLink link) {
        synchronized (this) {
            if (slots.length() <= link.upstreamChannel || slots.get(link.upstreamChannel) != link) {
                return;
            }
            slots.set(link.upstreamChannel, null);
            openChannels--;
            if (openChannels == 0) {
                idleSinceNanos = System.nanoTime();
            }
        }
        engine.stats().upstreamChannelClosed();
    }

    synchronized int openChannels() {
        return openChannels;
    }


    void addMember(ClientSession session) {
        members.add(session);
    }

    void removeMember(ClientSession session) {
        members.remove(session);
        pausedClients.remove(session);
    }

    // ---------------------------------------------------------------- writing

    /** Queues bytes for the broker; any thread. Returns false when the write queue is above its high-water mark. */
    boolean send(ByteBuffer bytes) {
        Connection c = conn;
        if (c == null) {
            return true;
        }
        lastWriteNanos = System.nanoTime();
        engine.stats().upstreamBytesSent(bytes.remaining());
        boolean writable = c.write(bytes);
        engine.stats().upstreamWriteQueued(c.queuedBytes());
        return writable;
    }

    /** Guarded by itself: clients whose full write queues stopped this connection's reads. */
    private final Set<ClientSession> stallingClients = new java.util.HashSet<>();

    /** Stops reading from the broker until {@code client} drains (or is cut off); any thread. */
    void pauseReadsFor(ClientSession client) {
        synchronized (stallingClients) {
            if (stallingClients.add(client) && stallingClients.size() == 1 && conn != null) {
                conn.setReadPaused(true);
            }
        }
    }

    void resumeReadsFor(ClientSession client) {
        synchronized (stallingClients) {
            if (stallingClients.remove(client) && stallingClients.isEmpty() && conn != null) {
                conn.setReadPaused(false);
                loop.execute(() -> lastReadNanos = System.nanoTime()); // silence while paused was ours
            }
        }
    }

    private boolean readsPaused() {
        synchronized (stallingClients) {
            return !stallingClients.isEmpty();
        }
    }

    /** Registers a client to resume when this connection drains. */
    void whenWritable(ClientSession session) {
        pausedClients.add(session);
        Connection c = conn;
        if (c == null || c.isWritable()) {
            onWritable(c); // drained before we registered
        }
    }

    // ---------------------------------------------------------------- liveness and idle

    private void startHousekeeping() {
        long heartbeatPeriod = heartbeatSeconds > 0 ? heartbeatSeconds * 1000L / 2 : Long.MAX_VALUE;
        long period = Math.max(100, Math.min(1000, heartbeatPeriod));
        timer = loop.schedule(new Runnable() {
            @Override
            public void run() {
                if (state != State.READY) {
                    return;
                }
                long now = System.nanoTime();
                if (heartbeatSeconds > 0) {
                    long interval = TimeUnit.SECONDS.toNanos(heartbeatSeconds);
                    if (!readsPaused() && now - lastReadNanos > 2 * interval) {
                        log.warn("upstream {}: missed heartbeats from the broker ({} s), closing", id,
                                heartbeatSeconds);
                        fail(UpstreamError.of(ReplyCode.CONNECTION_FORCED, "missed heartbeats from upstream "
                                + upstreamName() + ", timeout " + heartbeatSeconds + " s"));
                        return;
                    }
                    if (now - lastWriteNanos >= interval / 2) {
                        send(Frames.heartbeat());
                    }
                }
                for (ChannelLink expired : pool.expireIdle(UpstreamConnection.this, now)) {
                    expired.session.loop().execute(() -> expired.session.releaseIdle(expired));
                }
                if (openChannels() == 0 && pool.mayCloseIdle(UpstreamConnection.this, idleExpired(now))) {
                    log.info("upstream {} has no channels and is idle or superseded, closing", id);
                    closeGracefully();
                    return;
                }
                timer = loop.schedule(this, nextCheckMillis(period, now), TimeUnit.MILLISECONDS);
            }
        }, period, TimeUnit.MILLISECONDS);
    }

    /**
     * The next housekeeping run: after {@code period}, or just after the broker's silence reaches two heartbeat
     * intervals if that comes first, so a dead broker is noticed then and not up to a period later.
     */
    private long nextCheckMillis(long period, long now) {
        if (heartbeatSeconds == 0 || readsPaused()) {
            return period;
        }
        long silentUntil = lastReadNanos + 2 * TimeUnit.SECONDS.toNanos(heartbeatSeconds);
        return Math.max(1, Math.min(period, TimeUnit.NANOSECONDS.toMillis(silentUntil - now) + 1));
    }

    private synchronized boolean idleExpired(long now) {
        return openChannels == 0
                && now - idleSinceNanos >= engine.config().idleConnectionTimeout().toNanos();
    }

    /** connection.close to the broker; the pool has already forgotten this connection. */
    void closeGracefully() {
        if (state == State.CLOSED || state == State.CLOSING) {
            return;
        }
        if (conn == null || state != State.READY) {
            state = State.CLOSED;
            if (conn != null) {
                conn.abort();
            }
            engine.stats().upstreamDisconnected(false);
            return;
        }
        state = State.CLOSING;
        if (pool != null) {
            pool.dropIdle(this);
        }
        send(Frames.method(0, new ConnectionMethod.Close(ReplyCode.REPLY_SUCCESS.code(), "Goodbye", 0, 0)));
        engine.stats().upstreamDisconnected(true);
        loop.schedule(() -> {
            if (state != State.CLOSED) {
                state = State.CLOSED;
                conn.abort();
            }
        }, 5, TimeUnit.SECONDS);
    }

    private void closeWithError(ReplyCode code, String text) {
        if (conn != null && state != State.CLOSED) {
            send(Frames.method(0, Frames.connectionClose(code, text, 0, 0)));
            conn.close();
        }
    }

    /** The connection is finished for good: every client on it is told, the pool forgets it. */
    private void fail(UpstreamError error) {
        State before = state;
        if (before == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (timer != null) {
            timer.cancel();
        }
        if (conn != null && conn.isOpen()) {
            conn.close();
        }
        if (before == State.READY || before == State.CLOSING) {
            if (before == State.READY) {
                log.warn("upstream {} to {} failed: {} {}", id, upstreamName(), error.code(), error.text());
                engine.stats().upstreamDisconnected(false);
            }
        } else {
            log.warn("upstream connection to {} as {} failed: {} {}", upstreamName(), keyed == null ? loginKey
                    : keyed.key(), error.code(), error.text());
            engine.stats().upstreamConnectFailed();
        }
        if (pool != null) {
            pool.connectionFailed(this, error, before == State.READY || before == State.CLOSING);
        } else if (attempt != null) {
            pools.loginFinished(attempt, null, error);
        }
        for (ClientSession member : members) {
            member.loop().execute(() -> member.upstreamClosed(this, error));
        }
        members.clear();
    }

    @Override
    public String toString() {
        return "upstream " + id + " " + state + " " + (keyed == null ? loginKey : keyed.key());
    }
}
