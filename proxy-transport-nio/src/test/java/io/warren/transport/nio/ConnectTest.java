package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.warren.api.transport.EventLoop;
import io.warren.api.transport.TransportSettings;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class ConnectTest extends TransportTestSupport {

    @Test
    void connectsToItsOwnListenerOnTheGivenLoop() throws Exception {
        start(settings(2));
        listen(EchoHandler::new);
        EventLoop loop = runtime.eventLoops().get(1);
        RecordingHandler client = new RecordingHandler();
        runtime.connect(listener.address(), loop, client);

        var conn = client.opened.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
        assertThat(client.loopThread.getName()).isEqualTo("warren-loop-1");
        assertThat(conn.remoteAddress()).isEqualTo(listener.address());
        assertThat(conn.localAddress()).isNotNull();
        assertThat(conn.isOpen()).isTrue();

        conn.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)));
        org.awaitility.Awaitility.await().atMost(WAIT).until(() -> client.receivedCount() == 4);
        assertThat(new String(client.received(), StandardCharsets.US_ASCII)).isEqualTo("ping");
        assertThat(client.calledOffLoop).isFalse();
    }

    @Test
    void connectToAClosedPortFailsWithTheAddressInTheMessage() throws Exception {
        start(settings(1));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        RecordingHandler client = new RecordingHandler();
        runtime.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), runtime.eventLoops().get(0),
                client);

        Throwable cause = client.closed.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
        assertThat(cause).isInstanceOf(ConnectException.class)
                .hasMessageContaining("127.0.0.1:" + port)
                .hasMessageContaining("refused");
        assertThat(client.opens.get()).isZero();
        assertThat(client.closes.get()).isEqualTo(1);
        assertThat(client.calledOffLoop).isFalse();
    }

    /**
     * A listening socket whose accept queue is full makes Linux drop further SYNs, so a connect neither succeeds nor
     * fails until the timeout. The queue is filled until a blocking connect does time out; where the platform does not
     * behave so (for instance SYN cookies or an RST on overflow), the test is skipped.
     */
    @Test
    void connectTimesOutWhenThePeerNeverAnswers() throws Exception {
        Duration timeout = Duration.ofMillis(300);
        start(new TransportSettings(1, 256 * 1024, 64 * 1024, 16, timeout));
        List<Socket> fillers = new ArrayList<>();
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            boolean filled = false;
            for (int i = 0; i < 64 && !filled; i++) {
                Socket s = new Socket();
                fillers.add(s);
                try {
                    s.connect(full.getLocalSocketAddress(), 300);
                } catch (SocketTimeoutException e) {
                    filled = true;
                } catch (IOException e) {
                    Assumptions.abort("the platform refuses instead of dropping SYNs: " + e);
                }
            }
            Assumptions.assumeTrue(filled, "could not fill the accept queue of a loopback listener");

            RecordingHandler client = new RecordingHandler();
            InetSocketAddress address = (InetSocketAddress) full.getLocalSocketAddress();
            runtime.connect(address, runtime.eventLoops().get(0), client);
            Throwable cause = client.closed.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
            assertThat(cause).isInstanceOf(SocketTimeoutException.class)
                    .hasMessage("connect to 127.0.0.1:" + address.getPort() + " timed out after 300 ms");
            assertThat(client.opens.get()).isZero();
            assertThat(client.closes.get()).isEqualTo(1);
        } finally {
            for (Socket s : fillers) {
                s.close();
            }
        }
    }

    @Test
    void listeningOnABusyPortNamesTheAddress() throws Exception {
        start(settings(1));
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            InetSocketAddress address = (InetSocketAddress) busy.getLocalSocketAddress();
            assertThatThrownBy(() -> runtime.listen(address, c -> new RecordingHandler()))
                    .isInstanceOf(BindException.class)
                    .hasMessageContaining("127.0.0.1:" + address.getPort());
        }
    }

    @Test
    void listenerCloseStopsAcceptingButKeepsAcceptedConnections() throws Exception {
        start(settings(1));
        listen(EchoHandler::new);
        try (Socket s = client()) {
            RecordingHandler server = nextAccepted();
            listener.close();
            listener.close(); // idempotent
            org.awaitility.Awaitility.await().atMost(WAIT).until(() -> {
                try (Socket probe = new Socket()) {
                    probe.connect(listener.address(), 1000);
                    return false;
                } catch (IOException refused) {
                    return true;
                }
            });
            s.getOutputStream().write(new byte[] {9});
            assertThat(readFully(s.getInputStream(), 1)).containsExactly(9);
            assertThat(server.closes.get()).isZero();
        }
    }

    @Test
    void connectWithALoopOfAnotherRuntimeIsRefused() throws Exception {
        start(settings(1));
        NioRuntime other = NioRuntime.start(settings(1), LoopConfig.DEFAULT);
        try {
            assertThatThrownBy(() -> runtime.connect(ANY_LOOPBACK_PORT, other.eventLoops().get(0),
                    new RecordingHandler())).isInstanceOf(IllegalArgumentException.class);
        } finally {
            other.close();
        }
    }
}
