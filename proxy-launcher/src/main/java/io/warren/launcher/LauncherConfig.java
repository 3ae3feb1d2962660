package io.warren.launcher;

import io.warren.tls.PemTls;
import io.warren.api.transport.ProxyProtocol;
import io.warren.api.transport.TlsClientSettings;
import io.warren.api.transport.TlsConfigException;
import io.warren.api.transport.TlsServerSettings;
import io.warren.api.transport.TransportSettings;
import io.warren.core.config.ProxyConfig;
import io.warren.core.config.UpstreamNode;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The daemon's whole configuration, validated: the engine's {@link ProxyConfig}, the transport settings and what the
 * launcher itself needs. Built from {@link Settings}; every problem is a {@link ConfigException} naming the key and
 * the source of the bad value.
 *
 * @param http where the HTTP endpoints listen, or empty when turned off
 * @param adminToken the bearer token of the admin API, read from {@code admin-token-file}
 * @param tlsWarnings problems of the TLS configuration that do not prevent a start (verification turned off,
 *     certificates expired or expiring soon), one line each, to be logged at start
 */
record LauncherConfig(
        ProxyConfig proxy,
        TransportSettings transportSettings,
        UpstreamUrls upstreamUrls,
        Optional<InetSocketAddress> http,
        String logLevel,
        String logFormat,
        String transport,
        String credentialKeyer,
        String reusePolicy,
        Duration drainTimeout,
        Optional<AdminAccess.Token> adminToken,
        Settings settings,
        List<String> tlsWarnings) {

    static final Set<String> LOG_LEVELS = Set.of("error", "warn", "info", "debug", "trace");
    static final Set<String> LOG_FORMATS = Set.of("text", "json");

    static LauncherConfig from(Settings s) throws ConfigException {
        Settings.Value upstreamValue = s.require(Setting.UPSTREAM, "give UPSTREAM_URL (amqp://host[:port], or a"
                + " comma-separated list of a cluster's nodes) as an argument, or set WARREN_UPSTREAM or 'upstream' in"
                + " the config file");
        UpstreamUrls urls = parse(Setting.UPSTREAM, upstreamValue, UpstreamUrls::parse);
        List<UpstreamNode> upstreams = parse(Setting.UPSTREAM, upstreamValue, t -> urls.resolve());
        List<String> tlsWarnings = new ArrayList<>();
        TlsClientSettings upstreamTls = upstreamTls(s, urls, tlsWarnings);
        boolean noPlain = parse(s, Setting.NO_PLAIN_LISTENER, Values::parseBoolean);
        Optional<InetSocketAddress> tlsListen = file(s, Setting.TLS_LISTEN).isEmpty() ? Optional.empty()
                : Optional.of(parse(s, Setting.TLS_LISTEN,
                        t -> Values.parseAddress(t, ProxyConfig.DEFAULT_TLS_PORT)));
        TlsServerSettings listenerTls = listenerTls(s, tlsListen.isPresent(), tlsWarnings);
        if (noPlain && tlsListen.isEmpty()) {
            throw bad(s, Setting.NO_PLAIN_LISTENER, "turns off the only listener; also give --tls-listen");
        }
        ProxyProtocol proxyProtocol = parse(s, Setting.PROXY_PROTOCOL, Values::parseProxyProtocol);
        ProxyProtocol tlsProxyProtocol = parse(s, Setting.TLS_PROXY_PROTOCOL, Values::parseProxyProtocol);
        if (noPlain && proxyProtocol != ProxyProtocol.OFF) {
            throw bad(s, Setting.PROXY_PROTOCOL, "applies to the plain listener, which --no-plain-listener turns off;"
                    + " use --tls-proxy-protocol for the TLS listener");
        }
        if (tlsListen.isEmpty() && tlsProxyProtocol != ProxyProtocol.OFF) {
            throw bad(s, Setting.TLS_PROXY_PROTOCOL, "only applies to a TLS listener; also give --tls-listen");
        }

        ProxyConfig.Builder b = ProxyConfig.builder(upstreams)
                .upstreamHold(parse(s, Setting.UPSTREAM_HOLD, Values::parseDuration))
                .maxHeldClients(parse(s, Setting.MAX_HELD_CLIENTS, Values::parseInt))
                .listen(parse(s, Setting.LISTEN, Values::parseAddress))
                .handshakeTimeout(parse(s, Setting.HANDSHAKE_TIMEOUT, Values::parseDuration))
                .clientHeartbeat(parse(s, Setting.HEARTBEAT, Values::parseDuration))
                .upstreamHeartbeat(parse(s, Setting.UPSTREAM_HEARTBEAT, Values::parseDuration))
                .upstreamConnectTimeout(parse(s, Setting.UPSTREAM_CONNECT_TIMEOUT, Values::parseDuration))
                .frameMax(parse(s, Setting.FRAME_MAX, Values::parseInt))
                .clientChannelMax(parse(s, Setting.CHANNEL_MAX, Values::parseInt))
                .maxUpstreamChannels(parse(s, Setting.MAX_UPSTREAM_CHANNELS, Values::parseInt))
                .maxMessageSize(parse(s, Setting.MAX_MESSAGE_SIZE, Values::parseSize))
                .messageBuffer(parse(s, Setting.MESSAGE_BUFFER, Values::parseSizeOrAuto))
                .maxConnections(parse(s, Setting.MAX_CONNECTIONS, Values::parseInt))
                .idleConnectionTimeout(parse(s, Setting.IDLE_CONNECTION_TIMEOUT, Values::parseDuration))
                .reauthInterval(parse(s, Setting.REAUTH_INTERVAL, Values::parseDuration))
                .maxIdleChannelsPerKey(parse(s, Setting.MAX_IDLE_CHANNELS_PER_KEY, Values::parseInt))
                .idleChannelTimeout(parse(s, Setting.IDLE_CHANNEL_TIMEOUT, Values::parseDuration))
                .scrubTimeout(parse(s, Setting.SCRUB_TIMEOUT, Values::parseDuration))
                .scrubWait(parse(s, Setting.SCRUB_WAIT, Values::parseDuration))
                .slowClientTimeout(parse(s, Setting.SLOW_CLIENT_TIMEOUT, Values::parseDuration))
                .slowClientStall(parse(s, Setting.SLOW_CLIENT_STALL, Values::parseDuration))
                .slowClientBuffer(parse(s, Setting.SLOW_CLIENT_BUFFER, Values::parseSize))
                .slowClientBufferTotal(parse(s, Setting.SLOW_CLIENT_BUFFER_TOTAL, Values::parseSizeOrAuto))
                .upstreamTls(upstreamTls)
                .plainListener(!noPlain)
                .proxyProtocol(proxyProtocol)
                .tlsProxyProtocol(tlsProxyProtocol)
                .tlsListen(tlsListen.orElse(null), listenerTls);
        ProxyConfig proxy;
        try {
            proxy = b.build();
        } catch (IllegalArgumentException | NullPointerException e) {
            throw engineRejected(s, e);
        }

        int eventLoops = parse(s, Setting.EVENT_LOOPS, Values::parseInt);
        if (eventLoops < 0) {
            throw bad(s, Setting.EVENT_LOOPS, "must be 0 (one per processor) or more, got " + eventLoops);
        }
        int acceptBacklog = parse(s, Setting.ACCEPT_BACKLOG, Values::parseInt);
        if (acceptBacklog < 1) {
            throw bad(s, Setting.ACCEPT_BACKLOG, "must be 1 or more, got " + acceptBacklog);
        }
        TransportSettings defaults = TransportSettings.defaults();
        TransportSettings transport = new TransportSettings(eventLoops, defaults.writeHighWaterMark(),
                defaults.writeLowWaterMark(), acceptBacklog, proxy.upstreamConnectTimeout());

        String httpText = value(s, Setting.HTTP).text().strip();
        Optional<InetSocketAddress> http = httpText.equalsIgnoreCase("off") ? Optional.empty()
                : Optional.of(parse(s, Setting.HTTP, Values::parseAddress));

        String level = value(s, Setting.LOG_LEVEL).text().strip().toLowerCase(Locale.ROOT);
        if (!LOG_LEVELS.contains(level)) {
            throw bad(s, Setting.LOG_LEVEL, "'" + level + "' is not one of error, warn, info, debug, trace");
        }
        String format = value(s, Setting.LOG_FORMAT).text().strip().toLowerCase(Locale.ROOT);
        if (!LOG_FORMATS.contains(format)) {
            throw bad(s, Setting.LOG_FORMAT, "'" + format + "' is not one of text, json");
        }
        Duration drain = parse(s, Setting.DRAIN_TIMEOUT, Values::parseDuration);
        Optional<AdminAccess.Token> adminToken = adminToken(s);

        return new LauncherConfig(proxy, transport, urls, http, level, format, name(s, Setting.TRANSPORT),
                name(s, Setting.CREDENTIAL_KEYER), name(s, Setting.REUSE_POLICY), drain, adminToken, s,
                List.copyOf(tlsWarnings));
    }

    /** A token shorter than this is refused: it could be guessed over the network. */
    static final int MIN_ADMIN_TOKEN_LENGTH = 16;

    /** The first line of admin-token-file, stripped. */
    static Optional<AdminAccess.Token> adminToken(Settings s) throws ConfigException {
        Optional<Path> file = file(s, Setting.ADMIN_TOKEN_FILE);
        if (file.isEmpty()) {
            return Optional.empty();
        }
        String token;
        try (java.io.BufferedReader r = java.nio.file.Files.newBufferedReader(file.get())) {
            token = r.readLine();
        } catch (java.nio.file.NoSuchFileException e) {
            throw bad(s, Setting.ADMIN_TOKEN_FILE, "file " + file.get() + " does not exist");
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            throw bad(s, Setting.ADMIN_TOKEN_FILE, "cannot read " + file.get() + ": " + e.getMessage());
        }
        token = token == null ? "" : token.strip();
        if (token.length() < MIN_ADMIN_TOKEN_LENGTH) {
            throw bad(s, Setting.ADMIN_TOKEN_FILE, "the token in " + file.get() + " is " + token.length()
                    + " characters; use at least " + MIN_ADMIN_TOKEN_LENGTH + " (e.g. openssl rand -hex 32)");
        }
        if (token.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
            throw bad(s, Setting.ADMIN_TOKEN_FILE, "the token in " + file.get() + " must be printable ASCII"
                    + " without spaces");
        }
        return Optional.of(new AdminAccess.Token(token));
    }

    private static final List<Setting> UPSTREAM_TLS = List.of(Setting.UPSTREAM_CA, Setting.UPSTREAM_CERT,
            Setting.UPSTREAM_KEY, Setting.UPSTREAM_INSECURE_SKIP_VERIFY);
    private static final List<Setting> LISTENER_TLS = List.of(Setting.TLS_CERT, Setting.TLS_KEY,
            Setting.TLS_CLIENT_CA);

    /** The upstream's TLS settings, checked (files read, key matched): null for an amqp:// upstream. */
    private static TlsClientSettings upstreamTls(Settings s, UpstreamUrls urls, List<String> warnings)
            throws ConfigException {
        boolean insecure = parse(s, Setting.UPSTREAM_INSECURE_SKIP_VERIFY, Values::parseBoolean);
        if (!urls.tls()) {
            for (Setting setting : UPSTREAM_TLS) {
                if (setting == Setting.UPSTREAM_INSECURE_SKIP_VERIFY ? insecure : file(s, setting).isPresent()) {
                    throw bad(s, setting, "only applies to an amqps:// upstream, but the upstream is " + urls.masked());
                }
            }
            return null;
        }
        Optional<Path> cert = file(s, Setting.UPSTREAM_CERT);
        Optional<Path> key = file(s, Setting.UPSTREAM_KEY);
        if (cert.isPresent() && key.isEmpty()) {
            throw bad(s, Setting.UPSTREAM_CERT, "needs --upstream-key (the certificate's private key) too");
        }
        if (key.isPresent() && cert.isEmpty()) {
            throw bad(s, Setting.UPSTREAM_KEY, "needs --upstream-cert (the key's certificate) too");
        }
        // A single broker's host is the server name; with several nodes, each node's host is (the engine's rule).
        TlsClientSettings tls = new TlsClientSettings(urls.first().host(), file(s, Setting.UPSTREAM_CA).orElse(null),
                cert.orElse(null), key.orElse(null), insecure, TlsClientSettings.SUPPORTED_PROTOCOLS);
        try {
            PemTls.clientContext(tls);
            warnings.addAll(PemTls.warnings(tls, Instant.now()));
        } catch (TlsConfigException e) {
            throw unusable(s, e, UPSTREAM_TLS);
        }
        return tls;
    }

    /** The TLS listener's settings, checked: null without --tls-listen. */
    private static TlsServerSettings listenerTls(Settings s, boolean listening, List<String> warnings)
            throws ConfigException {
        if (!listening) {
            for (Setting setting : LISTENER_TLS) {
                if (file(s, setting).isPresent()) {
                    throw bad(s, setting, "only applies to a TLS listener; also give --tls-listen");
                }
            }
            return null;
        }
        Optional<Path> cert = file(s, Setting.TLS_CERT);
        Optional<Path> key = file(s, Setting.TLS_KEY);
        if (cert.isEmpty() || key.isEmpty()) {
            throw bad(s, Setting.TLS_LISTEN, "a TLS listener needs --tls-cert and --tls-key (PEM certificate chain"
                    + " and private key)");
        }
        TlsServerSettings tls = new TlsServerSettings(cert.get(), key.get(),
                file(s, Setting.TLS_CLIENT_CA).orElse(null), TlsClientSettings.SUPPORTED_PROTOCOLS);
        try {
            PemTls.serverContext(tls);
            warnings.addAll(PemTls.warnings(tls, Instant.now()));
        } catch (TlsConfigException e) {
            throw unusable(s, e, LISTENER_TLS);
        }
        return tls;
    }

    /** An optional file setting: empty when unset or blank. */
    private static Optional<Path> file(Settings s, Setting setting) {
        return s.get(setting).map(v -> v.text().strip()).filter(t -> !t.isEmpty()).map(Path::of);
    }

    /** The file's own one-line message, prefixed with the key and source that named the file. */
    private static ConfigException unusable(Settings s, TlsConfigException e, List<Setting> candidates) {
        for (Setting setting : candidates) {
            if (file(s, setting).filter(p -> p.equals(e.file())).isPresent()) {
                return bad(s, setting, e.getMessage());
            }
        }
        return new ConfigException("tls: " + e.getMessage());
    }

    /** The engine names the record component first in its messages: map it back to the key and source. */
    private static ConfigException engineRejected(Settings s, RuntimeException e) {
        String message = String.valueOf(e.getMessage());
        for (Setting setting : Setting.values()) {
            Optional<String> field = setting.engineField();
            if (field.isPresent() && message.startsWith(field.get() + " ")) {
                return bad(s, setting, "value " + s.get(setting).map(Settings.Value::text).orElse("?")
                        + " rejected: " + message.substring(field.get().length()).strip());
            }
        }
        return new ConfigException("invalid configuration: " + message);
    }

    private interface Parser<T> {
        T parse(String text);
    }

    private static Settings.Value value(Settings s, Setting setting) {
        return s.get(setting).orElseThrow(() -> new IllegalStateException("no default for " + setting.key()));
    }

    private static <T> T parse(Settings s, Setting setting, Parser<T> parser) throws ConfigException {
        return parse(setting, value(s, setting), parser);
    }

    private static <T> T parse(Setting setting, Settings.Value v, Parser<T> parser) throws ConfigException {
        try {
            return parser.parse(v.text());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(setting.key() + " (" + v.source() + "): " + e.getMessage());
        }
    }

    private static String name(Settings s, Setting setting) throws ConfigException {
        String n = value(s, setting).text().strip();
        if (n.isEmpty()) {
            throw bad(s, setting, "empty name");
        }
        return n;
    }

    static ConfigException bad(Settings s, Setting setting, String problem) {
        String source = s.get(setting).map(Settings.Value::source).orElse("default");
        return new ConfigException(setting.key() + " (" + source + "): " + problem);
    }

    /**
     * The effective configuration in the file's own format, with where each value came from; the upstream URL is
     * masked.
     */
    String describe() {
        StringBuilder out = new StringBuilder();
        out.append("# effective configuration (precedence: command line > environment > file > default)\n");
        for (Setting setting : Setting.values()) {
            Settings.Value v = settings.get(setting).orElse(new Settings.Value("", "unset"));
            String shown = setting == Setting.UPSTREAM ? upstreamUrls.masked() : v.text().strip();
            out.append(String.format(Locale.ROOT, "%-29s = %-28s # %s%n", setting.key(), shown, v.source()));
        }
        List<UpstreamNode> nodes = proxy.upstreams();
        out.append("# upstream ").append(nodes.size() == 1 ? "node" : nodes.size() + " nodes").append(" ("
                + (upstreamUrls.tls() ? "amqps" : "amqp") + "): ");
        out.append(String.join(", ", nodes.stream().map(UpstreamNode::name).toList())).append('\n');
        for (String w : tlsWarnings) {
            out.append("# warning: ").append(w).append('\n');
        }
        return out.toString();
    }
}
