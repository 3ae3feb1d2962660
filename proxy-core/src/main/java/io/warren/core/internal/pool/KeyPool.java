package io.warren.core.internal.pool;

import io.warren.api.KeyedCredentials;
import io.warren.api.PoolKey;
import io.warren.api.transport.EventLoop;
import io.warren.codec.ReplyCode;
import io.warren.core.internal.limits.Backoff;
import io.warren.core.internal.upstream.Cluster;
import io.warren.core.internal.upstream.Node;
import io.warren.core.internal.upstream.ChannelOwner;
import io.warren.core.internal.upstream.Scrubber;
import io.warren.core.internal.upstream.UpstreamChannel;
import io.warren.core.internal.upstream.UpstreamConnection;
import io.warren.core.internal.upstream.UpstreamError;
import io.warren.core.internal.upstream.UpstreamPool;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream connections of one pool key, its idle channels (held by the {@link Scrubber}s that returned them), and
 * the clients waiting for a connection or a channel.
 *
 * <p>Lock: {@code this} guards every field; it may be held while taking an upstream connection's slot-table lock,
 * never the other way round. Replies to clients are always handed to their loops, never run under the lock.
 */
final class KeyPool implements UpstreamPool {
    private static final Logger log = LoggerFactory.getLogger(KeyPool.class);

    private final Cluster cluster;
    private final UpstreamPools pools;
    private final KeyedCredentials keyed;
    private final List<UpstreamConnection> connections = new ArrayList<>(2);
    private final List<Waiter<UpstreamConnection>> authWaiters = new ArrayList<>();
    private final ArrayDeque<Waiter<UpstreamChannel>> channelWaiters = new ArrayDeque<>();
    /** Scrubbed channels ready to lend, most recently returned last (lent first: keeps few channels warm). */
    private final ArrayDeque<Scrubber> idlePlain = new ArrayDeque<>();
    private final ArrayDeque<Scrubber> idleConfirm = new ArrayDeque<>();
    /** Channels being scrubbed right now, with when their barrier left, oldest first: one is about to come back. */
    private final LinkedHashMap<Scrubber, Long> scrubbing = new LinkedHashMap<>();
    /** Clients that asked for a channel while none was idle and the key had all the channels it needs on their way. */
    private final ArrayDeque<ScrubWait> scrubWaiters = new ArrayDeque<>();
    private final ScrubPipeline pipeline;
    private final Backoff<UpstreamError> backoff = new Backoff<>();
    private int clients;

    KeyPool(Cluster cluster, UpstreamPools pools, KeyedCredentials keyed) {
        this.cluster = cluster;
        this.pools = pools;
        this.keyed = keyed;
        this.pipeline = new ScrubPipeline(cluster.config().maxIdleChannelsPerKey());
    }

    /**
     * Finds an upstream connection for a client whose login is already proven. {@code parked} is the connection that
     * proved the login, if this client dialed one: it joins the pool unless a connection is already open.
     */
    synchronized void authenticate(Waiter<UpstreamConnection> waiter, String connectionName,
            UpstreamConnection parked) {
        long now = System.nanoTime();
        EventLoop home = waiter.requester().loop();
        UpstreamConnection ready = null;
        for (UpstreamConnection c : connections) {
            if (serves(c) && (ready == null || c.loop() == home)) {
                ready = c;
            }
        }
        if (ready != null) {
            clients++;
            ready.addMember(waiter.requester());
            waiter.ok(ready);
            if (ready.loop() == home) {
                if (parked != null) {
                    parked.abandon();
                }
            } else {
                // Served at once from another loop; the clients after it on this loop get a connection of their own,
                // so that their frames do not cross loops (each crossing wakes a sleeping loop: docs/benchmarks.md,
                // section 8, item 1).
                openOnLoop(home, ready.node(), connectionName, waiter.loginKey(), parked, now);
            }
            return;
        }
        if (parked != null && !parked.node().draining()) {
            connections.add(parked);
            authWaiters.add(waiter);
            parked.adopt(this, keyed);
            return;
        }
        if (parked != null) {
            parked.abandon(); // its node was drained while it proved the login
        }
        if (backoff.waiting(now)) {
            // The broker failed us moments ago: answer at once instead of storming it (DESIGN.md invariant 7).
            waiter.failed(backoff.lastFailure().backingOff(backoff.nanosLeft(now)));
            return;
        }
        authWaiters.add(waiter);
        if (!hasConnecting() && !dial(waiter.requester().loop(), connectionName, waiter.loginKey())) {
            noNodeForWaiters();
        }
    }

