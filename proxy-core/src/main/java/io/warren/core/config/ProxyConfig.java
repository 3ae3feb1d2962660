package io.warren.core.config;

import io.warren.api.transport.ProxyProtocol;
import io.warren.api.transport.TlsClientSettings;
import io.warren.api.transport.TlsServerSettings;
import java.lang.reflect.RecordComponent;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Everything the engine needs to run, validated once. The launcher builds it from the command line, environment and
 * configuration file.
 *
 * @param listen where clients connect
 * @param upstreams the nodes of the upstream cluster (one for a single broker): same users, vhosts and TLS settings
 * @param handshakeTimeout how long a client may take from TCP connect to connection.open-ok
 * @param clientHeartbeat heartbeat interval offered to clients (zero disables)
 * @param upstreamHeartbeat heartbeat interval asked of the broker (zero disables)
 * @param frameMax largest frame offered to clients and asked of the broker, in bytes
 * @param clientChannelMax most channels a client may have open at once (offered as channel_max)
 * @param maxUpstreamChannels cap on channels per upstream connection (the broker's own channel_max also applies)
 * @param idleConnectionTimeout how long an upstream connection with no channels stays open (the last one of a key
 *     stays while the key has clients)
 * @param reauthInterval how long a successful upstream authentication vouches for clients that present the same
 *     credentials; after it, the next such client causes a fresh upstream login
 * @param maxMessageSize largest message body a client may publish; a message is held whole until its last frame
 *     arrives (so a client that vanishes mid-message never routes a partial one)
 * @param upstreamConnectTimeout how long dialing and authenticating upstream may take
 * @param maxIdleChannelsPerKey how many scrubbed upstream channels each pool key keeps ready to lend
 * @param idleChannelTimeout how long a scrubbed channel waits in the pool before it is closed upstream
 * @param scrubWait how long a client that needs a channel waits for one whose scrub is under way before a new
 *     one is opened upstream, once its key has as many channels idle or in scrub as its request rate and scrub
 *     round trip call for (below that it opens one at once; zero: never wait)
 * @param slowClientTimeout how long a client may leave its write queue full before it is disconnected; also how
 *     long a held message may get no body frame while other clients wait for room in {@code messageBuffer} before
 *     its channel is closed (406)
 * @param slowClientStall how long a client whose write queue is full may stop the upstream connections feeding it
 *     (and so every other client on them) from being read without draining 64 KiB of its queue; then Warren
 *     buffers for it instead, up to {@code slowClientBuffer}. A client that keeps draining is simply throttled.
 * @param slowClientBuffer most bytes queued for one client once its stall ran out; beyond it the client is
 *     disconnected (its memory bound, with the write high-water mark it is reached from)
 * @param scrubTimeout how long the scrub of a returned channel may wait for outstanding confirms and its barrier
 *     before the channel is closed instead of reused
 * @param upstreamTls TLS towards the broker (amqps), or empty for plain AMQP; its server name is the host checked
 *     against the broker's certificate and sent as SNI (with several nodes, each node's own host is)
 * @param plainListener whether clients may connect in plain AMQP on {@code listen}; false leaves only the TLS
 *     listener (which must then be configured)
 * @param tlsListen where clients connect over TLS (amqps), or empty for no TLS listener
 * @param tlsListenSettings certificate, key and client CA of the TLS listener; present exactly when
 *     {@code tlsListen} is
 * @param maxConnections most clients connected at once (0: no limit but the file-descriptor limit); a client beyond
 *     it is answered connection.close 530 NOT_ALLOWED at connection.open, as RabbitMQ answers its per-vhost and
 *     per-user connection limits
 * @param slowClientBufferTotal most bytes queued, all clients together, for the clients Warren buffers for once
 *     their stall ran out; the client whose write takes the total beyond it is disconnected, so many clients that
 *     stop reading at once cannot exhaust the heap. The builder's default (0, auto) is a quarter of the JVM's max
 *     heap
 * @param messageBuffer bytes all messages held until their last frame arrives may take together (each reserves its
 *     exact size); a client whose message does not fit waits, unread, until one completes. The builder's default,
 *     {@link #AUTO_SIZE}, is a quarter of the JVM's max heap. It also caps the message size: see
 *     {@link #effectiveMaxMessageSize()}
 * @param upstreamHold how long a client in the handshake waits for an upstream node to come back when none is up,
 *     before it is answered 320 CONNECTION_FORCED (zero: not at all)
 * @param maxHeldClients most clients waiting for an upstream node at once; beyond it, clients get the 320 at once
 * @param proxyProtocol whether the plain listener reads a PROXY protocol header (v1 or v2) before the AMQP bytes: off,
 *     optional (when one is sent) or required; the address it names is the client's in logs, the admin view and the
 *     keyer's input
 * @param tlsProxyProtocol the same for the TLS listener (the header comes before the TLS handshake)
 */
public record ProxyConfig(
        InetSocketAddress listen,
        List<UpstreamNode> upstreams,
        Duration handshakeTimeout,
        Duration clientHeartbeat,
        Duration upstreamHeartbeat,
        int frameMax,
        int clientChannelMax,
        int maxUpstreamChannels,
        Duration idleConnectionTimeout,
        Duration reauthInterval,
        long maxMessageSize,
        Duration upstreamConnectTimeout,
        int maxIdleChannelsPerKey,
        Duration idleChannelTimeout,
        Duration scrubTimeout,
        Duration scrubWait,
        Duration slowClientTimeout,
        Duration slowClientStall,
        long slowClientBuffer,
        Optional<TlsClientSettings> upstreamTls,
        boolean plainListener,
        Optional<InetSocketAddress> tlsListen,
        Optional<TlsServerSettings> tlsListenSettings,
        int maxConnections,
        long slowClientBufferTotal,
        long messageBuffer,
        Duration upstreamHold,
        int maxHeldClients,
        ProxyProtocol proxyProtocol,
        ProxyProtocol tlsProxyProtocol) {

    public static final int DEFAULT_PORT = 5673;
    /** The conventional amqps port, Warren's TLS listener's default. */
    public static final int DEFAULT_TLS_PORT = 5674;
    /**
     * For {@link Builder#messageBuffer} and {@link Builder#slowClientBufferTotal}: a quarter of the JVM's max heap,
     * computed when the configuration is built.
     */
    public static final long AUTO_SIZE = 0;
    /** The smallest {@code messageBuffer}: a few frames. */
    public static final long MIN_MESSAGE_BUFFER = 64 * 1024;

    public ProxyConfig {
        Objects.requireNonNull(listen, "listen");
        upstreams = List.copyOf(Objects.requireNonNull(upstreams, "upstreams"));
        if (upstreams.isEmpty()) {
            throw new IllegalArgumentException("at least one upstream node is needed");
        }
        if (upstreams.stream().map(UpstreamNode::address).distinct().count() != upstreams.size()) {
            throw new IllegalArgumentException("upstream nodes must be distinct: " + upstreams);
        }
        requireNotNegative("upstreamHold", upstreamHold);
        if (maxHeldClients < 0) {
            throw new IllegalArgumentException("maxHeldClients must not be negative, got " + maxHeldClients);
        }
        requirePositive("handshakeTimeout", handshakeTimeout);
        requireNotNegative("clientHeartbeat", clientHeartbeat);
        requireNotNegative("upstreamHeartbeat", upstreamHeartbeat);
        requirePositive("idleConnectionTimeout", idleConnectionTimeout);
        requireNotNegative("reauthInterval", reauthInterval);
        requirePositive("upstreamConnectTimeout", upstreamConnectTimeout);
        if (frameMax < 4096) {
            throw new IllegalArgumentException("frameMax must be at least 4096, got " + frameMax);
        }
        if (clientChannelMax < 1 || clientChannelMax > 65535) {
            throw new IllegalArgumentException("clientChannelMax must be within 1..65535, got " + clientChannelMax);
        }
        if (maxUpstreamChannels < 1 || maxUpstreamChannels > 65535) {
            throw new IllegalArgumentException(
                    "maxUpstreamChannels must be within 1..65535, got " + maxUpstreamChannels);
        }
        requirePositive("idleChannelTimeout", idleChannelTimeout);
        requirePositive("scrubTimeout", scrubTimeout);
        requireNotNegative("scrubWait", scrubWait);
        requirePositive("slowClientTimeout", slowClientTimeout);
        requireNotNegative("slowClientStall", slowClientStall);
        if (slowClientBuffer < 1) {
            throw new IllegalArgumentException("slowClientBuffer must be positive, got " + slowClientBuffer);
        }
        if (slowClientBufferTotal < 1) {
            throw new IllegalArgumentException("slowClientBufferTotal must be positive, got " + slowClientBufferTotal);
        }
        if (maxIdleChannelsPerKey < 0) {
            throw new IllegalArgumentException("maxIdleChannelsPerKey must not be negative, got "
                    + maxIdleChannelsPerKey);
        }
        if (maxConnections < 0) {
            throw new IllegalArgumentException("maxConnections must be 0 (no limit) or more, got " + maxConnections);
        }
        if (maxMessageSize < 1) {
            throw new IllegalArgumentException("maxMessageSize must be positive, got " + maxMessageSize);
        }
        if (messageBuffer < MIN_MESSAGE_BUFFER) {
            throw new IllegalArgumentException("messageBuffer must be at least " + MIN_MESSAGE_BUFFER + " bytes (64k),"
                    + " got " + messageBuffer);
        }
        if (clientHeartbeat.toSeconds() > 65535 || upstreamHeartbeat.toSeconds() > 65535) {
            throw new IllegalArgumentException("heartbeats must be at most 65535 s");
        }
        Objects.requireNonNull(proxyProtocol, "proxyProtocol");
        Objects.requireNonNull(tlsProxyProtocol, "tlsProxyProtocol");
        Objects.requireNonNull(upstreamTls, "upstreamTls");
        Objects.requireNonNull(tlsListen, "tlsListen");
        Objects.requireNonNull(tlsListenSettings, "tlsListenSettings");
        if (tlsListen.isPresent() != tlsListenSettings.isPresent()) {
            throw new IllegalArgumentException("tlsListen and tlsListenSettings go together: a TLS listener needs an"
                    + " address and a certificate and key");
        }
        if (!plainListener && tlsListen.isEmpty()) {
            throw new IllegalArgumentException("plainListener can only be turned off when there is a TLS listener");
        }
    }

    /**
     * The largest message body a client may publish: {@code maxMessageSize}, or less when the whole
     * {@code messageBuffer} is smaller (a held message must fit in it; its framing takes a little more, so a body
     * within a few frame headers of this limit may still be refused, with the exact limit in the reply text).
     */
    public long effectiveMaxMessageSize() {
        return Math.min(maxMessageSize, messageBuffer);
    }

    /**
     * A warning for the operator when {@code messageBuffer} lowers the message size limit below
     * {@code maxMessageSize}; empty otherwise.
     */
    public Optional<String> messageSizeWarning() {
        if (maxMessageSize <= messageBuffer) {
            return Optional.empty();
        }
        return Optional.of("max-message-size (" + maxMessageSize + " bytes) is larger than message-buffer ("
                + messageBuffer + " bytes), which every message held until its last frame must fit in: messages"
                + " larger than " + messageBuffer + " bytes are refused with 406. Raise message-buffer (default: a"
                + " quarter of the max heap, -Xmx " + Runtime.getRuntime().maxMemory() + " bytes now) or lower"
                + " max-message-size");
    }

    /** Defaults an operator gets without configuration, for the given upstream. */
    public static ProxyConfig defaults(InetSocketAddress upstream) {
        return builder(upstream).build();
    }

    /** A builder for a single upstream broker. */
    public static Builder builder(InetSocketAddress upstream) {
        return new Builder(List.of(UpstreamNode.of(Objects.requireNonNull(upstream, "upstream"))));
    }

    /** A builder for the nodes of one upstream cluster. */
    public static Builder builder(List<UpstreamNode> upstreams) {
        return new Builder(upstreams);
    }

    /** The first upstream node's address: the broker's, when there is one. */
    public InetSocketAddress firstUpstream() {
        return upstreams.get(0).address();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder(upstreams);
        b.listen = listen;
        b.handshakeTimeout = handshakeTimeout;
        b.clientHeartbeat = clientHeartbeat;
        b.upstreamHeartbeat = upstreamHeartbeat;
        b.frameMax = frameMax;
        b.clientChannelMax = clientChannelMax;
        b.maxUpstreamChannels = maxUpstreamChannels;
        b.idleConnectionTimeout = idleConnectionTimeout;
        b.reauthInterval = reauthInterval;
        b.maxMessageSize = maxMessageSize;
        b.upstreamConnectTimeout = upstreamConnectTimeout;
        b.maxIdleChannelsPerKey = maxIdleChannelsPerKey;
        b.idleChannelTimeout = idleChannelTimeout;
        b.scrubTimeout = scrubTimeout;
        b.scrubWait = scrubWait;
        b.slowClientTimeout = slowClientTimeout;
        b.slowClientStall = slowClientStall;
        b.slowClientBufferTotal = slowClientBufferTotal;
        b.slowClientBuffer = slowClientBuffer;
        b.upstreamTls = upstreamTls;
        b.plainListener = plainListener;
        b.tlsListen = tlsListen;
        b.tlsListenSettings = tlsListenSettings;
        b.maxConnections = maxConnections;
        b.messageBuffer = messageBuffer;
        b.upstreamHold = upstreamHold;
        b.maxHeldClients = maxHeldClients;
        b.proxyProtocol = proxyProtocol;
        b.tlsProxyProtocol = tlsProxyProtocol;
        return b;
    }

    /**
     * The components a running engine applies when a reload changes them ({@link #reloadedWith}): limits, timeouts,
     * heartbeats for new connections, the upstream nodes, the TLS listener's certificate, key and client CA. The
     * others need a new process: where it listens and whether it reads PROXY headers there, the TLS towards the broker, {@code frameMax} (agreed with every
     * connection at its start) and {@code upstreamConnectTimeout} (which the transport holds too).
     */
    public static final Set<String> RELOADABLE = Set.of("upstreams", "handshakeTimeout", "clientHeartbeat",
            "upstreamHeartbeat", "clientChannelMax", "maxUpstreamChannels", "idleConnectionTimeout", "reauthInterval",
            "maxMessageSize", "maxIdleChannelsPerKey", "idleChannelTimeout", "scrubTimeout", "scrubWait",
            "slowClientTimeout", "slowClientStall", "slowClientBuffer", "tlsListenSettings", "maxConnections",
            "slowClientBufferTotal", "messageBuffer", "upstreamHold", "maxHeldClients");

    /** This configuration with {@code next}'s value for every {@link #RELOADABLE} component, and its own for the rest. */
    public ProxyConfig reloadedWith(ProxyConfig next) {
        Builder b = next.toBuilder();
        b.listen = listen;
        b.frameMax = frameMax;
        b.upstreamConnectTimeout = upstreamConnectTimeout;
        b.upstreamTls = upstreamTls;
        b.plainListener = plainListener;
        b.tlsListen = tlsListen;
        b.proxyProtocol = proxyProtocol;
        b.tlsProxyProtocol = tlsProxyProtocol;
        // The listener's files change live only where it already listens.
        b.tlsListenSettings = tlsListen.equals(next.tlsListen) ? next.tlsListenSettings : tlsListenSettings;
        return b.build();
    }

    /** The names of the components whose values differ from {@code other}'s, in declaration order. */
    public List<String> differences(ProxyConfig other) {
        List<String> out = new ArrayList<>();
        for (RecordComponent c : ProxyConfig.class.getRecordComponents()) {
            try {
                if (!Objects.equals(c.getAccessor().invoke(this), c.getAccessor().invoke(other))) {
                    out.add(c.getName());
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    public ProxyConfig withListen(InetSocketAddress address) {
        return toBuilder().listen(address).build();
    }

    public ProxyConfig withHeartbeats(Duration client, Duration upstreamInterval) {
        return toBuilder().clientHeartbeat(client).upstreamHeartbeat(upstreamInterval).build();
    }

    public ProxyConfig withMaxUpstreamChannels(int max) {
        return toBuilder().maxUpstreamChannels(max).build();
    }

    public ProxyConfig withHandshakeTimeout(Duration timeout) {
        return toBuilder().handshakeTimeout(timeout).build();
    }

    public ProxyConfig withIdleConnectionTimeout(Duration timeout) {
        return toBuilder().idleConnectionTimeout(timeout).build();
    }

    /** Builds a {@link ProxyConfig}; every field starts at its default. Validation happens in {@link #build()}. */
    public static final class Builder {
        private List<UpstreamNode> upstreams;
        private InetSocketAddress listen = new InetSocketAddress("127.0.0.1", DEFAULT_PORT);
        private Duration handshakeTimeout = Duration.ofSeconds(10);
        private Duration clientHeartbeat = Duration.ofSeconds(60);
        private Duration upstreamHeartbeat = Duration.ofSeconds(30);
        private int frameMax = 131072;
        private int clientChannelMax = 2047;
        private int maxUpstreamChannels = 2047;
        private Duration idleConnectionTimeout = Duration.ofMinutes(5);
        private Duration reauthInterval = Duration.ofSeconds(60);
        private long maxMessageSize = 128L * 1024 * 1024;
        private Duration upstreamConnectTimeout = Duration.ofSeconds(10);
        private int maxIdleChannelsPerKey = 256;
        private Duration idleChannelTimeout = Duration.ofMinutes(5);
        private Duration scrubTimeout = Duration.ofSeconds(5);
        private Duration scrubWait = Duration.ofMillis(10);
        private Duration slowClientTimeout = Duration.ofSeconds(10);
        private Duration slowClientStall = Duration.ofMillis(100);
        private long slowClientBuffer = 4L * 1024 * 1024;
        private long slowClientBufferTotal;
        private Optional<TlsClientSettings> upstreamTls = Optional.empty();
        private boolean plainListener = true;
        private Optional<InetSocketAddress> tlsListen = Optional.empty();
        private Optional<TlsServerSettings> tlsListenSettings = Optional.empty();
        // No limit by default: the file-descriptor limit already bounds clients, and issue 8's deployments hold
        // 10,000 and more; a fixed cap would refuse them by surprise.
        private int maxConnections = 0;
        private long messageBuffer = AUTO_SIZE;
        // Below the read timeouts of common client libraries (php-amqplib's 3 s read_write_timeout among them), so
        // a held client still gets Warren's 320 rather than its own timeout: docs/architecture.md lists them.
        private Duration upstreamHold = Duration.ofSeconds(2);
        private int maxHeldClients = 1000;
        private ProxyProtocol proxyProtocol = ProxyProtocol.OFF;
        private ProxyProtocol tlsProxyProtocol = ProxyProtocol.OFF;

        private Builder(List<UpstreamNode> upstreams) {
            this.upstreams = upstreams;
        }

        public Builder upstreams(List<UpstreamNode> v) {
            upstreams = v;
            return this;
        }

        public Builder upstreamHold(Duration v) {
            upstreamHold = v;
            return this;
        }

        public Builder maxHeldClients(int v) {
            maxHeldClients = v;
            return this;
        }

        public Builder listen(InetSocketAddress v) {
            listen = v;
            return this;
        }

        public Builder handshakeTimeout(Duration v) {
            handshakeTimeout = v;
            return this;
        }

        public Builder clientHeartbeat(Duration v) {
            clientHeartbeat = v;
            return this;
        }

        public Builder upstreamHeartbeat(Duration v) {
            upstreamHeartbeat = v;
            return this;
        }

        public Builder frameMax(int v) {
            frameMax = v;
            return this;
        }

        public Builder clientChannelMax(int v) {
            clientChannelMax = v;
            return this;
        }

        public Builder maxUpstreamChannels(int v) {
            maxUpstreamChannels = v;
            return this;
        }

        public Builder idleConnectionTimeout(Duration v) {
            idleConnectionTimeout = v;
            return this;
        }

        public Builder reauthInterval(Duration v) {
            reauthInterval = v;
            return this;
        }

        public Builder maxMessageSize(long v) {
            maxMessageSize = v;
            return this;
        }

        public Builder upstreamConnectTimeout(Duration v) {
            upstreamConnectTimeout = v;
            return this;
        }

        public Builder maxIdleChannelsPerKey(int v) {
            maxIdleChannelsPerKey = v;
            return this;
        }

        public Builder idleChannelTimeout(Duration v) {
            idleChannelTimeout = v;
            return this;
        }

        public Builder scrubWait(Duration v) {
            scrubWait = v;
            return this;
        }

        public Builder slowClientTimeout(Duration v) {
            slowClientTimeout = v;
            return this;
        }

        public Builder slowClientStall(Duration v) {
            slowClientStall = v;
            return this;
        }

        public Builder slowClientBuffer(long v) {
            slowClientBuffer = v;
            return this;
        }

        public Builder scrubTimeout(Duration v) {
            scrubTimeout = v;
            return this;
        }

        /** TLS towards the broker (amqps); null for plain AMQP (the default). */
        public Builder upstreamTls(TlsClientSettings v) {
            upstreamTls = Optional.ofNullable(v);
            return this;
        }

        /** Whether the plain AMQP listener on {@link #listen} is open (default true). */
        public Builder plainListener(boolean v) {
            plainListener = v;
            return this;
        }

        /** A TLS (amqps) listener for clients at {@code address} with {@code settings}; nulls: none (the default). */
        public Builder tlsListen(InetSocketAddress address, TlsServerSettings settings) {
            tlsListen = Optional.ofNullable(address);
            tlsListenSettings = Optional.ofNullable(settings);
            return this;
        }

        /** Whether the plain listener reads PROXY protocol headers (default {@link ProxyProtocol#OFF}). */
        public Builder proxyProtocol(ProxyProtocol v) {
            proxyProtocol = v;
            return this;
        }

        /** Whether the TLS listener reads PROXY protocol headers, before the handshake (default off). */
        public Builder tlsProxyProtocol(ProxyProtocol v) {
            tlsProxyProtocol = v;
            return this;
        }

        /** Most clients connected at once; 0 (the default): no limit but the file-descriptor limit. */
        public Builder maxConnections(int v) {
            maxConnections = v;
            return this;
        }

        /**
         * Most bytes buffered for slow clients, all together; {@link #AUTO_SIZE} (the default): a quarter of the
         * max heap.
         */
        public Builder slowClientBufferTotal(long v) {
            slowClientBufferTotal = v;
            return this;
        }

        /**
         * Bytes all held (incomplete) messages may take together; {@link #AUTO_SIZE} (0, the default): a
         * quarter of the JVM's max heap.
         */
        public Builder messageBuffer(long v) {
            messageBuffer = v;
            return this;
        }

        /** @throws IllegalArgumentException naming the first invalid field */
        public ProxyConfig build() {
            return new ProxyConfig(listen, upstreams, handshakeTimeout, clientHeartbeat, upstreamHeartbeat, frameMax,
                    clientChannelMax, maxUpstreamChannels, idleConnectionTimeout, reauthInterval, maxMessageSize,
                    upstreamConnectTimeout, maxIdleChannelsPerKey, idleChannelTimeout, scrubTimeout, scrubWait,
                    slowClientTimeout, slowClientStall, slowClientBuffer, upstreamTls, plainListener, tlsListen,
                    tlsListenSettings, maxConnections,
                    slowClientBufferTotal == AUTO_SIZE ? quarterOfHeap() : slowClientBufferTotal,
                    messageBuffer == AUTO_SIZE ? defaultMessageBuffer() : messageBuffer, upstreamHold,
                    maxHeldClients, proxyProtocol, tlsProxyProtocol);
        }
    }

    /** A quarter of the JVM's max heap: what held messages may take by default. */
    public static long defaultMessageBuffer() {
        return Math.max(MIN_MESSAGE_BUFFER, quarterOfHeap());
    }

    /** What each of the two heap budgets (message-buffer, slow-client-buffer-total) takes when set to auto. */
    private static long quarterOfHeap() {
        return Runtime.getRuntime().maxMemory() / 4;
    }

    private static void requirePositive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + d);
        }
    }

    private static void requireNotNegative(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative, got " + d);
        }
    }
}
