package io.warren.core;

import io.warren.api.KeyedCredentials;
import io.warren.api.PoolKey;
import io.warren.codec.ReplyCode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream connections of one pool key, and the clients waiting for one.
 *
 * <p>Lock: {@code this} guards every field; it may be held while taking an {@link UpstreamConnection}'s own lock,
 * never the other way round. Callbacks to clients are always handed to their loops, never run under the lock.
 */
final class KeyPool {
    private static final Logger log = LoggerFactory.getLogger(KeyPool.class);
    private static final long MIN_BACKOFF_NANOS = 100_000_000L;
    private static final long MAX_BACKOFF_NANOS = 5_000_000_000L;

    private final ProxyEngine engine;
    private final KeyedCredentials keyed;
    private final List<UpstreamConnection> connections = new ArrayList<>(2);
    private final List<ClientSession> authWaiters = new ArrayList<>();
    private final ArrayDeque<ChannelWaiter> channelWaiters = new ArrayDeque<>();
    /** Scrubbed channels ready to lend, most recently returned last (lent first: keeps few channels warm). */
    private final ArrayDeque<ChannelLink> idlePlain = new ArrayDeque<>();
    private final ArrayDeque<ChannelLink> idleConfirm = new ArrayDeque<>();
    /** Channels being scrubbed right now: one of them is usually about to come back. */
    private final java.util.Set<ChannelLink> scrubbing = new java.util.HashSet<>();
    /** Clients that asked for a channel while none was idle but some were being scrubbed. */
    private final ArrayDeque<ScrubWaiter> scrubWaiters = new ArrayDeque<>();
    private int clients;
    private int consecutiveFailures;
    private long retryAtNanos;
    private UpstreamError lastError;

    private record ChannelWaiter(ClientSession session, int clientChannel) {}

    /** A client waiting briefly for a scrubbed channel; {@code served} is guarded by the pool's lock. */
    static final class ScrubWaiter {
        final ClientSession session;
        final int clientChannel;
        boolean served;

        ScrubWaiter(ClientSession session, int clientChannel) {
            this.session = session;
            this.clientChannel = clientChannel;
        }
    }

    KeyPool(ProxyEngine engine, KeyedCredentials keyed) {
        this.engine = engine;
        this.keyed = keyed;
    }

    /**
     * Finds an upstream connection for a client whose login is already proven: answered on the client's loop by
     * upstreamReady or upstreamFailed. {@code parked} is the connection that proved the login, if this client
     * dialed one: it joins the pool unless a connection is already open.
     */
    synchronized void authenticate(ClientSession session, String connectionName, UpstreamConnection parked) {
        long now = System.nanoTime();
        for (UpstreamConnection c : connections) {
            if (c.state() == UpstreamConnection.State.READY) {
                clients++;
                c.addMember(session);
                session.loop().execute(() -> session.upstreamReady(c));
                if (parked != null) {
                    parked.abandon();
                }
                return;
            }
        }
        if (parked != null) {
            connections.add(parked);
            authWaiters.add(session);
            parked.adopt(this, keyed);
            return;
        }
        if (lastError != null && now < retryAtNanos) {
            // The broker failed us moments ago: answer at once instead of storming it (DESIGN.md invariant 7).
            UpstreamError error = lastError.backingOff(retryAtNanos - now);
            session.loop().execute(() -> session.upstreamFailed(error));
            return;
        }
        authWaiters.add(session);
        if (!hasConnecting()) {
            dial(session.loop(), connectionName, session.loginKey());
        }
    }

    /** A channel on a connection with room, preferring the client's own; null when all are full. */
    synchronized ChannelLink allocate(UpstreamConnection preferred, ClientSession session, int clientChannel,
            boolean internal) {
        if (!internal) {
            ChannelLink lent = lend(idlePlain, session, clientChannel);
            if (lent != null) {
                return lent;
            }
        }
        if (preferred != null && connections.contains(preferred)) {
            ChannelLink link = preferred.allocate(session, clientChannel, internal);
            if (link != null) {
                return link;
            }
        }
        for (UpstreamConnection c : connections) {
            if (c != preferred) {
                ChannelLink link = c.allocate(session, clientChannel, internal);
                if (link != null) {
                    return link;
                }
            }
        }
        return null;
    }

    /** Waits for a channel on a new connection (all current ones are full). */
    synchronized void awaitChannel(ClientSession session, int clientChannel) {
        channelWaiters.add(new ChannelWaiter(session, clientChannel));
        if (!hasConnecting()) {
            dial(session.loop(), null, session.loginKey());
        }
    }

