package io.warren.core.internal.upstream;

import io.warren.api.UpstreamCredentials;
import io.warren.api.transport.Connection;
import io.warren.api.transport.ConnectionHandler;
import io.warren.api.transport.EventLoop;
import io.warren.codec.AmqpMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.Frame;
import io.warren.codec.FrameDecoder;
import io.warren.codec.FrameType;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.codec.ReplyCode;
import io.warren.core.internal.wire.Frames;
import io.warren.core.internal.wire.PeerProperties;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * One background check of a node that is down: a full AMQP handshake, to open-ok, with the credentials and virtual
 * host of the last connection that opened (a node that refuses them, 403 or 530, answered the whole handshake and is
 * up). Before any client ever logged in there are no credentials; then the broker's connection.start is the proof.
 * The connection closes as soon as the verdict is in.
 *
 * <p>Owned by its loop.
 */
final class NodeProbe implements ConnectionHandler {
    private final Cluster cluster;
    private final Node node;
    private final EventLoop loop;
    private final UpstreamCredentials credentials;
    private final AmqpClientHandshake handshake;
    private final FrameDecoder decoder;
    private EventLoop.Cancellable timeout;
    private Connection conn;
    private boolean done;

    NodeProbe(Cluster cluster, Node node, EventLoop loop) {
        this.cluster = cluster;
        this.node = node;
        this.loop = loop;
        this.credentials = cluster.probeCredentials();
        AmqpClientHandshake.Limits limits = cluster.limits();
        this.handshake = new AmqpClientHandshake(PeerProperties.asClient("node probe"),
                credentials == null ? "" : credentials.username(),
                credentials == null ? new byte[0] : credentials.password(),
                new AmqpClientHandshake.Limits(limits.channelMax(), limits.frameMax(), 0));
        this.decoder = new FrameDecoder(cluster.config().frameMax());
    }

    void start() {
        assert loop.inEventLoop();
        timeout = loop.schedule(() -> failed("did not complete the AMQP handshake within "
                + cluster.config().upstreamConnectTimeout()), cluster.config().upstreamConnectTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
        cluster.dial(node, loop, this);
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
                if (frame.type() == FrameType.METHOD && frame.channel() == 0) {
                    step(MethodCodec.decode(frame.payload()));
                }
            }
        } catch (ProtocolException e) {
            failed("sent a malformed frame: " + e.getMessage());
        }
    }

    private void step(AmqpMethod method) {
        if (credentials == null && method instanceof ConnectionMethod.Start) {
            succeeded("it answers the AMQP handshake; no client has logged in yet");
            return;
        }
        for (AmqpMethod reply : handshake.receive(method)) {
            conn.write(Frames.method(0, reply));
        }
        switch (handshake.stage()) {
            case TUNED -> {
                for (AmqpMethod m : handshake.open(credentials.virtualHost())) {
                    conn.write(Frames.method(0, m));
                }
            }
            case OPEN -> succeeded("a full AMQP handshake succeeded");
            case REFUSED -> {
                UpstreamError refusal = handshake.refusal();
                if (refusal.code() == ReplyCode.ACCESS_REFUSED.code() || refusal.code() == ReplyCode.NOT_ALLOWED.code()) {
                    succeeded("it judged a login (" + refusal.code() + ")");
                } else {
                    failed("refused the handshake: " + refusal.text());
                }
            }
            default -> { }
        }
    }

    private void succeeded(String how) {
        if (finish()) {
            cluster.probeSucceeded(node, how);
        }
    }

    private void failed(String why) {
        failed(UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream broker " + node.name() + " " + why));
    }

    private void failed(UpstreamError error) {
        if (finish()) {
            cluster.probeFailed(node, error);
        }
    }

    private boolean finish() {
        if (done) {
            return false;
        }
        done = true;
        timeout.cancel();
        if (conn != null) {
            if (handshake.stage() == AmqpClientHandshake.Stage.OPEN) {
                conn.write(Frames.method(0, new ConnectionMethod.Close(ReplyCode.REPLY_SUCCESS.code(), "probed", 0,
                        0)));
            }
            conn.close();
        }
        return true;
    }

    @Override
    public void onClose(Connection connection, Throwable cause) {
        if (!done) {
            // As a client's connection would be told: the probe is often the first to meet a broker's refusal.
            failed(UpstreamFailures.socketClosed(node, conn != null, true,
                    cluster.presentsNoClientCertificate(connection), cause));
        }
    }
}
