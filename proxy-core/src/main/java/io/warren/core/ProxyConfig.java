package io.warren.core;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything the engine needs to run, validated once. The launcher builds it from the command line, environment and
 * configuration file.
 *
 * @param listen where clients connect
 * @param upstream the broker's AMQP address
 * @param handshakeTimeout how long a client may take from TCP connect to connection.open-ok
 * @param clientHeartbeat heartbeat interval offered to clients (zero disables)
 * @param upstreamHeartbeat heartbeat interval asked of the broker (zero disables)
 * @param frameMax largest frame offered to clients and asked of the broker, in bytes
 * @param clientChannelMax largest channel number a client may open
 * @param maxUpstreamChannels cap on channels per upstream connection (the broker's own channel_max also applies)
 * @param idleConnectionTimeout how long an upstream connection with no channels stays open (the last one of a key
 *     stays while the key has clients)
 * @param reauthInterval how long a successful upstream authentication vouches for clients that present the same
 *     credentials; after it, the next such client causes a fresh upstream login
 * @param maxMessageSize largest message body a client may publish; a message is held whole until its last frame
 *     arrives (so a client that vanishes mid-message never routes a partial one)
 * @param upstreamConnectTimeout how long dialing and authenticating upstream may take
 */
public record ProxyConfig(
        InetSocketAddress listen,
        InetSocketAddress upstream,
        Duration handshakeTimeout,
        Duration clientHeartbeat,
        Duration upstreamHeartbeat,
        int frameMax,
        int clientChannelMax,
        int maxUpstreamChannels,
        Duration idleConnectionTimeout,
        Duration reauthInterval,
        long maxMessageSize,
        Duration upstreamConnectTimeout) {

    public static final int DEFAULT_PORT = 5673;

    public ProxyConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(upstream, "upstream");
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
        if (maxMessageSize < 1) {
            throw new IllegalArgumentException("maxMessageSize must be positive, got " + maxMessageSize);
        }
        if (clientHeartbeat.toSeconds() > 65535 || upstreamHeartbeat.toSeconds() > 65535) {
            throw new IllegalArgumentException("heartbeats must be at most 65535 s");
        }
    }

    /** Defaults an operator gets without configuration, for the given upstream. */
    public static ProxyConfig defaults(InetSocketAddress upstream) {
        return new ProxyConfig(
                new InetSocketAddress("127.0.0.1", DEFAULT_PORT),
                upstream,
                Duration.ofSeconds(10),
                Duration.ofSeconds(60),
                Duration.ofSeconds(30),
                131072,
                2047,
                2047,
                Duration.ofMinutes(5),
                Duration.ofSeconds(60),
                128L * 1024 * 1024,
                Duration.ofSeconds(10));
    }

    public ProxyConfig withListen(InetSocketAddress address) {
        return new ProxyConfig(address, upstream, handshakeTimeout, clientHeartbeat, upstreamHeartbeat, frameMax,
                clientChannelMax, maxUpstreamChannels, idleConnectionTimeout, reauthInterval, maxMessageSize,
                upstreamConnectTimeout);
    }

    public ProxyConfig withHeartbeats(Duration client, Duration upstreamInterval) {
        return new ProxyConfig(listen, upstream, handshakeTimeout, client, upstreamInterval, frameMax,
                clientChannelMax, maxUpstreamChannels, idleConnectionTimeout, reauthInterval, maxMessageSize,
                upstreamConnectTimeout);
    }

    public ProxyConfig withMaxUpstreamChannels(int max) {
        return new ProxyConfig(listen, upstream, handshakeTimeout, clientHeartbeat, upstreamHeartbeat, frameMax,
                clientChannelMax, max, idleConnectionTimeout, reauthInterval, maxMessageSize, upstreamConnectTimeout);
    }

    public ProxyConfig withHandshakeTimeout(Duration timeout) {
        return new ProxyConfig(listen, upstream, timeout, clientHeartbeat, upstreamHeartbeat, frameMax,
                clientChannelMax, maxUpstreamChannels, idleConnectionTimeout, reauthInterval, maxMessageSize,
                upstreamConnectTimeout);
    }

    public ProxyConfig withIdleConnectionTimeout(Duration timeout) {
        return new ProxyConfig(listen, upstream, handshakeTimeout, clientHeartbeat, upstreamHeartbeat, frameMax,
                clientChannelMax, maxUpstreamChannels, timeout, reauthInterval, maxMessageSize,
                upstreamConnectTimeout);
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
