package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.warren.api.transport.Connection;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LifecycleTest extends TransportTestSupport {

    @Test
    void closeFlushesEverythingQueuedBeforeTheFin() throws Exception {
        start(settings(1));
        listen(RecordingHandler::new);
        byte[] payload = new byte[8 * 1024 * 1024];
        new Random(3).nextBytes(payload);
        try (Socket peer = client(8 * 1024)) {
            RecordingHandler server = nextAccepted();
            Connection conn = server.connection();
            onLoop(conn, () -> {
                for (int off = 0; off < payload.length; off += 100_000) {
                    conn.write(ByteBuffer.wrap(payload, off, Math.min(100_000, payload.length - off)).slice());
                }
                conn.close();
                assertThat(conn.isOpen()).isFalse();
                assertThat(conn.write(ByteBuffer.wrap(new byte[] {1}))).isFalse(); // dropped after close()
            });
            InputStream in = peer.getInputStream();
            assertThat(readFully(in, payload.length)).isEqualTo(payload);
            assertThat(in.read()).isEqualTo(-1);
            assertThat(server.closed.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join()).isNull();
            assertThat(server.closes.get()).isEqualTo(1);
        }
    }

    @Test
    void closeGivesUpWhenThePeerNeverReads() throws Exception {
        start(settings(1), LoopConfig.DEFAULT.withCloseFlushTimeout(Duration.ofMillis(200)));
        listen(RecordingHandler::new);
        try (Socket peer = client(8 * 1024)) {
            RecordingHandler server = nextAccepted();
            Connection conn = server.connection();
            onLoop(conn, () -> {
                for (int i = 0; i < 100; i++) {
                    conn.write(ByteBuffer.allocate(100_000));
                }
                conn.close();
            });
            Throwable cause = server.closed.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
            assertThat(cause).isInstanceOf(SocketTimeoutException.class).hasMessageContaining("timed out after 200 ms");
            assertThat(server.closes.get()).isEqualTo(1);
        }
    }

    @Test
    void abortResetsThePeer() throws Exception {
        start(settings(1));
        listen(RecordingHandler::new);
        try (Socket peer = client()) {
            RecordingHandler server = nextAccepted();
            Connection conn = server.connection();
            conn.write(ByteBuffer.allocate(1000));
            conn.abort();
            assertThat(server.closed.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join()).isNull();
            assertThatThrownBy(() -> {
                InputStream in = peer.getInputStream();
                while (in.read(new byte[4096]) >= 0) {
                    // read what arrived before the reset
                }
            }).isInstanceOf(SocketException.class).hasMessageContaining("reset");
            roundTrip(conn.eventLoop());
            assertThat(server.closes.get()).isEqualTo(1);
            assertThat(conn.isOpen()).isFalse();
        }
    }

    @Test
    void peerCloseEndsTheConnectionOnceWithoutCause() throws Exception {
        start(settings(1));
        listen(RecordingHandler::new);
        Socket peer = client();
        RecordingHandler server = nextAccepted();
        peer.getOutputStream().write("bye".getBytes());
        peer.close();
        assertThat(server.closed.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join()).isNull();
        assertThat(new String(server.received())).isEqualTo("bye");
        server.connection().close(); // after the fact: nothing more happens
        server.connection().abort();
        roundTrip(server.connection().eventLoop());
        assertThat(server.closes.get()).isEqualTo(1);
        assertThat(server.calledOffLoop).isFalse();
    }

    @Test
    void handlerFailureClosesOnlyItsConnectionAndTheLoopServesOthers() throws Exception {
        start(settings(1));
        IllegalStateException boom = new IllegalStateException("boom");
        listen(() -> new EchoHandler() {
            @Override
            void afterRead(Connection connection, byte[] bytes) {
                if (bytes.length > 0 && bytes[0] == 'X') {
                    throw boom;
                }
                super.afterRead(connection, bytes);
            }
        });
        try (Socket bad = client(); Socket good = client()) {
            RecordingHandler badServer = nextAccepted();
            RecordingHandler goodServer = nextAccepted();
            bad.getOutputStream().write('X');
            assertThat(badServer.closed.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join()).isSameAs(boom);
            assertThat(howTheStreamEnds(bad)).as("what the failed connection's peer reads").isEqualTo("closed");

            for (int i = 0; i < 3; i++) {
                good.getOutputStream().write(new byte[] {(byte) i});
                assertThat(readFully(good.getInputStream(), 1)).containsExactly(i);
            }
            assertThat(goodServer.closes.get()).isZero();
            assertThat(badServer.closes.get()).isEqualTo(1);
        }
    }

    @Test
    void runtimeCloseClosesEveryConnectionAndStopsTheLoops() throws Exception {
        start(settings(2));
        listen(RecordingHandler::new);
        List<Socket> peers = new ArrayList<>();
        List<RecordingHandler> handlers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            peers.add(client());
            handlers.add(nextAccepted());
        }
        RecordingHandler outgoing = new RecordingHandler();
        runtime.connect(listener.address(), runtime.eventLoops().get(1), outgoing);
        outgoing.opened.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
        handlers.add(outgoing);
        handlers.add(nextAccepted()); // its server side
        List<Thread> loopThreads = handlers.stream().map(h -> h.loopThread).distinct().toList();

        runtime.close();
        runtime.close(); // idempotent

        for (RecordingHandler h : handlers) {
            assertThat(h.closes.get()).isEqualTo(1);
            assertThat(h.closed.join()).isInstanceOf(IOException.class).hasMessageContaining("shut down");
        }
        assertThat(loopThreads).isNotEmpty().noneMatch(Thread::isAlive);
        for (Socket peer : peers) {
            assertThat(howTheStreamEnds(peer)).as("what a peer reads after runtime.close()").isEqualTo("closed");
            peer.close();
        }
        assertThatThrownBy(() -> runtime.eventLoops().get(0).execute(() -> { }))
                .isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> runtime.connect(ANY_LOOPBACK_PORT, runtime.eventLoops().get(0),
                new RecordingHandler())).isInstanceOf(RejectedExecutionException.class);
        await().atMost(WAIT).until(() -> {
            try (Socket probe = new Socket()) {
                probe.connect(listener.address(), 1000);
                return false;
            } catch (IOException refused) {
                return true;
            }
        });
    }

    /**
     * "closed" when the peer's next read ends the stream (end of stream or a reset), or what it read instead: a read
     * that times out ({@link #WAIT}) is a connection that was left open, not a close.
     */
    private static String howTheStreamEnds(Socket peer) throws IOException {
        try {
            int b = peer.getInputStream().read();
            return b < 0 ? "closed" : "a byte: " + b;
        } catch (SocketTimeoutException e) {
            return "nothing within " + WAIT + ": still open";
        } catch (SocketException e) {
            return e.getMessage() != null && e.getMessage().contains("reset") ? "closed" : e.toString();
        }
    }
}
