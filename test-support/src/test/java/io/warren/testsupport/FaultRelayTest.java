package io.warren.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.warren.testsupport.FaultRelay.Direction;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The relay against a plain socket server: it cuts exactly where it says, stalls, and refuses. */
class FaultRelayTest {
    private ServerSocket target;
    private FaultRelay relay;

    @BeforeEach
    void start() throws IOException {
        target = new ServerSocket();
        target.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        relay = FaultRelay.start("127.0.0.1", target.getLocalPort());
    }

    @AfterEach
    void stop() throws IOException {
        relay.close();
        target.close();
    }

    private static byte[] frame(int type, int payloadSize) {
        ByteBuffer b = ByteBuffer.allocate(7 + payloadSize + 1);
        b.put((byte) type).putShort((short) 1).putInt(payloadSize);
        for (int i = 0; i < payloadSize; i++) {
            b.put((byte) i);
        }
        b.put((byte) 0xCE);
        return b.array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Everything the peer receives until end of stream or reset. */
    private static byte[] readUntilGone(Socket s) throws IOException {
        s.setSoTimeout(10_000);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        InputStream in = s.getInputStream();
        byte[] buf = new byte[4096];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                got.write(buf, 0, n);
            }
        } catch (SocketException reset) {
            // the relay reset the connection: what arrived before is the answer
        }
        return got.toByteArray();
    }

    @Test
    void resetMidFrameForwardsExactlyHalfOfTheChosenFrameThenResetsBothSides() throws Exception {
        byte[] header = "AMQP\0\0\11\1".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        byte[] method = frame(FaultRelay.FRAME_METHOD, 10);
        byte[] contentHeader = frame(FaultRelay.FRAME_HEADER, 14);
        byte[] body1 = frame(FaultRelay.FRAME_BODY, 100);
        byte[] body2 = frame(FaultRelay.FRAME_BODY, 100);
        try (Socket client = new Socket("127.0.0.1", relay.port()); Socket server = target.accept()) {
            FaultRelay.Link link = relay.awaitLinks(1, Duration.ofSeconds(5)).get(0);
            link.resetMidFrame(Direction.TO_TARGET, FaultRelay.FRAME_BODY, 1);
            // One byte at a time for the first frames: the cut must not depend on how reads split the stream.
            for (byte b : concat(header, method, contentHeader)) {
                client.getOutputStream().write(b);
            }
            client.getOutputStream().write(concat(body1, body2, frame(FaultRelay.FRAME_BODY, 100)));
            byte[] got = readUntilGone(server);
            byte[] expected = concat(header, method, contentHeader, body1, Arrays.copyOf(body2, 7 + 50));
            assertThat(got).isEqualTo(expected);
            assertThat(link.bytesForwarded(Direction.TO_TARGET)).isEqualTo(expected.length);
            assertThat(link.isOpen()).isFalse();
            assertThat(readUntilGone(client)).as("the client side was reset too").isEmpty();
        }
    }

    @Test
    void resetMidFrameTowardsTheClientCountsFramesFromTheFirstByte() throws Exception {
        byte[] heartbeat = frame(FaultRelay.FRAME_HEARTBEAT, 0);
        byte[] body = frame(FaultRelay.FRAME_BODY, 9);
        try (Socket client = new Socket("127.0.0.1", relay.port()); Socket server = target.accept()) {
            relay.awaitLinks(1, Duration.ofSeconds(5)).get(0).resetMidFrame(Direction.TO_CLIENT, FaultRelay.FRAME_BODY, 0);
            server.getOutputStream().write(concat(heartbeat, body, body));
            assertThat(readUntilGone(client)).isEqualTo(concat(heartbeat, Arrays.copyOf(body, 7 + 4)));
        }
    }

    @Test
    void stalledLinkForwardsNothingUntilResumed() throws Exception {
        try (Socket client = new Socket("127.0.0.1", relay.port()); Socket server = target.accept()) {
            FaultRelay.Link link = relay.awaitLinks(1, Duration.ofSeconds(5)).get(0);
            link.stall();
            client.getOutputStream().write(new byte[] {1, 2, 3});
            server.getOutputStream().write(new byte[] {4});
            server.setSoTimeout(500);
            assertThatThrownBy(() -> server.getInputStream().read()).isInstanceOf(java.net.SocketTimeoutException.class);
            assertThat(link.bytesForwarded(Direction.TO_TARGET)).isZero();
            assertThat(link.bytesForwarded(Direction.TO_CLIENT)).isZero();
            assertThat(link.isOpen()).isTrue();
            link.resume();
            server.setSoTimeout(10_000);
            client.setSoTimeout(10_000);
            assertThat(server.getInputStream().readNBytes(3)).containsExactly(1, 2, 3);
            assertThat(client.getInputStream().read()).isEqualTo(4);
        }
    }

    @Test
    void delayedLinkHoldsEachChunkBackAtLeastTheDelay() throws Exception {
        try (Socket client = new Socket("127.0.0.1", relay.port()); Socket server = target.accept()) {
            relay.awaitLinks(1, Duration.ofSeconds(5)).get(0).delay(Duration.ofMillis(300));
            server.setSoTimeout(10_000);
            long sent = System.nanoTime();
            client.getOutputStream().write(5);
            assertThat(server.getInputStream().read()).isEqualTo(5);
            assertThat(System.nanoTime() - sent).isGreaterThanOrEqualTo(Duration.ofMillis(300).toNanos());
        }
    }

    @Test
    void droppedLinkResetsBothPeers() throws Exception {
        try (Socket client = new Socket("127.0.0.1", relay.port()); Socket server = target.accept()) {
            FaultRelay.Link link = relay.awaitLinks(1, Duration.ofSeconds(5)).get(0);
            link.drop();
            assertThat(link.isOpen()).isFalse();
            assertThat(readUntilGone(client)).isEmpty();
            assertThat(readUntilGone(server)).isEmpty();
        }
    }

    @Test
    void refusedConnectionsAreCountedAndReset() throws Exception {
        relay.refuseNewConnections(true);
        for (int i = 0; i < 3; i++) {
            try (Socket client = new Socket("127.0.0.1", relay.port())) {
                assertThat(readUntilGone(client)).isEmpty();
            }
        }
        assertThat(relay.acceptedConnections()).isEqualTo(3);
        assertThat(relay.acceptTimesNanos()).hasSize(3);
        assertThat(relay.links()).isEmpty();
        relay.refuseNewConnections(false);
        try (Socket client = new Socket("127.0.0.1", relay.port()); Socket server = target.accept()) {
            client.getOutputStream().write(7);
            server.setSoTimeout(10_000);
            assertThat(server.getInputStream().read()).isEqualTo(7);
        }
        assertThat(relay.acceptedConnections()).isEqualTo(4);
    }
}
