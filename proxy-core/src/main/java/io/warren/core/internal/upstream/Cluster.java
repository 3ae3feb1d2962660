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
 * <p>Thread-safe: nodes guard themselves; the held clients are guarded by {@link #holds}' lock.
 */
public final class Cluster {
    private static final Logger log = LoggerFactory.getLogger(Cluster.class);

    private final ProxyConfig config;
    private final NetworkRuntime runtime;
    private final EngineStats stats;
    private final List<Node> nodes;
    private final AtomicInteger turn = new AtomicInteger();
    /** The capabilities the broker advertised at the last upstream handshake; null before the first. */
    private volatile FieldTable capabilities;
    /** The credentials and virtual host of the last connection that opened: what probes log in with. */
    private volatile UpstreamCredentials probeCredentials;
    /** Clients in the handshake waiting for a node to come up; guarded by itself. */
    private final List<Hold> holds = new ArrayList<>();

    public Cluster(ProxyConfig config, NetworkRuntime runtime, EngineStats stats) {
        this.config = config;
        this.runtime = runtime;
        this.stats = stats;
        List<Node> all = new ArrayList<>();
        for (UpstreamNode n : config.upstreams()) {
            all.add(new Node(n, config.upstreamTls(), config.upstreams().size() > 1));
        }
        this.nodes = List.copyOf(all);
    }

    public ProxyConfig config() {
        return config;
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
        int start = Math.floorMod(turn.getAndIncrement(), nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get((start + i) % nodes.size());
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
        if (!node.claimProbe()) {
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

    /** A client waiting for a node to come up. */
    private final class Hold {
        final EventLoop loop;
        final Runnable up;
        final Runnable timedOut;
        EventLoop.Cancellable timer;
        boolean done;

        Hold(EventLoop loop, Runnable up, Runnable timedOut) {
            this.loop = loop;
            this.up = up;
            this.timedOut = timedOut;
        }
    }

    /**
     * Holds a client in the handshake until a node is up (then {@code up} runs on {@code loop}) or for
     * {@code timeoutNanos} (then {@code timedOut} runs there).
     *
     * @return the hold, to cancel when the client goes; null, running nothing, when {@code max-held-clients} are
     *     held already, the time is up, or a node is up now
     */
    public EventLoop.Cancellable awaitUp(EventLoop loop, long timeoutNanos, Runnable up, Runnable timedOut) {
        Hold hold = new Hold(loop, up, timedOut);
        synchronized (holds) {
            if (holds.size() >= config.maxHeldClients() || timeoutNanos <= 0 || anyUp()) {
                return null;
            }
            holds.add(hold);
            stats.heldClients(holds.size());
            hold.timer = loop.schedule(() -> {
                if (take(hold)) {
                    timedOut.run();
                }
            }, Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)), TimeUnit.MILLISECONDS);
        }
        return () -> {
            if (take(hold)) {
                hold.timer.cancel();
            }
        };
    }

    private boolean take(Hold hold) {
        synchronized (holds) {
            if (hold.done) {
                return false;
            }
            hold.done = true;
            holds.remove(hold);
            stats.heldClients(holds.size());
            return true;
        }
    }

    private void releaseHolds() {
        List<Hold> released;
        synchronized (holds) {
            released = new ArrayList<>(holds);
            holds.clear();
            for (Hold h : released) {
                h.done = true;
            }
            stats.heldClients(0);
        }
        for (Hold h : released) {
            h.timer.cancel();
            h.loop.execute(h.up);
        }
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
