package io.warren.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.FrameEncoder;
import io.warren.codec.FrameType;
import io.warren.codec.LongString;
import io.warren.codec.ProtocolHeader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The floor's server answers the exchanges the bench's clients make, with real clients over real sockets. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CannedResponderTest {
    private CannedResponder responder;

    @BeforeEach
    void start() throws IOException {
        responder = CannedResponder.start(0);
    }

    @AfterEach
    void stop() throws IOException {
        responder.close();
    }

    @Test
    void answersTheRawShortLivedClientOneAfterAnother() throws IOException {
        RawClient client = new RawClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), responder.port()),
                "guest", "guest");
        byte[] body = "hello".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 50; i++) {
            assertThat(client.publishOnce("", "q", body)).isPositive(); // every -ok came, up to close-ok
        }
    }

    @Test
    void answersTheJavaClientsHandshakeChannelAndCloses() throws Exception {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost("127.0.0.1");
        f.setPort(responder.port());
        f.setAutomaticRecoveryEnabled(false);
        try (Connection c = f.newConnection("canned")) {
            assertThat(c.getServerProperties().get("product").toString()).contains("canned responder");
            Channel ch = c.createChannel();
            ch.basicPublish("", "q", null, new byte[100]);
            ch.close();
            assertThat(c.isOpen()).isTrue();
        }
    }

    @Test
    void answersAFrameThatArrivesInPieces() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), responder.port())) {
            s.setSoTimeout(10_000);
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(ProtocolHeader.AMQP_0_9_1);
            assertThat(methodOf(in)).isEqualTo("10.10"); // connection.start
            ByteBuffer startOk = FrameEncoder.method(0, new ConnectionMethod.StartOk(FieldTable.EMPTY, "PLAIN",
                    LongString.of("\0guest\0guest"), "en_US"));
            byte[] frame = Arrays.copyOf(startOk.array(), startOk.remaining());
            for (int cut : new int[] {3, 11}) { // inside the frame header, then inside the payload
                out.write(frame, 0, cut);
                out.flush();
                Thread.sleep(50);
                out.write(frame, cut, frame.length - cut);
                out.flush();
                assertThat(methodOf(in)).isEqualTo("10.30"); // connection.tune, once the frame is whole
            }
        }
    }

    /** Reads one method frame; "class.method". */
    private static String methodOf(InputStream in) throws IOException {
        ByteBuffer header = ByteBuffer.wrap(in.readNBytes(7));
        assertThat(header.get(0)).isEqualTo((byte) FrameType.METHOD);
        byte[] payload = in.readNBytes(header.getInt(3) + 1);
        ByteBuffer p = ByteBuffer.wrap(payload);
        assertThat(payload[payload.length - 1]).isEqualTo((byte) FrameType.FRAME_END);
        return p.getShort(0) + "." + p.getShort(2);
    }

    @Test
    void answersAnotherProtocolWithItsOwnHeaderAndCloses() throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), responder.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(new byte[] {'A', 'M', 'Q', 'P', 0, 1, 0, 0});
            InputStream in = s.getInputStream();
            assertThat(in.readNBytes(9)).containsExactly(ProtocolHeader.AMQP_0_9_1); // 8 bytes, then end of stream
        }
    }
}