    /**
     * Gives {@code loop} a connection of the key when it has none open or on its way: adopts {@code parked} (dialed on
     * the client's loop to prove its login) when it is on the key's {@code node}, or dials one. Nothing waits for it;
     * while the broker fails this key's logins, nothing is dialed.
     */
    private void openOnLoop(EventLoop loop, Node node, String connectionName, PoolKey loginKey,
            UpstreamConnection parked, long now) {
        boolean has = false;
        for (UpstreamConnection c : connections) {
            UpstreamConnection.State s = c.state();
            has |= c.loop() == loop && !c.node().draining() && s != UpstreamConnection.State.CLOSING
                    && s != UpstreamConnection.State.CLOSED;
        }
        if (!has && parked != null && parked.loop() == loop && parked.node() == node && !node.draining()) {
            connections.add(parked);
            parked.adopt(this, keyed);
            return;
        }
        if (parked != null) {
            parked.abandon();
        }
        if (!has && !backoff.waiting(now)) {
            dial(loop, connectionName, loginKey);
        }
    }

    /**
     * A channel on a connection with room: on the client's loop first (the client's own connection, then another),
     * then the client's own, then any; null when all are full.
     */
    synchronized UpstreamChannel allocate(UpstreamConnection preferred, ChannelOwner owner, boolean internal) {
        if (!internal) {
            UpstreamChannel lent = lend(idlePlain, owner);
            if (lent != null) {
                return lent;
            }
        }
        boolean own = preferred != null && connections.contains(preferred);
        if (own && preferred.loop() == owner.loop()) {
            UpstreamChannel channel = preferred.allocate(owner);
            if (channel != null) {
                return channel;
            }
        }
        UpstreamChannel channel = allocateOther(preferred, owner, owner.loop());
        if (channel == null && own && preferred.loop() != owner.loop()) {
            channel = preferred.allocate(owner);
        }
        return channel != null ? channel : allocateOther(preferred, owner, null);
    }

    /** A channel on a connection other than {@code preferred}, on {@code loop} (null: any); null if none has room. */
    private UpstreamChannel allocateOther(UpstreamConnection preferred, ChannelOwner owner, EventLoop loop) {
        for (UpstreamConnection c : connections) {
            // A draining node's connections serve only the clients at home there (their channels stay together).
            if (c != preferred && !c.node().draining() && (loop == null || c.loop() == loop)) {
                UpstreamChannel channel = c.allocate(owner);
                if (channel != null) {
                    return channel;
                }
            }
        }
        return null;
    }

    /** Waits for a channel on a new connection (all current ones are full). */
    synchronized void awaitChannel(Waiter<UpstreamChannel> waiter) {
        channelWaiters.add(waiter);
        if (!hasConnecting() && !dial(waiter.requester().loop(), null, waiter.loginKey())) {
            noNodeForWaiters();
        }
    }

    /**
     * A plain channel for a client: a scrubbed one if one is idle; else the client waits for the next scrub when the
     * key already has as many channels idle or in scrub as its request rate and scrub round trip call for
     * ({@link ScrubPipeline}), or when its scrubs take less than {@code maxWaitNanos}; else it opens a new one.
     * {@code maxWaitNanos} 0: it never waits.
     */
    synchronized ChannelGrant requestPlain(ChannelOwner owner, Reply<UpstreamChannel> reply, long maxWaitNanos) {
        long now = System.nanoTime();
        pipeline.requested(now);
        EventLoop loop = lendingLoop(owner);
        UpstreamChannel lent = lend(idlePlain, owner, loop);
        if (lent != null) {
            return new ChannelGrant.Lent(lent);
        }
        int scrubbingHere = onLoop(scrubbing.keySet(), loop);
        if (maxWaitNanos > 0 && scrubbingHere > 0
                && !pipeline.mayOpen(onLoop(idlePlain, loop) + scrubbingHere, maxWaitNanos, now)) {
            ScrubWait w = new ScrubWait(owner, reply);
            scrubWaiters.add(w);
            return new ChannelGrant.AwaitScrub(w);
        }
        pipeline.opened();
        return ChannelGrant.OPEN_NEW;
    }

