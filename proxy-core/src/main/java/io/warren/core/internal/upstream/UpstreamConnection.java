package io.warren.core.internal.upstream;

import io.warren.api.KeyedCredentials;
import io.warren.api.PoolKey;
import io.warren.api.UpstreamCredentials;
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
import io.warren.core.admin.UpstreamView;
import io.warren.core.internal.stats.EngineStats;
import io.warren.core.internal.wire.Frames;
import io.warren.core.internal.wire.PeerProperties;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection to the broker, shared by every client of one pool key: its handshake (Warren is the client), the
 * routing of the broker's frames to whoever holds each channel at that moment, heartbeats and idle housekeeping.
 *
 * <p>Threading: the handshake, routing and housekeeping run on this connection's event loop ({@link #loop()}).
 * Channels are allocated, lent and freed from client loops, under the {@link SlotTable}'s lock; {@link #send} and the
 * read pauses may be called from any thread.
 */
public final class UpstreamConnection implements ConnectionHandler {
    private static final Logger log = LoggerFactory.getLogger(UpstreamConnection.class);
    private static final AtomicLong IDS = new AtomicLong();

    /**
     * CONNECTING and HANDSHAKE until the broker accepted the login (its connection.tune); a connection dialed only
     * to prove a client's login then waits PARKED until that client names its virtual host; OPENING until open-ok.
     */
    public enum State { CONNECTING, HANDSHAKE, PARKED, OPENING, READY, CLOSING, CLOSED }

    private final long id = IDS.incrementAndGet();
    private final Cluster cluster;
    private final Node node;
    private final EngineStats stats;
    private final Logins logins;
    private final PoolKey loginKey;
    /** Clients waiting for this connection's login to be proven; null for a connection dialed by a pool. */
    private final LoginAttempt attempt;
    private final EventLoop loop;
    private final AmqpClientHandshake handshake;
    private final FrameDecoder decoder;
    private final SlotTable slots = new SlotTable();
    /** Owners that authenticated through or hold channels on this connection: told when it dies or is blocked. */
    private final Set<ChannelOwner> members = ConcurrentHashMap.newKeySet();
    /** Owners that stopped reading their clients because this connection's write queue was full. */
    private final Set<ChannelOwner> waitingForWritable = ConcurrentHashMap.newKeySet();
    private final ReadPause readPause = new ReadPause();
    private final FrameRouter router = new FrameRouter(slots);
    /** Set when the connection joins a pool: at creation, or on adoption after a parked login. */
    private volatile UpstreamPool pool;
    private volatile KeyedCredentials keyed;
    private volatile State state = State.CONNECTING;
    private volatile Connection conn;
    private volatile long lastWriteNanos = System.nanoTime();
    private long lastReadNanos = System.nanoTime();
    private int heartbeatSeconds;
    /** Agreed at tune, before any channel is lent; read by client loops laying out held messages. */
    private volatile int frameMax;
    private EventLoop.Cancellable timer;
    /** When this connection's login succeeded; a later client with the same key may rely on it for a while. */
    private volatile long authenticatedNanos;
    /** Whether {@link #start} counted this connection on its node (until it is closed). */
    private volatile boolean started;
    private volatile boolean nodeFault;
    /** Whether the broker sent connection.blocked (and no unblocked since); loop only. */
    private boolean blocked;
    /** When it was dialed, for the admin API (wall clock). */
    private final long createdMillis = System.currentTimeMillis();

    /** A connection of a pool to {@code node}, opened through to the key's virtual host. */
    public UpstreamConnection(Cluster cluster, Node node, UpstreamPool pool, KeyedCredentials keyed,
            PoolKey loginKey, Logins logins, EventLoop loop, String clientConnectionName) {
        this(cluster, node, pool, keyed, loginKey, keyed.upstream(), logins, null, loop, clientConnectionName);
    }

    /** A connection to {@code node} that proves a login, then parks until {@link #adopt}ed or {@link #abandon}ed. */
    public UpstreamConnection(Cluster cluster, Node node, PoolKey loginKey, UpstreamCredentials login, Logins logins,
            LoginAttempt attempt, EventLoop loop, String clientConnectionName) {
        this(cluster, node, null, null, loginKey, login, logins, attempt, loop, clientConnectionName);
    }

