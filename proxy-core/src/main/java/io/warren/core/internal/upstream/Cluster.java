package io.warren.core.internal.upstream;

import io.warren.api.UpstreamCredentials;
import io.warren.api.transport.Connection;
import io.warren.api.transport.ConnectionHandler;
import io.warren.api.transport.EventLoop;
import io.warren.api.transport.NetworkRuntime;
import io.warren.codec.FieldTable;
import io.warren.codec.ReplyCode;
import io.warren.core.config.ProxyConfig;
import io.warren.core.config.UpstreamNode;
import io.warren.core.internal.limits.HeldClients;
import io.warren.core.internal.stats.EngineStats;
import io.warren.core.internal.wire.Frames;
import io.warren.core.stats.NodeStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker Warren is a client of: the nodes of one cluster (one, for a single broker), how to reach each (plain or
 * TLS), what the configuration asks of connections to them, what the broker said of itself at the last handshake,
 * and the counters connections update.
 *
 * <p>Node choice: a pool key's new connection goes to an up node that already holds its connections, so a key's
 * connections stay on as few nodes as its load needs; a key's first connection (and a login's) goes to the up node
 * with the fewest Warren connections, ties broken in turn. A down node gets no client: it is probed in the background
 * (100 ms doubling to 5 s) until a full AMQP handshake succeeds, and clients in the handshake may wait for it
 * ({@link #awaitUp}) while no node is up.
 *
 * <p>Thread-safe: nodes guard themselves, {@link HeldClients} itself; the node list is replaced whole, under this
 * object's lock.
 */
public final class Cluster {
    private static final Logger log = LoggerFactory.getLogger(Cluster.class);

    /** What the clients and connections of now are configured with: replaced whole by a reload. */
    private volatile ProxyConfig config;
    private final NetworkRuntime runtime;
    private final EngineStats stats;
    /**
     * The nodes in configuration order, then nodes a reload removed that still have connections (they drain); a new
     * list on every change, so readers never lock.
     */
    private volatile List<Node> nodes;
    private final AtomicInteger turn = new AtomicInteger();
    /** The capabilities the broker advertised at the last upstream handshake; null before the first. */
    private volatile FieldTable capabilities;
    /** The credentials and virtual host of the last connection that opened: what probes log in with. */
    private volatile UpstreamCredentials probeCredentials;
    /** Clients in the handshake waiting for a node to come up (tagged {@link #NO_NODE}) or for their vhost. */
    private final HeldClients held;
    /** The tag of clients held for want of an up node. */
    private static final Object NO_NODE = new Object();

    public Cluster(ProxyConfig config, NetworkRuntime runtime, EngineStats stats) {
        this.config = config;
        this.runtime = runtime;
        this.stats = stats;
        this.held = new HeldClients(() -> this.config.maxHeldClients(), stats);
        List<Node> all = new ArrayList<>();
        for (UpstreamNode n : config.upstreams()) {
            all.add(new Node(n, config.upstreamTls(), config.upstreams().size() > 1));
        }
        this.nodes = List.copyOf(all);
    }

    public ProxyConfig config() {
        return config;
    }

    /** Clients held in the handshake, for a node or for their virtual host: {@code max-held-clients} together. */
    public HeldClients held() {
        return held;
    }

    public EngineStats stats() {
        return stats;
    }

    public List<Node> nodes() {
        return nodes;
    }

    /** Dials {@code node} on {@code loop}, with TLS when the upstream is amqps. */
    void dial(Node node, EventLoop loop, ConnectionHandler handler) {
        if (node.tls().isPresent()) {
            runtime.connect(node.config().address(), loop, handler, node.tls().get());
        } else {
            runtime.connect(node.config().address(), loop, handler);
        }
    }

    /** Whether {@code connection} is TLS and Warren presented no client certificate on it (null: not connected). */
    boolean presentsNoClientCertificate(Connection connection) {
        return connection != null && connection.isTls()
                && config.upstreamTls().map(t -> t.certificateFile() == null).orElse(false);
    }

    /** What Warren asks of a connection at tune: its channel_max, frame_max and heartbeat. */
    public AmqpClientHandshake.Limits limits() {
        return new AmqpClientHandshake.Limits(config.maxUpstreamChannels(), config.frameMax(),
                (int) config.upstreamHeartbeat().toSeconds());
    }

    /** Remembers the capabilities in the broker's server properties (connection.start). */
    void learn(FieldTable serverProperties) {
        capabilities = serverProperties.getTable("capabilities").orElse(FieldTable.EMPTY);
    }

    /** The capabilities the broker advertised at the last upstream handshake; null before the first. */
    public FieldTable capabilities() {
        return capabilities;
    }

    // ---------------------------------------------------------------- node choice

    /**
     * The node for a new connection: among up nodes, the one {@code holding} names most often (a pool key's own
     * connections), else the one with the fewest Warren connections. Null when no node is up.
     */
    public Node choose(List<Node> holding) {
        Node best = null;
        int bestCount = 0;
        for (Node n : holding) {
            if (n.acceptsConnections()) {
                int count = 0;
                for (Node m : holding) {
                    count += m == n ? 1 : 0;
                }
                if (count > bestCount) {
                    best = n;
                    bestCount = count;
                }
            }
        }
        if (best != null) {
            return best;
        }
        List<Node> all = nodes;
        int start = Math.floorMod(turn.getAndIncrement(), all.size());
        for (int i = 0; i < all.size(); i++) {
            Node n = all.get((start + i) % all.size());
            if (n.acceptsConnections() && (best == null || n.connections() < best.connections())) {
                best = n;
            }
        }
        return best;
    }

    public boolean anyUp() {
        for (Node n : nodes) {
            if (n.acceptsConnections()) {
                return true;
            }
        }
        return false;
    }

    /** What a client is told while no node is up: each node's failure and when it is tried next. */
    public UpstreamError noNodeUp() {
        long now = System.nanoTime();
        List<Node> nodes = this.nodes;
        if (nodes.size() == 1) {
            UpstreamError one = nodes.get(0).downError(now);
            if (one != null) {
                return one;
            }
        }
        StringBuilder why = new StringBuilder("no upstream node is up (");
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            NodeStatus s = n.status();
            why.append(i == 0 ? "" : "; ").append(n.name()).append(' ').append(s.state());
            if (!s.up()) {
                why.append(", next attempt in ")
                        .append(Math.max(1, TimeUnit.NANOSECONDS.toMillis(n.nanosToNextProbe(now)))).append(" ms");
            }
        }
        return UpstreamError.of(ReplyCode.CONNECTION_FORCED, why.append(')').toString());
    }

    /** Waits, at most {@code timeout}, until the check at start (or a connection) told the state of every node. */
    public void awaitChecked(java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Node n : nodes) {
            n.awaitChecked(deadline);
        }
    }

    public List<NodeStatus> status() {
        forgetRemovedNodes();
        List<Node> nodes = this.nodes;
        List<NodeStatus> out = new ArrayList<>(nodes.size());
        for (Node n : nodes) {
            out.add(n.status());
        }
        return out;
    }

    // ---------------------------------------------------------------- health

    /** A connection to {@code node} failed for a reason that is not a client's fault. */
    void nodeFailed(Node node, UpstreamError error) {
        if (node.failed(error, System.nanoTime())) {
            log.warn("upstream node {} is down: {}; clients go to {}", node.name(), error.text(),
                    anyUp() ? "the other nodes" : "no node until one is back");
            scheduleProbe(node);
        }
    }

    /** A connection to {@code node} opened, with {@code credentials}: later probes may log in with them. */
    void opened(UpstreamCredentials credentials) {
        probeCredentials = credentials;
    }

    UpstreamCredentials probeCredentials() {
        return probeCredentials;
    }

    /** Checks every node once, at start, so that a node that is down is known before a client is sent to it. */
    public void start() {
        EventLoop loop = runtime.eventLoops().get(0);
        for (Node node : nodes) {
            if (node.claimProbe()) {
                loop.execute(() -> new NodeProbe(this, node, loop).start());
            }
        }
    }

    private void scheduleProbe(Node node) {
        if (node.isRemoved() || !node.claimProbe()) {
            return; // the probe under way schedules the next one if it fails
        }
        EventLoop loop = runtime.eventLoops().get(0);
        long delay = node.nanosToNextProbe(System.nanoTime());
        loop.schedule(() -> new NodeProbe(this, node, loop).start(), Math.max(1, TimeUnit.NANOSECONDS.toMillis(delay)),
                TimeUnit.MILLISECONDS);
    }

    /** A probe of {@code node} completed a handshake: it takes connections again. */
    void probeSucceeded(Node node, String how) {
        node.probeDone();
        if (node.succeeded(how)) {
            log.info("upstream node {} is up again ({})", node.name(), how);
            releaseHolds();
        }
    }

    void probeFailed(Node node, UpstreamError error) {
        node.probeDone();
        node.connectFailed();
        stats.upstreamConnectFailed();
        if (node.acceptsConnections()) {
            nodeFailed(node, error); // the check at start: it was up only because nothing said otherwise yet
            return;
        }
        long wait = node.probeFailed(error, System.nanoTime());
        log.debug("upstream node {} still down: {}; next probe in {} ms", node.name(), error.text(),
                TimeUnit.NANOSECONDS.toMillis(wait));
        scheduleProbe(node);
    }

    // ---------------------------------------------------------------- clients waiting for a node

    /**
     * Holds a client in the handshake until a node is up (then {@code up} runs on {@code loop}) or for
     * {@code timeoutNanos} (then {@code timedOut} runs there).
     *
     * @return the hold, to cancel when the client goes; null, running nothing, when {@code max-held-clients} are
     *     held already, the time is up, or a node is up now
     */
    public EventLoop.Cancellable awaitUp(EventLoop loop, long timeoutNanos, Runnable up, Runnable timedOut) {
        return held.hold(loop, NO_NODE, timeoutNanos, () -> !anyUp(), up, timedOut);
    }

    /** Clients held now for want of an up node. */
    public int heldForANode() {
        return held.count(NO_NODE);
    }

    private void releaseHolds() {
        held.release(tag -> tag == NO_NODE);
    }

    // ---------------------------------------------------------------- the operator's changes

    /**
     * A reload: {@code next} applies from now on (to what reads it next: new connections, new clients, the next
     * timer). Nodes it no longer names drain and are forgotten once their connections are gone; nodes it adds are
     * checked at once, as at start.
     *
     * @return one line per node added, removed or restored, for the reload's log
     */
    public synchronized List<String> reconfigure(ProxyConfig next) {
        config = next;
        List<Node> before = nodes;
        List<Node> after = new ArrayList<>(next.upstreams().size());
        List<String> changes = new ArrayList<>();
        List<Node> added = new ArrayList<>();
        for (UpstreamNode n : next.upstreams()) {
            Node existing = null;
            for (Node m : before) {
                if (m.config().address().equals(n.address())) {
                    existing = m;
                }
            }
            if (existing == null) {
                existing = new Node(n, next.upstreamTls(), next.upstreams().size() > 1);
                added.add(existing);
                changes.add("upstream node " + existing.name() + " added");
            } else if (existing.isRemoved()) {
                existing.restored();
                changes.add("upstream node " + existing.name() + " restored (it was still draining)");
            }
            after.add(existing);
        }
        for (Node m : before) {
            if (!after.contains(m)) {
                if (!m.isRemoved()) {
                    m.removed();
                    changes.add("upstream node " + m.name() + " removed: it drains (" + m.connections()
                            + " connection(s) left)");
                }
                after.add(m);
            }
        }
        nodes = List.copyOf(after);
        EventLoop loop = runtime.eventLoops().get(0);
        for (Node n : added) {
            if (n.claimProbe()) {
                loop.execute(() -> new NodeProbe(this, n, loop).start());
            }
        }
        releaseHolds(); // a held client asks again: an added node may take it (or it waits on)
        forgetRemovedNodes();
        return changes;
    }

    /** Removed nodes whose last connection is gone leave the list. */
    private synchronized void forgetRemovedNodes() {
        List<Node> all = nodes;
        if (all.stream().anyMatch(n -> n.isRemoved() && n.connections() == 0)) {
            nodes = all.stream().filter(n -> !n.isRemoved() || n.connections() > 0).toList();
        }
    }

    /**
     * The nodes {@code name} names: a node's full name ({@link NodeStatus#name()}), its host:port as configured, or
     * its address:port. Several when a host:port names several addresses.
     */
    public List<Node> find(String name) {
        List<Node> exact = new ArrayList<>();
        List<Node> partial = new ArrayList<>();
        for (Node n : nodes) {
            UpstreamNode c = n.config();
            String host = c.host().contains(":") ? "[" + c.host() + "]" : c.host();
            String hostPort = host + ":" + c.address().getPort();
            String address = c.address().getAddress() == null ? hostPort
                    : hostPortOf(c.address().getAddress().getHostAddress(), c.address().getPort());
            if (n.name().equals(name)) {
                exact.add(n);
            } else if (hostPort.equals(name) || address.equals(name)) {
                partial.add(n);
            }
        }
        return exact.isEmpty() ? partial : exact;
    }

    private static String hostPortOf(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /**
     * Drains {@code node} (no new connections; its idle channels and idle connections close as their housekeeping
     * next runs; busy connections finish), or ends its draining.
     *
     * @return whether that changed anything
     */
    public boolean drain(Node node, boolean on) {
        if (!node.drain(on)) {
            return false;
        }
        log.info("upstream node {} {}", node.name(), on ? "drained by the operator: no new connections; idle ones"
                + " close, busy ones finish (" + node.connections() + " connection(s) now)"
                : "no longer drained: it takes new connections again");
        if (!on) {
            releaseHolds();
        }
        return true;
    }

    /** For reply texts: host:port of every node, comma-separated. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (Node n : nodes) {
            b.append(b.length() == 0 ? "" : ", ").append(n.name());
        }
        return Frames.truncate(b.toString());
    }
}
