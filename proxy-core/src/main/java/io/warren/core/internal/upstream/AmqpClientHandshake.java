package io.warren.core.internal.upstream;

import io.warren.codec.AmqpMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.ProtocolHeader;
import io.warren.codec.ReplyCode;
import io.warren.core.internal.wire.Sasl;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The AMQP connection handshake from the client's side, as Warren does it towards the broker: protocol header,
 * start-ok with SASL PLAIN, tune-ok, open. Fed the broker's methods in order, it says what to send back and where the
 * handshake stands. A caller that must stop after the login was judged (the broker tunes only once the password is
 * good) waits in {@link Stage#TUNED} and sends {@link #open} when it knows the virtual host.
 *
 * <p>No I/O and no threads: not thread-safe, owned by its caller's loop.
 */
public final class AmqpClientHandshake {
    /** Where the handshake stands; each stage waits for the broker's method named. */
    public enum Stage { AWAIT_START, AWAIT_TUNE, TUNED, AWAIT_OPEN_OK, OPEN, REFUSED }

    /** What Warren asks at tune; 0 means no limit of its own (heartbeat 0: none). */
    public record Limits(int channelMax, int frameMax, int heartbeatSeconds) {}

    /** What both sides agreed at tune: each takes the lower non-zero value. */
    public record Tuning(int channelMax, int frameMax, int heartbeatSeconds) {}

    private final FieldTable clientProperties;
    private final String username;
    private final byte[] password;
    private final Limits limits;
    private Stage stage = Stage.AWAIT_START;
    private FieldTable serverProperties = FieldTable.EMPTY;
    private Tuning tuning;
    private UpstreamError refusal;

    public AmqpClientHandshake(FieldTable clientProperties, String username, byte[] password, Limits limits) {
        this.clientProperties = clientProperties;
        this.username = username;
        this.password = password;
        this.limits = limits;
    }

    /** The 8 bytes a client sends first. */
    public static ByteBuffer protocolHeader() {
        return ByteBuffer.wrap(ProtocolHeader.AMQP_0_9_1.clone());
    }

    public Stage stage() {
        return stage;
    }

    /** The broker's server properties (empty before its connection.start). */
    public FieldTable serverProperties() {
        return serverProperties;
    }

    /** What was agreed at tune; null before. */
    public Tuning tuning() {
        return tuning;
    }

    /** Why the broker refused, once {@link Stage#REFUSED}. */
    public UpstreamError refusal() {
        return refusal;
    }

    /**
     * The broker's next method on channel 0.
     *
     * @return the methods to send back, in order (empty when none is due)
     */
    public List<AmqpMethod> receive(AmqpMethod method) {
        if (method instanceof ConnectionMethod.Close close) {
            refuse(new UpstreamError(close.replyCode(), close.replyText(), close.failingClassId(),
                    close.failingMethodId()));
            return List.of(new ConnectionMethod.CloseOk());
        }
        if (stage == Stage.AWAIT_START && method instanceof ConnectionMethod.Start start) {
            // A space-separated list: AMQPLAIN contains the letters of PLAIN, and is not it.
            if (!List.of(start.mechanisms().asString().trim().split(" +")).contains("PLAIN")) {
                refuse(UpstreamError.of(ReplyCode.ACCESS_REFUSED, "upstream does not offer SASL PLAIN (offers "
                        + start.mechanisms().asString() + ")"));
                return List.of();
            }
            serverProperties = start.serverProperties();
            stage = Stage.AWAIT_TUNE;
            return List.of(new ConnectionMethod.StartOk(clientProperties, "PLAIN",
                    Sasl.plainResponse(username, password), "en_US"));
        }
        if (stage == Stage.AWAIT_TUNE && method instanceof ConnectionMethod.Secure) {
            refuse(UpstreamError.of(ReplyCode.ACCESS_REFUSED, "upstream asked for a SASL challenge Warren cannot answer"));
            return List.of();
        }
        if (stage == Stage.AWAIT_TUNE && method instanceof ConnectionMethod.Tune tune) {
            tuning = agree(tune);
            stage = Stage.TUNED;
            return List.of();
        }
        if (stage == Stage.AWAIT_OPEN_OK && method instanceof ConnectionMethod.OpenOk) {
            stage = Stage.OPEN;
        }
        return List.of();
    }

    /** Once {@link Stage#TUNED}: tune-ok with the agreed values and connection.open for {@code virtualHost}. */
    public List<AmqpMethod> open(String virtualHost) {
        if (stage != Stage.TUNED) {
            throw new IllegalStateException("open before tune: " + stage);
        }
        stage = Stage.AWAIT_OPEN_OK;
        return List.of(new ConnectionMethod.TuneOk(tuning.channelMax(), tuning.frameMax(), tuning.heartbeatSeconds()),
                new ConnectionMethod.Open(virtualHost, "", false));
    }

    private Tuning agree(ConnectionMethod.Tune tune) {
        int theirChannels = tune.channelMax() == 0 ? 65535 : tune.channelMax();
        int channelMax = limits.channelMax() == 0 ? theirChannels : Math.min(theirChannels, limits.channelMax());
        long theirFrames = tune.frameMax() == 0 ? Integer.MAX_VALUE : tune.frameMax();
        int frameMax = (int) (limits.frameMax() == 0 ? theirFrames : Math.min(theirFrames, limits.frameMax()));
        int ours = limits.heartbeatSeconds();
        int heartbeat = ours == 0 ? 0 : tune.heartbeat() == 0 ? ours : Math.min(ours, tune.heartbeat());
        return new Tuning(channelMax, frameMax, heartbeat);
    }

    private void refuse(UpstreamError error) {
        refusal = error;
        stage = Stage.REFUSED;
    }
}
