package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.codec.ChannelMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.FrameEncoder;
import io.warren.codec.FrameType;
import io.warren.codec.LongString;
import io.warren.codec.ProtocolHeader;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Counterexamples found by {@link HostileClientFuzzTest}, kept as plain tests. */
@WithRabbitBroker
class HostileClientRegressionTest {
    static RabbitBroker broker;

    /**
     * Found by frameSequenceFuzz: bytes that arrive while Warren waits (here for the first upstream login, as for a
     * channel being scrubbed) are kept and replayed; a violation among them closed the client with reads left
     * paused, so its close-ok was never read and the socket stayed open for the 5 s grace period.
     */
    @Test
    void violationInBytesReplayedAfterAWaitStillReadsTheClientsCloseOk() throws Exception {
        try (WarrenHarness warren = WarrenHarness.start(broker);
                RawAmqpClient c = new RawAmqpClient("127.0.0.1", warren.port())) {
            // The whole handshake and a violation in one write: a fresh Warren has no login to vouch for guest, so
            // it waits for the broker after start-ok and keeps the rest for later.
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.writeBytes(ProtocolHeader.AMQP_0_9_1);
            write(all, 0, new ConnectionMethod.StartOk(FieldTable.EMPTY, "PLAIN",
                    LongString.of("\0guest\0guest".getBytes(StandardCharsets.UTF_8)), "en_US"));
            write(all, 0, new ConnectionMethod.TuneOk(0, 131072, 0));
            write(all, 0, new ConnectionMethod.Open("/", "", false));
            write(all, 1, new ChannelMethod.Open(""));
            all.write(FrameType.BODY); // a body frame with no publish before it
            all.writeBytes(new byte[] {0, 1, 0, 0, 0, 1, 7, (byte) FrameType.FRAME_END});
            c.send(all.toByteArray());

            ConnectionMethod.Close close = c.awaitConnectionClose(); // answers close-ok
            // The broker-equivalent code for what was wrong first (here connection.open pipelined ahead of the
            // login's outcome); what matters is what happens after it.
            assertThat(close).as("Warren closed the client with a connection.close").isNotNull();
            assertThat(c.closedWithin(Duration.ofSeconds(3)))
                    .as("Warren read the close-ok and closed at once, not after its 5 s grace period").isTrue();
        }
    }

    private static void write(ByteArrayOutputStream out, int channel, io.warren.codec.AmqpMethod m) {
        ByteBuffer b = FrameEncoder.method(channel, m);
        out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
    }
}
