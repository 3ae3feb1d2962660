package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.warren.api.transport.EventLoop;
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
import java.util.concurrent.TimeUnit;
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

    /**
     * NIO closes a socket registered with a selector only at the loop's next select, and it listens until then:
     * connections that arrive after close() has begun but before that select must be served too, not reset. Here the
     * acceptor loop is kept busy right after the close began, and clients connect meanwhile.
     */
    @Test
    void connectionsQueuedWhileTheCloseWaitsForTheLoopsNextSelectAreServedToo() throws Exception {
        start(settings(2));
        listen(EchoHandler::new);
        EventLoop acceptor = runtime.eventLoops().get(0);
        CountDownLatch first = new CountDownLatch(1);
        CountDownLatch second = new CountDownLatch(1);
        acceptor.execute(() -> awaitQuietly(first));
        Thread closer = new Thread(listener::close, "closer");
        closer.start();
        await().atMost(WAIT).until(() -> closer.getState() == Thread.State.TIMED_WAITING); // its task is queued
        CountDownLatch closeTaskRan = new CountDownLatch(1);
        acceptor.execute(() -> { // runs right after the close's task, before the loop selects again
            closeTaskRan.countDown();
            awaitQuietly(second);
        });
        first.countDown();
        assertThat(closeTaskRan.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        List<Socket> late = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            late.add(client()); // the socket still listens: the kernel queues them
        }
        second.countDown();
        closer.join(WAIT.toMillis());
        assertThat(closer.isAlive()).as("close() returned").isFalse();
        assertThat(accepted).as("every late connection has its handler once close() returns").hasSize(20);
        for (int i = 0; i < late.size(); i++) {
            assertThat(echo(late.get(i), "late " + i)).isEqualTo("late " + i);
        }
        assertThatThrownBy(this::client).isInstanceOf(ConnectException.class);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
