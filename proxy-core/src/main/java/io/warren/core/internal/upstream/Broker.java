package io.warren.core.internal.upstream;

import io.warren.api.transport.ConnectionHandler;
import io.warren.api.transport.EventLoop;
import io.warren.api.transport.NetworkRuntime;
import io.warren.codec.FieldTable;
import io.warren.core.config.ProxyConfig;
import io.warren.core.internal.stats.EngineStats;
import java.net.InetSocketAddress;

/**
 * The broker Warren is a client of: where it is and how to reach it (plain or TLS), what the configuration asks of
 * connections to it, what it said of itself at the last handshake, and the counters its connections update. Shared
 * by every upstream connection; thread-safe.
 */
public final class Broker {
    private final ProxyConfig config;
    private final NetworkRuntime runtime;
    private final EngineStats stats;
    /** The capabilities the broker advertised at the last upstream handshake; null before the first. */
    private volatile FieldTable capabilities;

    public Broker(ProxyConfig config, NetworkRuntime runtime, EngineStats stats) {
        this.config = config;
        this.runtime = runtime;
        this.stats = stats;
    }

    public ProxyConfig config() {
        return config;
    }

    public EngineStats stats() {
        return stats;
    }

    public InetSocketAddress address() {
        return config.upstream();
    }

    /** host:port, for logs and reply texts. */
    public String name() {
        return address().getHostString() + ":" + address().getPort();
    }

    /** Dials the broker on {@code loop}, with TLS when the upstream is amqps. */
    public void dial(EventLoop loop, ConnectionHandler handler) {
        if (config.upstreamTls().isPresent()) {
            runtime.connect(address(), loop, handler, config.upstreamTls().get());
        } else {
            runtime.connect(address(), loop, handler);
        }
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
}