    /** Gives up waiting; true if the waiter had not been served (the caller then opens a channel itself). */
    synchronized boolean cancelScrubWait(ScrubWait w) {
        scrubWaiters.remove(w);
        boolean gaveUp = w.take();
        if (gaveUp) {
            pipeline.opened();
            cluster.stats().scrubWaitEnded(false);
        }
        return gaveUp;
    }

    @Override
    public synchronized void scrubStarted(Scrubber s) {
        scrubbing.put(s, System.nanoTime());
    }

    @Override
    public synchronized void scrubEnded(Scrubber s) {
        scrubbing.remove(s);
    }

    /** Lends a scrubbed confirm-mode channel to a client that asked for confirm.select; null if none. */
    synchronized UpstreamChannel lendConfirmChannel(ChannelOwner owner) {
        return lend(idleConfirm, owner);
    }

    /** The most recently returned idle channel the owner may take ({@link #lendingLoop}); null if none. */
    private UpstreamChannel lend(ArrayDeque<Scrubber> idle, ChannelOwner owner) {
        return lend(idle, owner, lendingLoop(owner));
    }

    /** Whether new clients and channels may go to {@code c}: it is ready, and its node is not being drained. */
    private static boolean serves(UpstreamConnection c) {
        return c.state() == UpstreamConnection.State.READY && !c.node().draining();
    }

    /**
     * The loop whose channels {@code owner} is lent, waits for and has opened: its own once the key has a ready
     * connection there, else null (any). Each loop keeps its own idle channels then, and a client's frames stay on
     * its loop and its loop's connection, so that the key's publishers and consumers are spread over the key's
     * connections instead of all on one: one connection that the broker's flow control holds back for a fast
     * publisher holds back every consumer's acks on it as well (docs/benchmarks.md section 14).
     */
    private EventLoop lendingLoop(ChannelOwner owner) {
        EventLoop loop = owner.loop();
        for (UpstreamConnection c : connections) {
            if (c.loop() == loop && serves(c)) {
                return loop;
            }
        }
        return null;
    }

    /** How many of {@code scrubbers}' channels are on {@code loop} (null: all of them). */
    private static int onLoop(Collection<Scrubber> scrubbers, EventLoop loop) {
        if (loop == null) {
            return scrubbers.size();
        }
        int n = 0;
        for (Scrubber s : scrubbers) {
            n += s.channel().connection().loop() == loop ? 1 : 0;
        }
        return n;
    }

    /** The most recently returned idle channel on {@code loop} (null: any); null if none. */
    private UpstreamChannel lend(ArrayDeque<Scrubber> idle, ChannelOwner owner, EventLoop loop) {
        for (Iterator<Scrubber> it = idle.descendingIterator(); it.hasNext(); ) {
            Scrubber s = it.next();
            UpstreamConnection c = s.channel().connection();
            if (c.node().draining() || (loop != null && c.loop() != loop)) {
                continue; // a draining node's: its connection's housekeeping closes it
            }
            it.remove();
            cluster.stats().idleChannelUnpooled();
            if (c.lend(s, owner)) {
                return s.channel();
            }
        }
        return null;
    }

