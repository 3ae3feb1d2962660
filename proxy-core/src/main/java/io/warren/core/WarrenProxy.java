package io.warren.core;

import io.warren.api.ChannelReusePolicy;
import io.warren.api.CredentialKeyer;
import io.warren.api.transport.Listener;
import io.warren.api.transport.NetworkRuntime;
import io.warren.api.transport.Transport;
import io.warren.api.transport.TransportSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Warren proxy: a listener for AMQP clients and the pools of upstream connections behind it.
 *
 * <pre>{@code
 * WarrenProxy proxy = WarrenProxy.start(config, transport, TransportSettings.defaults(), keyer, policy);
 * ...
 * proxy.close();
 * }</pre>
 */
public final class WarrenProxy implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WarrenProxy.class);

    private final ProxyEngine engine;
    private final NetworkRuntime runtime;
    private final Listener listener;
    private volatile boolean closed;

    private WarrenProxy(ProxyEngine engine, NetworkRuntime runtime, Listener listener) {
        this.engine = engine;
        this.runtime = runtime;
        this.listener = listener;
    }

    /**
     * Starts the transport and listens.
     *
     * @throws IOException when the transport cannot start or the listen address cannot be bound
     */
    public static WarrenProxy start(ProxyConfig config, Transport transport, TransportSettings settings,
            CredentialKeyer keyer, ChannelReusePolicy policy) throws IOException {
        NetworkRuntime runtime = transport.start(settings);
        try {
            ProxyEngine engine = new ProxyEngine(config, runtime, keyer, policy);
            Listener listener = runtime.listen(config.listen(), connection -> {
                ClientSession session = new ClientSession(engine, connection);
                engine.sessions().add(session);
                return session;
            });
            log.info("Warren {} listening on {} for upstream {}:{} (transport {}, keyer {}, reuse policy {})",
                    ProxyEngine.VERSION, listener.address(), config.upstream().getHostString(),
                    config.upstream().getPort(), transport.name(), keyer.name(), policy.name());
            return new WarrenProxy(engine, runtime, listener);
        } catch (IOException | RuntimeException e) {
            runtime.close();
            throw e;
        }
    }

    /** For tests in this package: the engine's internals (reuse counters, pools). */
    ProxyEngine engine() {
        return engine;
    }

    /** The bound listen address (with the real port when port 0 was configured). */
    public InetSocketAddress listenAddress() {
        return listener.address();
    }

    public ProxyStats stats() {
        return engine.stats();
    }

    /** Clients connected now. */
    public int clientCount() {
        return engine.sessions().size();
    }

    /** Upstream connections in the pools now (connecting or open). */
    public int upstreamConnectionCount() {
        return engine.pools().connections().size();
    }

    /** Stops accepting new clients; connected ones carry on. */
    public void stopAccepting() {
        listener.close();
    }

    /**
     * Waits up to {@code timeout} for clients to leave on their own.
     *
     * @return whether every client left
     */
    public boolean awaitClients(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!engine.sessions().isEmpty()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.MILLISECONDS.sleep(Math.min(50, TimeUnit.NANOSECONDS.toMillis(left) + 1));
        }
        return true;
    }

    /**
     * Closes remaining clients with 320 CONNECTION_FORCED, closes upstream connections cleanly and stops the
     * transport. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        listener.close();
        for (ClientSession session : engine.sessions()) {
            session.loop().execute(() -> session.forceClose("proxy shutting down"));
        }
        try {
            awaitClients(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        engine.pools().closeAll();
        try {
            TimeUnit.MILLISECONDS.sleep(100); // let connection.close reach the broker before the sockets go
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        runtime.close();
        log.info("Warren stopped");
    }
}
