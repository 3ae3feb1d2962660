package io.warren.core.internal.upstream;

import io.warren.api.UpstreamCredentials;
import io.warren.api.transport.Connection;
import io.warren.api.transport.ConnectionHandler;
import io.warren.api.transport.EventLoop;
import io.warren.codec.AmqpMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.ExchangeMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.Frame;
import io.warren.codec.FrameDecoder;
import io.warren.codec.FrameType;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.codec.ProtocolHeader;
import io.warren.codec.ReplyCode;
import io.warren.core.internal.screen.HardError;
import io.warren.core.internal.wire.Frames;
import io.warren.core.internal.wire.PeerProperties;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Finds out, on a connection no client shares, whether the broker knows an exchange type. RabbitMQ answers an
 * exchange.declare of an unknown type with a connection-level 503, and whether a type exists depends on the
 * broker's plugins; so the first declare of a type Warren has not seen runs here first (DESIGN.md invariant 5).
 * Verdicts are kept for the life of the process.
 */
public final class ExchangeTypeProbe {
    /** What the broker said of a type: empty when it exists, else the error that closed the probe. */
    private final Map<String, Optional<HardError>> verdicts = new ConcurrentHashMap<>();
    /** Guarded by itself: callers waiting for a probe under way, by type. */
    private final Map<String, List<Consumer<Optional<HardError>>>> waiting = new ConcurrentHashMap<>();
    private final Cluster cluster;

    public ExchangeTypeProbe(Cluster cluster) {
        this.cluster = cluster;
    }

    /** The known verdict for a type, or null when it must be probed. */
    public Optional<HardError> verdict(String type) {
        return verdicts.get(type);
    }

    /**
     * Declares {@code declare} (made synchronous) on a fresh connection and reports the verdict to {@code done}
     * on {@code loop}.
     */
    public void probe(ExchangeMethod.Declare declare, UpstreamCredentials credentials, EventLoop loop,
            Consumer<Optional<HardError>> done) {
        Consumer<Optional<HardError>> onLoop = v -> loop.execute(() -> done.accept(v));
        boolean first;
        synchronized (waiting) {
            Optional<HardError> known = verdicts.get(declare.type());
            if (known != null) {
                onLoop.accept(known);
                return;
            }
            List<Consumer<Optional<HardError>>> list = waiting.computeIfAbsent(declare.type(), t -> new ArrayList<>());
            first = list.isEmpty();
            list.add(onLoop);
        }
        if (first) {
            ExchangeMethod.Declare sync = new ExchangeMethod.Declare(declare.ticket(), declare.exchange(),
                    declare.type(), declare.passive(), declare.durable(), declare.autoDelete(), declare.internal(),
                    false, declare.arguments());
            Node node = cluster.choose(List.of());
            if (node == null) {
                finish(declare.type(), Optional.of(HardError.of(ReplyCode.CONNECTION_FORCED, cluster.noNodeUp().text()
                        .replaceFirst("^CONNECTION_FORCED - ", ""), 0, 0)), false);
            } else {
                cluster.dial(node, loop, new Session(sync, credentials, loop));
            }
        }
    }

    private void finish(String type, Optional<HardError> verdict, boolean cache) {
        List<Consumer<Optional<HardError>>> list;
        synchronized (waiting) {
            if (cache) {
                verdicts.put(type, verdict);
            }
            list = waiting.remove(type);
        }
        if (list != null) {
            list.forEach(c -> c.accept(verdict));
        }
    }

    /** One probe connection: handshake, channel 1, the declare, close. */
    private final class Session implements ConnectionHandler {
        private final ExchangeMethod.Declare declare;
        private final UpstreamCredentials credentials;
        private final FrameDecoder decoder = new FrameDecoder(cluster.config().frameMax());
        private final AmqpClientHandshake handshake;
        private final EventLoop.Cancellable timeout;
        private Connection conn;
        private boolean done;