    @Override
    public synchronized boolean offerIdle(Scrubber s) {
        Long started = scrubbing.remove(s);
        if (started != null) {
            pipeline.scrubbed(System.nanoTime() - started);
        }
        UpstreamChannel channel = s.channel();
        UpstreamConnection c = channel.connection();
        if (!channel.confirmMode() && serves(c)) {
            // The first waiter that may take a channel of this loop (lendingLoop); the others wait for their own.
            for (Iterator<ScrubWait> it = scrubWaiters.iterator(); it.hasNext(); ) {
                ScrubWait w = it.next();
                EventLoop loop = lendingLoop(w.owner);
                if (loop != null && loop != c.loop()) {
                    continue;
                }
                if (!c.lend(s, w.owner)) {
                    break;
                }
                it.remove();
                w.take();
                cluster.stats().scrubWaitEnded(true);
                Reply.ok(w.owner, w.reply, channel);
                return true;
            }
        }
        if (idlePlain.size() + idleConfirm.size() >= cluster.config().maxIdleChannelsPerKey()
                || !serves(c) || !connections.contains(c)) {
            return false;
        }
        channel.idleSince(System.nanoTime());
        (channel.confirmMode() ? idleConfirm : idlePlain).addLast(s);
        cluster.stats().idleChannelPooled();
        return true;
    }

    @Override
    public synchronized List<Scrubber> expireIdle(UpstreamConnection c, long now) {
        long timeout = c.node().draining() ? 0 : cluster.config().idleChannelTimeout().toNanos();
        List<Scrubber> expired = new ArrayList<>(0);
        for (ArrayDeque<Scrubber> idle : List.of(idlePlain, idleConfirm)) {
            idle.removeIf(s -> {
                boolean old = s.channel().connection() == c && now - s.channel().idleSinceNanos() >= timeout;
                if (old) {
                    expired.add(s);
                    cluster.stats().idleChannelUnpooled();
                }
                return old;
            });
        }
        return expired;
    }

    synchronized int idleChannels() {
        return idlePlain.size() + idleConfirm.size();
    }

    synchronized void cancelWaits(ChannelOwner owner) {
        authWaiters.removeIf(w -> w.requester() == owner);
        channelWaiters.removeIf(w -> w.requester() == owner);
    }

    synchronized void clientGone(ChannelOwner owner) {
        clients = Math.max(0, clients - 1);
        for (UpstreamConnection c : connections) {
            c.removeMember(owner);
        }
    }

    /** A client moved to another key (connection.update-secret): it no longer counts here; its channels stay. */
    synchronized void clientLeft() {
        clients = Math.max(0, clients - 1);
    }

    /** A client that had moved to another key is gone: it no longer hears from this key's connections. */
    synchronized void forgetMember(ChannelOwner owner) {
        for (UpstreamConnection c : connections) {
            c.removeMember(owner);
        }
    }

    @Override
    public synchronized void connectionReady(UpstreamConnection c) {
        backoff.succeeded();
        for (Waiter<UpstreamConnection> w : authWaiters) {
            clients++;
            c.addMember(w.requester());
            w.ok(c);
        }
        authWaiters.clear();
        for (Iterator<Waiter<UpstreamChannel>> it = channelWaiters.iterator(); it.hasNext(); ) {
            Waiter<UpstreamChannel> w = it.next();
            UpstreamChannel channel = c.allocate(w.requester());
            if (channel == null) {
                break;
            }
            it.remove();
            w.ok(channel);
        }
        if (!channelWaiters.isEmpty()) {
            Waiter<UpstreamChannel> first = channelWaiters.peek();
            if (!dial(first.requester().loop(), null, first.loginKey())) {
                noNodeForWaiters();
            }
        }
    }

    @Override
    public synchronized void connectionFailed(UpstreamConnection c, UpstreamError failure, boolean wasReady) {
        UpstreamError error = failure;
        connections.remove(c);
        dropIdleOf(c);
        scrubbing.keySet().removeIf(s -> s.channel().connection() == c);
        boolean nodeFault = c.failedWithNode();
        if (!wasReady && !nodeFault) {
            // A node that is down is the cluster's to probe; other failures (a vhost the broker refuses) back off.
            backoff.failed(error, System.nanoTime());
        }
        if (hasConnecting()) {
            return; // another attempt is under way; waiters stay
        }
        if (nodeFault && (!authWaiters.isEmpty() || !channelWaiters.isEmpty())) {
            Waiter<?> first = authWaiters.isEmpty() ? channelWaiters.peek() : authWaiters.get(0);
            if (dial(first.requester().loop(), null, first.loginKey())) {
                return; // another node is up: it serves the waiters
            }
            error = cluster.noNodeUp();
        }
        for (Waiter<UpstreamConnection> w : authWaiters) {
            w.failed(error);
        }
        authWaiters.clear();
        for (Waiter<UpstreamChannel> w : channelWaiters) {
            w.failed(error);
        }
        channelWaiters.clear();
        if (connections.isEmpty() && clients == 0 && !backoff.waiting(System.nanoTime())) {
            // Kept while backing off: a fresh pool would dial at once, so every client would be an attempt.
            pools.forget(keyed.key(), this);
        }
    }

