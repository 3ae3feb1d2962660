package io.warren.launcher;

import io.warren.api.transport.TransportSettings;
import io.warren.core.config.ProxyConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * Every configuration key of the daemon. Each is a command-line option ({@code --listen}), an environment variable
 * ({@code WARREN_LISTEN}) and a key of the configuration file ({@code listen = ...}); {@link Settings} resolves them
 * with the precedence command line &gt; environment &gt; file &gt; default. Engine defaults are read from
 * {@link ProxyConfig#defaults}, so the daemon and the engine never disagree.
 */
enum Setting {
    UPSTREAM("upstream", "URL", "The broker: amqp://host[:port] (default port 5672), or amqps://host[:port] for TLS"
            + " (default port 5671; certificate and host name verified); for a cluster, its nodes comma-separated"
            + " (all amqp or all amqps; a host with several addresses is several nodes). Credentials and virtual host"
            + " come from each client; user:password in the URL is ignored and never printed.", null, null),
    UPSTREAM_HOLD("upstream-hold", "DURATION", "While no upstream node is up, how long a client in the handshake"
            + " waits for one to come back before it is answered 320 CONNECTION_FORCED (0: not at all).",
            "upstreamHold", c -> Values.formatDuration(c.upstreamHold())),
    MAX_HELD_CLIENTS("max-held-clients", "N", "Most clients waiting for an upstream node at once (upstream-hold);"
            + " beyond it clients get the 320 at once.", "maxHeldClients", c -> Integer.toString(c.maxHeldClients())),
    UPSTREAM_CA("upstream-ca", "FILE", "amqps upstream: PEM bundle of the CAs trusted for the broker's certificate"
            + " (default: the JDK's trust store).", null, null),
    UPSTREAM_CERT("upstream-cert", "FILE", "amqps upstream: PEM client certificate chain, for brokers that require"
            + " mutual TLS (with --upstream-key).", null, null),
    UPSTREAM_KEY("upstream-key", "FILE", "amqps upstream: PEM private key of --upstream-cert (unencrypted).", null,
            null),
    UPSTREAM_INSECURE_SKIP_VERIFY("upstream-insecure-skip-verify", null, "amqps upstream: accept any certificate"
            + " and host name. INSECURE: anyone on the network path can read and change the traffic; a warning is"
            + " logged at start.", null, c -> "false"),
    LISTEN("listen", "HOST:PORT", "Where AMQP clients connect ([::1]:5673 for IPv6).", null,
            c -> Values.formatAddress(c.listen())),
    NO_PLAIN_LISTENER("no-plain-listener", null, "Turn off the plain AMQP listener (--listen): clients connect only"
            + " over TLS (needs --tls-listen).", null, c -> "false"),
    TLS_LISTEN("tls-listen", "HOST:PORT", "Also listen for amqps clients here (default port "
            + ProxyConfig.DEFAULT_TLS_PORT + " when only HOST is given); needs --tls-cert and --tls-key.", null, null),
    TLS_CERT("tls-cert", "FILE", "TLS listener: PEM certificate chain, leaf first.", null, null),
    TLS_KEY("tls-key", "FILE", "TLS listener: PEM private key of --tls-cert (unencrypted PKCS#8, RSA or EC).", null,
            null),
    TLS_CLIENT_CA("tls-client-ca", "FILE", "TLS listener: require client certificates signed by a CA of this PEM"
            + " bundle.", null, null),
    PROXY_PROTOCOL("proxy-protocol", "MODE", "Plain listener behind a TCP load balancer: off, optional or required"
            + " PROXY protocol header (v1 or v2, as HAProxy's send-proxy sends) before the AMQP bytes. Its address is"
            + " the client's in logs, the admin API and the keyer; required closes a connection without a valid one"
            + " (one log line, no byte sent).", "proxyProtocol", c -> Values.formatProxyProtocol(c.proxyProtocol())),
    TLS_PROXY_PROTOCOL("tls-proxy-protocol", "MODE", "The same for the TLS listener: off, optional or required"
            + " PROXY protocol header, in clear before the TLS handshake.", "tlsProxyProtocol",
            c -> Values.formatProxyProtocol(c.tlsProxyProtocol())),
    HTTP("http", "HOST:PORT", "Address of the HTTP endpoints /healthz, /readyz and /metrics, or 'off'.", null,
            c -> "127.0.0.1:15673"),
    ADMIN_TOKEN_FILE("admin-token-file", "FILE", "File whose first line is the bearer token the admin API"
            + " (/admin/...) asks for. Without it the admin API answers only when --http is a loopback address;"
            + " with it, every admin request needs 'Authorization: Bearer TOKEN'. Re-read on reload.", null, null),
    LOG_LEVEL("log-level", "LEVEL", "error, warn, info, debug or trace. Client connects and disconnects are logged"
            + " at debug, upstream events at info.", null, c -> "info"),
    LOG_FORMAT("log-format", "FORMAT", "text (one readable line per event) or json (one JSON object per line).",
            null, c -> "text"),
    TRANSPORT("transport", "NAME", "Network transport, by name.", null, c -> "nio"),
    CREDENTIAL_KEYER("credential-keyer", "NAME", "How clients map to upstream pools and credentials, by name.", null,
            c -> "credentials"),
    REUSE_POLICY("reuse-policy", "NAME", "Which upstream channels may be lent to another client, by name"
            + " (publish-safe or never, or a plugin's).", null, c -> "publish-safe"),
    DRAIN_TIMEOUT("drain-timeout", "DURATION", "On SIGTERM or SIGINT, how long clients may finish before the rest"
            + " are closed with 320 CONNECTION_FORCED.", null, c -> "30s"),
    HANDSHAKE_TIMEOUT("handshake-timeout", "DURATION", "How long a client may take from TCP connect to"
            + " connection.open-ok.", "handshakeTimeout", c -> Values.formatDuration(c.handshakeTimeout())),
    HEARTBEAT("heartbeat", "DURATION", "Heartbeat interval offered to clients (0 disables).", "clientHeartbeat",
            c -> Values.formatDuration(c.clientHeartbeat())),
    UPSTREAM_HEARTBEAT("upstream-heartbeat", "DURATION", "Heartbeat interval asked of the broker (0 disables).",
            "upstreamHeartbeat", c -> Values.formatDuration(c.upstreamHeartbeat())),
    UPSTREAM_CONNECT_TIMEOUT("upstream-connect-timeout", "DURATION", "How long dialing and authenticating upstream"
            + " may take.", "upstreamConnectTimeout", c -> Values.formatDuration(c.upstreamConnectTimeout())),
    FRAME_MAX("frame-max", "BYTES", "Largest frame offered to clients and asked of the broker (at least 4096).",
            "frameMax", c -> Integer.toString(c.frameMax())),
    CHANNEL_MAX("channel-max", "N", "Most channels a client may have open at once, offered as channel_max (1..65535);"
            + " one more is answered with connection.close 530, as the broker does.", "clientChannelMax",
            c -> Integer.toString(c.clientChannelMax())),
    MAX_CONNECTIONS("max-connections", "N", "Most clients connected at once (0: no limit but the file-descriptor"
            + " limit, logged at start with the number of clients it allows); others get connection.close 530.",
            "maxConnections", c -> Integer.toString(c.maxConnections())),
    MAX_UPSTREAM_CHANNELS("max-upstream-channels", "N", "Cap on channels per upstream connection; the broker's"
            + " channel_max applies too.", "maxUpstreamChannels", c -> Integer.toString(c.maxUpstreamChannels())),
    MAX_MESSAGE_SIZE("max-message-size", "SIZE", "Largest message body a client may publish (suffix k, m or g for"
            + " KiB, MiB, GiB); a larger one closes its channel with 406, as the broker does.", "maxMessageSize", c -> Values.formatSize(c.maxMessageSize())),
    MESSAGE_BUFFER("message-buffer", "SIZE", "Bytes all messages held until their last frame may take together"
            + " (each reserves its exact size); a client whose message does not fit stops being read until there is"
            + " room. auto: a quarter of the max heap (-Xmx), logged at start. Also caps the message size.",
            "messageBuffer", c -> "auto"),
    IDLE_CONNECTION_TIMEOUT("idle-connection-timeout", "DURATION", "How long an upstream connection without"
            + " channels stays open (the last one of a pool stays while it has clients).", "idleConnectionTimeout",
            c -> Values.formatDuration(c.idleConnectionTimeout())),
    REAUTH_INTERVAL("reauth-interval", "DURATION", "How long a successful upstream login vouches for clients that"
            + " present the same credentials (0: every client logs in upstream).", "reauthInterval",
            c -> Values.formatDuration(c.reauthInterval())),
    MAX_IDLE_CHANNELS_PER_KEY("max-idle-channels-per-key", "N", "Scrubbed upstream channels each pool keeps ready"
            + " to lend (0 disables reuse).", "maxIdleChannelsPerKey",
            c -> Integer.toString(c.maxIdleChannelsPerKey())),
    IDLE_CHANNEL_TIMEOUT("idle-channel-timeout", "DURATION", "How long a scrubbed channel waits in the pool before"
            + " it is closed upstream.", "idleChannelTimeout", c -> Values.formatDuration(c.idleChannelTimeout())),
    SCRUB_TIMEOUT("scrub-timeout", "DURATION", "How long the scrub of a returned channel may wait for confirms and"
            + " its barrier before the channel is closed instead.", "scrubTimeout",
            c -> Values.formatDuration(c.scrubTimeout())),
    SCRUB_WAIT("scrub-wait", "DURATION", "How long a client that needs a channel waits for one being scrubbed"
            + " before a new one is opened upstream, once its pool key has as many channels in scrub as its rate and"
            + " scrub round trip call for (below that it opens one at once; 0: never wait).", "scrubWait",
            c -> Values.formatDuration(c.scrubWait())),
    SLOW_CLIENT_TIMEOUT("slow-client-timeout", "DURATION", "How long a client may leave its write queue full"
            + " before it is disconnected; also how long a message held in the message-buffer may get no body frame"
            + " while other clients wait for room (then its channel is closed, 406).", "slowClientTimeout", c -> Values.formatDuration(c.slowClientTimeout())),
    SLOW_CLIENT_STALL("slow-client-stall", "DURATION", "How long a client with a full write queue may stop the"
            + " upstream connections feeding it, and so the other clients on them, without reading 64 KiB of it;"
            + " then Warren buffers for it instead (up to --slow-client-buffer).", "slowClientStall",
            c -> Values.formatDuration(c.slowClientStall())),
    SLOW_CLIENT_BUFFER("slow-client-buffer", "SIZE", "Most bytes queued for one client once its stall ran out;"
            + " beyond it the client is disconnected.", "slowClientBuffer",
            c -> Values.formatSize(c.slowClientBuffer())),
    SLOW_CLIENT_BUFFER_TOTAL("slow-client-buffer-total", "SIZE", "Most bytes queued for all such clients together"
            + " (auto: a quarter of the JVM's maximum heap); the client whose write goes beyond it is disconnected.",
            "slowClientBufferTotal", c -> "auto"),
    EVENT_LOOPS("event-loops", "N", "Network event-loop threads (0: one per available processor).", null,
            c -> "0"),
    ACCEPT_BACKLOG("accept-backlog", "N", "Listen backlog: connections the kernel queues before Warren accepts"
            + " them (capped by the sysctl net.core.somaxconn; a warning at start says when).", null,
            c -> Integer.toString(TransportSettings.defaults().acceptBacklog()));

    /** The engine defaults, for an arbitrary upstream (no default depends on it). */
    private static final ProxyConfig ENGINE_DEFAULTS =
            ProxyConfig.defaults(new InetSocketAddress(InetAddress.getLoopbackAddress(), 5672));

    private final String key;
    private final String label;
    private final String description;
    private final String engineField;
    private final Function<ProxyConfig, String> defaultValue;

    Setting(String key, String label, String description, String engineField,
            Function<ProxyConfig, String> defaultValue) {
        this.key = key;
        this.label = label;
        this.description = description;
        this.engineField = engineField;
        this.defaultValue = defaultValue;
    }

    /** The configuration file key, which is also the long option without its dashes. */
    String key() {
        return key;
    }

    String option() {
        return "--" + key;
    }

    String envVar() {
        return "WARREN_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** What the value looks like, for help texts: HOST:PORT, DURATION...; null for a flag. */
    String label() {
        return label;
    }

    /**
     * An on/off switch: a command-line option without a value ({@code --no-plain-listener}); {@code true} or
     * {@code false} in the environment and the file.
     */
    boolean flag() {
        return label == null;
    }

    String description() {
        return description;
    }

    /**
     * The built-in default, as it would be written in the file; empty for the upstream and the TLS files, which have
     * none.
     */
    Optional<String> defaultValue() {
        return defaultValue == null ? Optional.empty() : Optional.of(defaultValue.apply(ENGINE_DEFAULTS));
    }

    /** The {@link ProxyConfig} component this key sets, whose name starts the engine's validation messages. */
    Optional<String> engineField() {
        return Optional.ofNullable(engineField);
    }

    /**
     * Whether a reload (SIGHUP, POST /admin/reload) applies a new value of this key to the running daemon; the others
     * are logged as needing a restart and keep their values. Engine keys follow {@link ProxyConfig#RELOADABLE}.
     */
    boolean reloadable() {
        return switch (this) {
            case UPSTREAM -> ProxyConfig.RELOADABLE.contains("upstreams");
            case TLS_CERT, TLS_KEY, TLS_CLIENT_CA -> ProxyConfig.RELOADABLE.contains("tlsListenSettings");
            case LOG_LEVEL, LOG_FORMAT, DRAIN_TIMEOUT, ADMIN_TOKEN_FILE -> true;
            default -> engineField != null && ProxyConfig.RELOADABLE.contains(engineField);
        };
    }

    static Optional<Setting> byKey(String key) {
        for (Setting s : values()) {
            if (s.key.equals(key)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}
