package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.warren.api.transport.Listener;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.Test;

/**
 * What a restart without dropped clients needs of a listener: a second one binds the same address while the first
 * listens (SO_REUSEPORT), and closing one serves the connections the kernel had queued for it instead of resetting
 * them.
 */
class ListenerHandoverTest extends TransportTestSupport {

    @Test
    void closeServesTheConnectionsQueuedInTheBacklogInsteadOfResettingThem() throws Exception {
        start(settings(2));
        listen(EchoHandler::new);
        CountDownLatch release = new CountDownLatch(1);
        runtime.eventLoops().get(0).execute(() -> { // the acceptor loop: while it waits, the kernel queues
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        List<Socket> queued = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            queued.add(client()); // the kernel completes the handshake and queues it: nobody accepts yet
        }
        Thread closer = new Thread(listener::close, "closer");
        closer.start();
        // close() has marked the listener closed and waits for the acceptor loop: the loop will not accept them as
        // usual, only the close can
        await().atMost(WAIT).until(() -> closer.getState() == Thread.State.TIMED_WAITING);
        release.countDown();
        closer.join(WAIT.toMillis());
        assertThat(closer.isAlive()).as("close() returned").isFalse();
        assertThat(accepted).as("every queued connection has its handler once close() returns").hasSize(20);

        for (int i = 0; i < queued.size(); i++) {
            assertThat(echo(queued.get(i), "client " + i)).isEqualTo("client " + i);
        }
        assertThatThrownBy(this::client).isInstanceOf(ConnectException.class);
    }

    @Test
    void aSecondListenerBindsTheAddressOfARunningOneAndServesAloneOnceTheFirstCloses() throws Exception {
        start(settings(1));
        listen(EchoHandler::new);
        Listener first = listener;
        NioRuntime secondRuntime = NioRuntime.start(settings(1), LoopConfig.DEFAULT);
        LinkedBlockingQueue<RecordingHandler> acceptedBySecond = new LinkedBlockingQueue<>();
        try (secondRuntime) {
            Listener second = secondRuntime.listen(first.address(), connection -> {
                RecordingHandler h = new EchoHandler();
                acceptedBySecond.add(h);
                return h;
            });
            assertThat(second.address()).isEqualTo(first.address());
            // The kernel spreads connections over both by a hash of the client's address and port.
            for (int i = 0; i < 40; i++) {
                try (Socket s = client()) {
                    assertThat(echo(s, "both " + i)).isEqualTo("both " + i);
                }
            }
            assertThat(accepted).as("served by the first").isNotEmpty();
            assertThat(acceptedBySecond).as("served by the second").isNotEmpty();

            first.close();
            int firstBefore = accepted.size();
            int secondBefore = acceptedBySecond.size();
            for (int i = 0; i < 20; i++) {
                try (Socket s = client()) {
                    assertThat(echo(s, "second " + i)).isEqualTo("second " + i);
                }
            }
            assertThat(accepted).as("the first accepts nothing once closed").hasSize(firstBefore);
            await().atMost(WAIT).until(() -> acceptedBySecond.size() == secondBefore + 20);
        }
    }

    /** Sends {@code text} and reads the echo back. */
    private static String echo(Socket s, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        OutputStream out = s.getOutputStream();
        out.write(bytes);
        out.flush();
        InputStream in = s.getInputStream();
        return new String(readFully(in, bytes.length), StandardCharsets.UTF_8);
    }
}