    private UpstreamConnection(Cluster cluster, Node node, UpstreamPool pool, KeyedCredentials keyed,
            PoolKey loginKey, UpstreamCredentials login, Logins logins, LoginAttempt attempt, EventLoop loop,
            String clientConnectionName) {
        this.cluster = cluster;
        this.node = node;
        this.stats = cluster.stats();
        this.pool = pool;
        this.keyed = keyed;
        this.loginKey = loginKey;
        this.logins = logins;
        this.attempt = attempt;
        this.loop = loop;
        this.handshake = new AmqpClientHandshake(PeerProperties.asClient(clientConnectionName), login.username(),
                login.password(), cluster.limits());
        this.decoder = new FrameDecoder(cluster.config().frameMax());
    }

    public long id() {
        return id;
    }

    public State state() {
        return state;
    }

    public EventLoop loop() {
        return loop;
    }

    public Cluster cluster() {
        return cluster;
    }

    /** The node this connection is to. */
    public Node node() {
        return node;
    }

    /** The pool this connection belongs to; null for a parked login not yet adopted. */
    public UpstreamPool pool() {
        return pool;
    }

    /** The frame_max agreed with the broker (Warren's {@code frame-max} or the broker's, the lower). */
    public int frameMax() {
        return frameMax;
    }

    /** The pool key and credentials of the pool this connection belongs to; null before it joins one. */
    public KeyedCredentials keyed() {
        return keyed;
    }

    public long authenticatedNanos() {
        return authenticatedNanos;
    }

    public void start() {
        started = true;
        node.connectionStarted();
        cluster.dial(node, loop, this);
        timer = loop.schedule(() -> {
            if (state != State.READY && state != State.CLOSING && state != State.CLOSED) {
                fail(UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream " + node.name()
                        + " did not complete the AMQP handshake within " + cluster.config().upstreamConnectTimeout()),
                        true);
            }
        }, cluster.config().upstreamConnectTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------- transport events

    @Override
    public void onOpen(Connection connection) {
        assert loop.inEventLoop();
        conn = connection;
        state = State.HANDSHAKE;
        send(AmqpClientHandshake.protocolHeader());
    }

    @Override
    public void onRead(Connection connection, ByteBuffer data) {
        assert loop.inEventLoop();
        lastReadNanos = System.nanoTime();
        stats.upstreamBytesReceived(data.remaining());
        int framesRead = 0; // added once per read, in finally: also the frames before an error count
        try {
            Frame frame;
            while (state != State.CLOSED && (frame = decoder.next(data)) != null) {
                framesRead++;
                if (state == State.READY || state == State.CLOSING) {
                    route(frame);
                } else {
                    handshake(frame);
                }
            }
        } catch (ProtocolException e) {
            log.warn("upstream {}: broker sent a malformed frame: {} {}", id, e.replyCode().code(), e.getMessage());
            closeWithError(e.replyCode(), e.getMessage());
            fail(UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream " + node.name() + " sent a malformed frame: "
                    + e.getMessage()), true);
        } finally {
            stats.upstreamFramesReceived(framesRead);
            router.dispatch();
        }
    }

    @Override
    public void onWritable(Connection connection) {
        for (ChannelOwner owner : waitingForWritable) {
            waitingForWritable.remove(owner);
            owner.loop().execute(owner::upstreamWritable);
        }
    }

    @Override
    public void onClose(Connection connection, Throwable cause) {
        assert loop.inEventLoop();
        if (state == State.CLOSED) {
            return;
        }
        boolean tlsWithoutClientCertificate = state == State.HANDSHAKE && cluster.presentsNoClientCertificate(connection);
        fail(UpstreamFailures.socketClosed(node, conn != null, state != State.READY && state != State.CLOSING,
                tlsWithoutClientCertificate, cause), true);
    }

    // ---------------------------------------------------------------- handshake (Warren is the client here)

