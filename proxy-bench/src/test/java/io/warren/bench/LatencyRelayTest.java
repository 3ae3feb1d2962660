package io.warren.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Correctness of the relay, not its speed: bytes arrive complete and in order, and never before the delay. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LatencyRelayTest {
    private ServerSocket echo;
    private Thread echoThread;

    @BeforeEach
    void startEchoServer() throws IOException {
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        echoThread = new Thread(() -> {
            while (!echo.isClosed()) {
                try {
                    Socket s = echo.accept();
                    Thread t = new Thread(() -> {
                        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                            in.transferTo(out); // echo until the relay half-closes
                        } catch (IOException ignored) {
                            // the test reports what it got
                        }
                    });
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        echoThread.setDaemon(true);
        echoThread.start();
    }

    @AfterEach
    void stopEchoServer() throws IOException {
        echo.close();
    }

    @Test
    void relaysEveryByteInOrderBothWaysAndPassesTheHalfClose() throws Exception {
        byte[] sent = new byte[3 * 1024 * 1024 + 17];
        new Random(42).nextBytes(sent);
        try (LatencyRelay relay = LatencyRelay.start(0, "127.0.0.1", echo.getLocalPort(), Duration.ofMillis(5));
                Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), relay.port()));
            CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
                try {
                    return s.getInputStream().readAllBytes(); // ends when the echo's FIN comes back
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            OutputStream out = s.getOutputStream();
            Random split = new Random(7);
            for (int at = 0; at < sent.length; ) {
                int n = Math.min(sent.length - at, 1 + split.nextInt(40_000)); // uneven writes
                out.write(sent, at, n);
                at += n;
            }
            s.shutdownOutput();
            assertThat(received.get(30, TimeUnit.SECONDS)).isEqualTo(sent);
            assertThat(relay.acceptedConnections()).isEqualTo(1);
        }
    }

    @Test
    void aRoundTripTakesAtLeastTwiceTheOneWayDelay() throws Exception {
        Duration oneWay = Duration.ofMillis(40);
        try (LatencyRelay relay = LatencyRelay.start(0, "127.0.0.1", echo.getLocalPort(), oneWay);
                Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), relay.port()));
            s.setTcpNoDelay(true);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                out.write(i);
                out.flush();
                int b = in.read();
                long elapsed = System.nanoTime() - t0;
                got.write(b);
                // Lower bound only: the machine may be slow, but the relay must never be early.
                assertThat(Duration.ofNanos(elapsed)).isGreaterThanOrEqualTo(oneWay.multipliedBy(2));
            }
            assertThat(got.toByteArray()).containsExactly(0, 1, 2, 3, 4);
        }
    }

    @Test
    void closeResetsRelayedConnections() throws Exception {
        LatencyRelay relay = LatencyRelay.start(0, "127.0.0.1", echo.getLocalPort(), Duration.ofMillis(1));
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), relay.port()));
            s.getOutputStream().write(1);
            assertThat(s.getInputStream().read()).isEqualTo(1);
            relay.close();
            // Closed by the relay: end of stream, or a reset. A read that times out means the relay left it open.
            s.setSoTimeout(10_000);
            String ended;
            try {
                int r = s.getInputStream().read();
                ended = r < 0 ? "end of stream" : "a byte: " + r;
            } catch (SocketTimeoutException stillOpen) {
                ended = "nothing within 10 s: still open";
            } catch (SocketException reset) {
                ended = reset.getMessage().contains("reset") ? "end of stream" : reset.toString();
            }
            assertThat(ended).as("what the client read after the relay closed").isEqualTo("end of stream");
        }
    }
}