        Session(ExchangeMethod.Declare declare, UpstreamCredentials credentials, EventLoop loop) {
            this.declare = declare;
            this.credentials = credentials;
            // Warren's own limits, but no heartbeat: the probe lives no longer than the connect timeout.
            AmqpClientHandshake.Limits limits = cluster.limits();
            this.handshake = new AmqpClientHandshake(PeerProperties.asClient("exchange type check"),
                    credentials.username(), credentials.password(),
                    new AmqpClientHandshake.Limits(limits.channelMax(), limits.frameMax(), 0));
            this.timeout = loop.schedule(() -> fail("upstream did not answer the exchange type check in time"),
                    cluster.config().upstreamConnectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public void onOpen(Connection connection) {
            conn = connection;
            conn.write(AmqpClientHandshake.protocolHeader());
        }

        @Override
        public void onRead(Connection connection, ByteBuffer data) {
            try {
                Frame frame;
                while (!done && (frame = decoder.next(data)) != null) {
                    if (frame.type() == FrameType.METHOD) {
                        handle(MethodCodec.decode(frame.payload()));
                    }
                }
            } catch (ProtocolException e) {
                fail("upstream sent a malformed frame: " + e.getMessage());
            }
        }

        private void handle(AmqpMethod method) {
            if (method instanceof ConnectionMethod.Close close) {
                conn.write(Frames.method(0, new ConnectionMethod.CloseOk()));
                boolean aboutTheType = close.failingClassId() == ExchangeMethod.Declare.CLASS_ID
                        && close.failingMethodId() == ExchangeMethod.Declare.METHOD_ID;
                Optional<ReplyCode> code = ReplyCode.of(close.replyCode());
                if (aboutTheType && code.isPresent() && code.get().isHardError()) {
                    conclude(Optional.of(new HardError(code.get(), close.replyText(), close.failingClassId(),
                            close.failingMethodId())), true);
                } else {
                    fail("upstream refused the exchange type check: " + close.replyCode() + " " + close.replyText());
                }
                return;
            }
            if (handshake.stage().compareTo(AmqpClientHandshake.Stage.TUNED) < 0) {
                for (AmqpMethod reply : handshake.receive(method)) {
                    conn.write(Frames.method(0, reply));
                }
                if (handshake.stage() == AmqpClientHandshake.Stage.TUNED) {
                    // Pipelined: the broker answers open, channel.open and the declare in order.
                    for (AmqpMethod m : handshake.open(credentials.virtualHost())) {
                        conn.write(Frames.method(0, m));
                    }
                    conn.write(Frames.method(1, new ChannelMethod.Open("")));
                    conn.write(Frames.method(1, declare));
                } else if (handshake.stage() == AmqpClientHandshake.Stage.REFUSED) {
                    fail("upstream refused the exchange type check: " + handshake.refusal().code() + " "
                            + handshake.refusal().text());
                }
            } else if (method instanceof ExchangeMethod.DeclareOk || method instanceof ChannelMethod.Close) {
                // Declared, or refused with a channel error: either way the type exists (it is checked first).
                conclude(Optional.empty(), true);
            }
        }

        private void conclude(Optional<HardError> verdict, boolean cache) {
            if (done) {
                return;
            }
            done = true;
            timeout.cancel();
            if (conn != null) {
                conn.write(Frames.method(0, new ConnectionMethod.Close(200, "exchange type checked", 0, 0)));
                conn.close();
            }
            finish(declare.type(), verdict, cache);
        }

        private void fail(String why) {
            // No verdict: the client that asked is closed as if its connection failed; nothing is cached.
            conclude(Optional.of(HardError.of(ReplyCode.CONNECTION_FORCED, why, 0, 0)), false);
        }

        @Override
        public void onClose(Connection connection, Throwable cause) {
            if (!done) {
                fail("exchange type check connection lost" + (cause == null ? "" : ": " + cause.getMessage()));
            }
        }
    }
}