    /** A scrubbed plain channel, or null when none is idle. */
    synchronized ChannelLink lendIdle(ClientSession session, int clientChannel) {
        return lend(idlePlain, session, clientChannel);
    }

    /**
     * Registers a client to be handed the next plain channel whose scrub completes; null when no scrub is under
     * way (then the caller opens a new channel at once).
     */
    synchronized ScrubWaiter awaitScrub(ClientSession session, int clientChannel) {
        if (scrubbing.isEmpty()) {
            return null;
        }
        ScrubWaiter w = new ScrubWaiter(session, clientChannel);
        scrubWaiters.add(w);
        return w;
    }

    /** Gives up waiting; true if the waiter had not been served (the caller then opens a channel itself). */
    synchronized boolean cancelScrubWait(ScrubWaiter w) {
        scrubWaiters.remove(w);
        boolean unserved = !w.served;
        w.served = true;
        return unserved;
    }

    synchronized void scrubStarted(ChannelLink link) {
        scrubbing.add(link);
    }

    synchronized void scrubEnded(ChannelLink link) {
        scrubbing.remove(link);
    }

    /** Lends a scrubbed confirm-mode channel to a client that asked for confirm.select; null if none. */
    synchronized ChannelLink lendConfirmChannel(ClientSession session, int clientChannel) {
        return lend(idleConfirm, session, clientChannel);
    }

    private ChannelLink lend(ArrayDeque<ChannelLink> idle, ClientSession session, int clientChannel) {
        ChannelLink old;
        while ((old = idle.pollLast()) != null) {
            engine.stats().idleChannelUnpooled();
            ChannelLink link = old.upstream.lend(old, session, clientChannel);
            if (link != null) {
                return link;
            }
        }
        return null;
    }

    /**
     * Takes a scrubbed channel into the idle pool.
     *
     * @return false when the pool is full or the connection is going: the caller closes the channel instead
     */
    synchronized boolean offerIdle(ChannelLink link) {
        scrubbing.remove(link);
        if (!link.confirmMode && link.upstream.state() == UpstreamConnection.State.READY) {
            ScrubWaiter w;
            while ((w = scrubWaiters.poll()) != null) {
                ChannelLink lent = link.upstream.lend(link, w.session, w.clientChannel);
                if (lent == null) {
                    scrubWaiters.addFirst(w);
                    break;
                }
                w.served = true;
                ClientSession s = w.session;
                s.loop().execute(() -> s.channelAllocated(lent));
                return true;
            }
        }
        if (idlePlain.size() + idleConfirm.size() >= engine.config().maxIdleChannelsPerKey()
                || link.upstream.state() != UpstreamConnection.State.READY || !connections.contains(link.upstream)) {
            return false;
        }
        link.idleSinceNanos = System.nanoTime();
        (link.confirmMode ? idleConfirm : idlePlain).addLast(link);
        engine.stats().idleChannelPooled();
        return true;
    }

    /** Removes and returns the idle channels of {@code c} that waited longer than the idle channel timeout. */
    synchronized List<ChannelLink> expireIdle(UpstreamConnection c, long now) {
        long timeout = engine.config().idleChannelTimeout().toNanos();
        List<ChannelLink> expired = new ArrayList<>(0);
        for (ArrayDeque<ChannelLink> idle : List.of(idlePlain, idleConfirm)) {
            idle.removeIf(link -> {
                boolean old = link.upstream == c && now - link.idleSinceNanos >= timeout;
                if (old) {
                    expired.add(link);
                    engine.stats().idleChannelUnpooled();
                }
                return old;
            });
        }
        return expired;
    }

    synchronized int idleChannels() {
        return idlePlain.size() + idleConfirm.size();
    }

    synchronized void cancelWaits(ClientSession session) {
        authWaiters.remove(session);
        channelWaiters.removeIf(w -> w.session() == session);
    }

    synchronized void clientGone(ClientSession session) {
        clients = Math.max(0, clients - 1);
        for (UpstreamConnection c : connections) {
            c.removeMember(session);
        }
    }

    /** A client moved to another key (connection.update-secret): it no longer counts here; its channels stay. */
    synchronized void clientLeft() {
        clients = Math.max(0, clients - 1);
    }

    /** A client that had moved to another key is gone: it no longer hears from this key's connections. */
    synchronized void forgetMember(ClientSession session) {
        for (UpstreamConnection c : connections) {
            c.removeMember(session);
        }
    }