    @Override
    public synchronized boolean mayCloseIdle(UpstreamConnection c, boolean idleExpired) {
        // Only when a newer login of the same key on the same loop superseded it (re-authentication; the key keeps a
        // connection per loop its clients are on), or when it has been idle long enough and is not the last one while
        // this key has clients.
        boolean superseded = false;
        boolean another = false;
        for (UpstreamConnection o : connections) {
            if (o != c && o.state() == UpstreamConnection.State.READY) {
                another = true;
                superseded |= o.loop() == c.loop() && o.authenticatedNanos() > c.authenticatedNanos();
            }
        }
        if (!superseded && !(idleExpired && (clients == 0 || another)) && !c.node().draining()) {
            return false;
        }
        connections.remove(c);
        if (connections.isEmpty() && clients == 0) {
            pools.forget(keyed.key(), this);
        }
        return true;
    }

    @Override
    public synchronized void dropIdle(UpstreamConnection c) {
        dropIdleOf(c);
    }

    private void dropIdleOf(UpstreamConnection c) {
        for (ArrayDeque<Scrubber> idle : List.of(idlePlain, idleConfirm)) {
            idle.removeIf(s -> {
                if (s.channel().connection() == c) {
                    cluster.stats().idleChannelUnpooled();
                    return true;
                }
                return false;
            });
        }
    }

    synchronized PoolSnapshot snapshot() {
        List<Integer> idle = new ArrayList<>(connections.size());
        for (UpstreamConnection c : connections) {
            int n = 0;
            for (ArrayDeque<Scrubber> q : List.of(idlePlain, idleConfirm)) {
                for (Scrubber s : q) {
                    n += s.channel().connection() == c ? 1 : 0;
                }
            }
            idle.add(n);
        }
        return new PoolSnapshot(keyed, clients, connections, idle, scrubbing.size(), pipeline.target(),
                pipeline.roundTripNanos());
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

    /**
     * Dials a new connection for the key, on the node that holds most of its connections if that node is up, else
     * on the up node with the fewest connections.
     *
     * @return false when no node is up (nothing dialed)
     */
    private boolean dial(EventLoop loop, String connectionName, PoolKey loginKey) {
        List<Node> holding = new ArrayList<>(connections.size());
        for (UpstreamConnection c : connections) {
            holding.add(c.node());
        }
        Node node = cluster.choose(holding);
        if (node == null) {
            return false;
        }
        UpstreamConnection c = new UpstreamConnection(cluster, node, this, keyed, loginKey, pools.logins(), loop,
                connectionName);
        connections.add(c);
        log.debug("dialing upstream {} for {}", node.name(), keyed.key());
        c.start();
        return true;
    }

    /** Every waiter is told no node is up (they are held, or answered 320, by their handshake). */
    private void noNodeForWaiters() {
        UpstreamError error = cluster.noNodeUp();
        for (Waiter<UpstreamConnection> w : authWaiters) {
            w.failed(error);
        }
        authWaiters.clear();
        for (Waiter<UpstreamChannel> w : channelWaiters) {
            w.failed(error);
        }
        channelWaiters.clear();
    }

    synchronized void closeAll() {
        for (UpstreamConnection c : List.copyOf(connections)) {
            c.closeGracefully();
        }
        connections.clear();
        UpstreamError error = UpstreamError.of(ReplyCode.CONNECTION_FORCED, "proxy shutting down");
        for (Waiter<UpstreamConnection> w : authWaiters) {
            w.failed(error);
        }
        authWaiters.clear();
    }
}