    private void handshake(Frame frame) throws ProtocolException {
        if (frame.type() == FrameType.HEARTBEAT) {
            return;
        }
        if (frame.type() != FrameType.METHOD || frame.channel() != 0) {
            throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, "unexpected frame during handshake");
        }
        AmqpClientHandshake.Stage before = handshake.stage();
        for (AmqpMethod reply : handshake.receive(MethodCodec.decode(frame.payload()))) {
            send(Frames.method(0, reply));
        }
        AmqpClientHandshake.Stage now = handshake.stage();
        if (now == before) {
            return;
        }
        switch (now) {
            case AWAIT_TUNE -> cluster.learn(handshake.serverProperties());
            case TUNED -> {
                // The broker checks the password before it tunes: the login is proven (DESIGN.md invariant 2).
                logins.proven(loginKey);
                if (attempt != null && keyed == null) {
                    state = State.PARKED;
                    attempt.finished(this, null, false);
                } else {
                    openVirtualHost();
                }
            }
            case OPEN -> opened();
            case REFUSED -> fail(handshake.refusal(), !UpstreamFailures.isClientsFault(handshake.refusal().code()));
            default -> { }
        }
    }

    /** Tune-ok and connection.open for the pool's virtual host; on the loop. */
    private void openVirtualHost() {
        AmqpClientHandshake.Tuning tuning = handshake.tuning();
        frameMax = tuning.frameMax();
        heartbeatSeconds = tuning.heartbeatSeconds();
        slots.size(tuning.channelMax());
        decoder.setMaxFrameSize(frameMax);
        state = State.OPENING;
        for (AmqpMethod m : handshake.open(keyed.upstream().virtualHost())) {
            send(Frames.method(0, m));
        }
    }

    private void opened() {
        authenticatedNanos = System.nanoTime();
        state = State.READY;
        timer.cancel();
        startHousekeeping();
        log.info("upstream {} connected to {} as {} (channel_max {}, frame_max {}, heartbeat {} s)", id,
                node.name(), keyed.key(), handshake.tuning().channelMax(), frameMax, heartbeatSeconds);
        cluster.opened(keyed.upstream());
        stats.upstreamConnected();
        pool.connectionReady(this);
    }

    /**
     * Joins a pool after a parked login, once the client named its virtual host. Called under the pool's lock; the
     * handshake continues on this connection's loop.
     */
    public void adopt(UpstreamPool owner, KeyedCredentials key) {
        pool = owner;
        keyed = key;
        loop.execute(() -> {
            if (state == State.PARKED) {
                openVirtualHost();
            }
        });
    }

    /** A parked login nobody needs any more (its client left, or a pooled connection serves it). */
    public void abandon() {
        loop.execute(() -> {
            if (state == State.PARKED) {
                closed();
                timer.cancel();
                conn.abort();
            }
        });
    }

    // ---------------------------------------------------------------- routing

    private void route(Frame frame) throws ProtocolException {
        if (frame.channel() == 0) {
            connectionFrame(frame);
        } else {
            router.route(frame);
        }
    }

    private void connectionFrame(Frame frame) throws ProtocolException {
        if (frame.type() != FrameType.METHOD) {
            return; // heartbeat
        }
        AmqpMethod method = MethodCodec.decode(frame.payload());
        if (method instanceof ConnectionMethod.Close close) {
            log.info("upstream {} closed by the broker: {} {}", id, close.replyCode(), close.replyText());
            logins.forget(loginKey); // e.g. 320 "user 'x' is deleted": the login must be proven afresh
            send(Frames.method(0, new ConnectionMethod.CloseOk()));
            fail(UpstreamFailures.brokerClosed(node, close), UpstreamFailures.isNodeGoing(close));
            conn.close();
        } else if (method instanceof ConnectionMethod.CloseOk) {
            closed();
            conn.close();
        } else if (method instanceof ConnectionMethod.Blocked || method instanceof ConnectionMethod.Unblocked) {
            log.info("upstream {}: {}", id, method);
            blocked = method instanceof ConnectionMethod.Blocked;
            ByteBuffer encoded = Frames.method(0, method);
            for (ChannelOwner member : members) {
                ByteBuffer copy = encoded.duplicate();
                member.loop().execute(() -> member.upstreamBlocked(copy));
            }
        }
    }

    // ---------------------------------------------------------------- channels (called from client loops)

    /** Takes a free channel for {@code owner}, not yet opened upstream; null when this connection is full or going. */
    public UpstreamChannel allocate(ChannelOwner owner) {
        if (state != State.READY) {
            return null;
        }
        UpstreamChannel channel = slots.allocate(this);
        if (channel == null) {
            return null;
        }
        members.add(owner);
        stats.upstreamChannelOpened();
        return channel;
    }

    /**
     * Lends the idle channel {@code returned} scrubbed to {@code owner}, which takes it over as it is (open, with its
     * confirm state). Called under the pool's lock.
     *
     * @return false if the connection is going or the channel no longer has its slot
     */
    public boolean lend(Scrubber returned, ChannelOwner owner) {
        if (state != State.READY || !slots.holds(returned.channel())) {
            return false;
        }
        returned.lent();
        members.add(owner);
        stats.channelLent();
        return true;
    }

    /** Frees a slot once the broker and Warren both consider the channel closed. */
    void freeChannel(UpstreamChannel channel) {
        if (slots.free(channel)) {
            stats.upstreamChannelClosed();
        }
    }

    public int openChannels() {
        return slots.open();
    }

    public void addMember(ChannelOwner owner) {
        members.add(owner);
    }

    public void removeMember(ChannelOwner owner) {
        members.remove(owner);
        waitingForWritable.remove(owner);
    }

    // ---------------------------------------------------------------- writing

    /** Queues bytes for the broker; any thread. Returns false when the write queue is above its high-water mark. */
    public boolean send(ByteBuffer bytes) {
        Connection c = conn;
        if (c == null) {
            return true;
        }
        lastWriteNanos = System.nanoTime();
        stats.upstreamBytesSent(bytes.remaining());
        boolean writable = c.write(bytes);
        stats.upstreamWriteQueued(c.queuedBytes());
        return writable;
    }

    /** Sends one whole frame at once; any thread. */
    void sendFrame(ByteBuffer frame) {
        stats.upstreamFrameSent();
        send(frame);
    }

    /** Stops reading from the broker until {@code client} drains (or is cut off); any thread. */
    public void pauseReadsFor(ChannelOwner client) {
        readPause.pauseFor(client, conn);
    }

    public void resumeReadsFor(ChannelOwner client) {
        if (readPause.resumeFor(client, conn)) {
            loop.execute(() -> lastReadNanos = System.nanoTime()); // silence while paused was ours
        }
    }

    /** Tells {@code owner} (on its loop) when this connection drains below its low-water mark. */
    public void whenWritable(ChannelOwner owner) {
        waitingForWritable.add(owner);
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
                assert loop.inEventLoop();
                if (state != State.READY) {
                    return;
                }
                long now = System.nanoTime();
                if (heartbeatSeconds > 0) {
                    long interval = TimeUnit.SECONDS.toNanos(heartbeatSeconds);
                    if (!readPause.paused() && now - lastReadNanos > 2 * interval) {
                        log.warn("upstream {}: missed heartbeats from the broker ({} s), closing", id,
                                heartbeatSeconds);
                        fail(UpstreamError.of(ReplyCode.CONNECTION_FORCED, "missed heartbeats from upstream "
                                + node.name() + ", timeout " + heartbeatSeconds + " s"), true);
                        return;
                    }
                    if (now - lastWriteNanos >= interval / 2) {
                        send(Frames.heartbeat());
                    }
                }
                for (Scrubber expired : pool.expireIdle(UpstreamConnection.this, now)) {
                    expired.loop().execute(expired::expire);
                }
                boolean idleExpired = slots.idleFor(now, cluster.config().idleConnectionTimeout().toNanos());
                if (slots.open() == 0 && pool.mayCloseIdle(UpstreamConnection.this, idleExpired)) {
                    log.info("upstream {} has no channels and is {}, closing", id,
                            node.draining() ? "on a draining node" : "idle or superseded");
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
        if (heartbeatSeconds == 0 || readPause.paused()) {
            return period;
        }
        long silentUntil = lastReadNanos + 2 * TimeUnit.SECONDS.toNanos(heartbeatSeconds);
        return Math.max(1, Math.min(period, TimeUnit.NANOSECONDS.toMillis(silentUntil - now) + 1));
    }

    /** connection.close to the broker; the pool has already forgotten this connection. */
    public void closeGracefully() {
        if (state == State.CLOSED || state == State.CLOSING) {
            return;
        }
        if (conn == null || state != State.READY) {
            closed();
            if (conn != null) {
                conn.abort();
            }
            stats.upstreamDisconnected(false);
            return;
        }
        state = State.CLOSING;
        if (pool != null) {
            pool.dropIdle(this);
        }
        send(Frames.method(0, new ConnectionMethod.Close(ReplyCode.REPLY_SUCCESS.code(), "Goodbye", 0, 0)));
        stats.upstreamDisconnected(true);
        loop.schedule(() -> {
            if (state != State.CLOSED) {
                closed();
                conn.abort();
            }
        }, Frames.CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void closeWithError(ReplyCode code, String text) {
        if (conn != null && state != State.CLOSED) {
            send(Frames.method(0, Frames.connectionClose(code, text, 0, 0)));
            conn.close();
        }
    }

    /**
     * The connection is finished for good: every member is told, the pool forgets it.
     *
     * @param nodeFault whether it says something of the node rather than of the client's credentials (refused,
     *     dropped, shut down, silent): the node goes down
     */
    private void fail(UpstreamError error, boolean nodeFault) {
        State before = state;
        if (before == State.CLOSED) {
            return;
        }
        closed();
        this.nodeFault = nodeFault;
        if (timer != null) {
            timer.cancel();
        }
        if (conn != null && conn.isOpen()) {
            conn.close();
        }
        if (before == State.READY || before == State.CLOSING) {
            if (before == State.READY) {
                log.warn("upstream {} to {} failed: {} {}", id, node.name(), error.code(), error.text());
                stats.upstreamDisconnected(false);
            }
        } else {
            log.warn("upstream connection to {} as {} failed: {} {}", node.name(), keyed == null ? loginKey
                    : keyed.key(), error.code(), error.text());
            stats.upstreamConnectFailed();
            node.connectFailed();
        }
        if (nodeFault) {
            cluster.nodeFailed(node, error);
        }
        if (pool != null) {
            pool.connectionFailed(this, error, before == State.READY || before == State.CLOSING);
        } else if (attempt != null) {
            attempt.finished(null, error, nodeFault);
        }
        for (ChannelOwner member : members) {
            member.loop().execute(() -> member.upstreamClosed(this, error));
        }
        members.clear();
    }

    /** Whether this connection ended for a reason that took its node down (read once it failed). */
    public boolean failedWithNode() {
        return nodeFault;
    }

    /** The connection is over: its node counts it no more (once). */
    private void closed() {
        if (state != State.CLOSED) {
            state = State.CLOSED;
            if (started) {
                started = false;
                node.connectionEnded();
            }
        }
    }

    /**
     * What the admin API shows of this connection now; on its loop.
     *
     * @param idleChannels its channels waiting idle in the pool (counted by the pool, under its lock)
     * @param eventLoop the index of its loop among the runtime's
     */
    public UpstreamView view(int idleChannels, int eventLoop) {
        assert loop.inEventLoop();
        KeyedCredentials key = keyed;
        int clients = 0;
        for (ChannelOwner m : members) {
            clients += m.isClient() ? 1 : 0;
        }
        return new UpstreamView(id, node.name(), key == null ? loginKey.id() : key.key().id(),
                key == null ? "" : key.upstream().username(), key == null ? "" : key.upstream().virtualHost(),
                state.name().toLowerCase(Locale.ROOT), Math.max(0, slots.open() - idleChannels), idleChannels,
                clients, Instant.ofEpochMilli(createdMillis), heartbeatSeconds,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastReadNanos), blocked, eventLoop);
    }

    @Override
    public String toString() {
        return "upstream " + id + " " + state + " " + (keyed == null ? loginKey : keyed.key());
    }
}