    synchronized void connectionReady(UpstreamConnection c) {
        consecutiveFailures = 0;
        lastError = null;
        for (ClientSession session : authWaiters) {
            clients++;
            c.addMember(session);
            session.loop().execute(() -> session.upstreamReady(c));
        }
        authWaiters.clear();
        for (Iterator<ChannelWaiter> it = channelWaiters.iterator(); it.hasNext(); ) {
            ChannelWaiter w = it.next();
            ChannelLink link = c.allocate(w.session(), w.clientChannel(), false);
            if (link == null) {
                break;
            }
            it.remove();
            w.session().loop().execute(() -> w.session().channelAllocated(link));
        }
        if (!channelWaiters.isEmpty()) {
            ClientSession first = channelWaiters.peek().session();
            dial(first.loop(), null, first.loginKey());
        }
    }

    synchronized void connectionFailed(UpstreamConnection c, UpstreamError error, boolean wasReady) {
        connections.remove(c);
        dropIdleOf(c);
        scrubbing.removeIf(link -> link.upstream == c);
        if (!wasReady) {
            consecutiveFailures++;
            long backoff = Math.min(MAX_BACKOFF_NANOS, MIN_BACKOFF_NANOS << Math.min(consecutiveFailures - 1, 6));
            retryAtNanos = System.nanoTime() + backoff;
            lastError = error;
        }
        if (hasConnecting()) {
            return; // another attempt is under way; waiters stay
        }
        for (ClientSession session : authWaiters) {
            session.loop().execute(() -> session.upstreamFailed(error));
        }
        authWaiters.clear();
        for (ChannelWaiter w : channelWaiters) {
            w.session().loop().execute(() -> w.session().channelAllocationFailed(w.clientChannel(), error));
        }
        channelWaiters.clear();
        boolean backingOff = lastError != null && System.nanoTime() < retryAtNanos;
        if (connections.isEmpty() && clients == 0 && !backingOff) {
            // Kept while backing off: a fresh pool would dial at once, so every client would be an attempt.
            engine.pools().forget(keyed.key(), this);
        }
    }

    /**
     * Whether a connection without channels may close now: when a newer login of the same key superseded it
     * (re-authentication), or when it has been idle long enough and is not the last one while this key has clients.
     */
    synchronized boolean mayCloseIdle(UpstreamConnection c, boolean idleExpired) {
        boolean superseded = false;
        boolean another = false;
        for (UpstreamConnection o : connections) {
            if (o != c && o.state() == UpstreamConnection.State.READY) {
                another = true;
                superseded |= o.authenticatedNanos() > c.authenticatedNanos();
            }
        }
        if (!superseded && !(idleExpired && (clients == 0 || another))) {
            return false;
        }
        connections.remove(c);
        if (connections.isEmpty() && clients == 0) {
            engine.pools().forget(keyed.key(), this);
        }
        return true;
    }

    /** Idle channels of a connection that is closing: nobody may borrow them any more. */
    synchronized void dropIdle(UpstreamConnection c) {
        dropIdleOf(c);
    }

    private void dropIdleOf(UpstreamConnection c) {
        for (ArrayDeque<ChannelLink> idle : List.of(idlePlain, idleConfirm)) {
            idle.removeIf(link -> {
                if (link.upstream == c) {
                    engine.stats().idleChannelUnpooled();
                    return true;
                }
                return false;
            });
        }
    }

    synchronized List<UpstreamConnection> connections() {
        return List.copyOf(connections);
    }

    private boolean hasConnecting() {
        for (UpstreamConnection c : connections) {
            UpstreamConnection.State s = c.state();
            if (s != UpstreamConnection.State.READY && s != UpstreamConnection.State.CLOSING
                    && s != UpstreamConnection.State.CLOSED) {
                return true;
            }
        }
        return false;
    }

    private void dial(io.warren.api.transport.EventLoop loop, String connectionName, PoolKey loginKey) {
        UpstreamConnection c = new UpstreamConnection(engine, this, keyed, loginKey, loop, connectionName);
        connections.add(c);
        log.debug("dialing upstream for {}", keyed.key());
        c.start();
    }

    synchronized void closeAll() {
        for (UpstreamConnection c : List.copyOf(connections)) {
            c.closeGracefully();
        }
        connections.clear();
        UpstreamError error = UpstreamError.of(ReplyCode.CONNECTION_FORCED, "proxy shutting down");
        for (ClientSession session : authWaiters) {
            session.loop().execute(() -> session.upstreamFailed(error));
        }
        authWaiters.clear();
    }
}
