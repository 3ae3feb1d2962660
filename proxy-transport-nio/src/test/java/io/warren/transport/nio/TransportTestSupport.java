package io.warren.transport.nio;

import static org.awaitility.Awaitility.await;

import io.warren.api.transport.Connection;
import io.warren.api.transport.EventLoop;
import io.warren.api.transport.Listener;
import io.warren.api.transport.TransportSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;

/** Starts runtimes and raw sockets, all on 127.0.0.1, and closes them after each test. */
abstract class TransportTestSupport {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final InetSocketAddress ANY_LOOPBACK_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    /** The server-side handlers the listener created, in accept order. */
    final LinkedBlockingQueue<RecordingHandler> accepted = new LinkedBlockingQueue<>();

    NioRuntime runtime;
    Listener listener;

    static TransportSettings settings(int loops) {
        return new TransportSettings(loops, 256 * 1024, 64 * 1024, 128, Duration.ofSeconds(10));
    }

    NioRuntime start(TransportSettings settings) throws IOException {
        return start(settings, LoopConfig.DEFAULT);
    }

    NioRuntime start(TransportSettings settings, LoopConfig config) throws IOException {
        runtime = NioRuntime.start(settings, config);
        toClose.add(runtime);
        return runtime;
    }

    /** Listens with handlers from {@code factory}, recorded in {@link #accepted}. */
    Listener listen(java.util.function.Supplier<? extends RecordingHandler> factory) throws IOException {
        listener = runtime.listen(ANY_LOOPBACK_PORT, connection -> {
            RecordingHandler h = factory.get();
            accepted.add(h);
            return h;
        });
        return listener;
    }

    Socket client() throws IOException {
        return client(0);
    }

    /** A raw client socket to the listener; {@code receiveBuffer} > 0 sets a small receive buffer first. */
    Socket client(int receiveBuffer) throws IOException {
        Socket s = new Socket();
        toClose.add(s);
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer);
        }
        s.connect(listener.address(), (int) WAIT.toMillis());
        s.setSoTimeout((int) WAIT.toMillis());
        return s;
    }

    RecordingHandler nextAccepted() throws InterruptedException {
        RecordingHandler h = accepted.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        if (h == null) {
            throw new AssertionError("no connection was accepted");
        }
        h.opened.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
        return h;
    }

    /** Waits until {@code loop} has run a task queued now: everything it was asked before is done. */
    static void roundTrip(EventLoop loop) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.execute(() -> done.complete(null));
        done.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
    }

    static void onLoop(Connection connection, Runnable action) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        connection.eventLoop().execute(() -> {
            try {
                action.run();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        done.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
    }

    static byte[] readFully(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new IOException("end of stream after " + b.length + " of " + n + " bytes");
        }
        return b;
    }

    /**
     * Writes random chunks to {@code conn} until a write is refused, again and again until the connection stays
     * unwritable: the kernel may grow a socket's send buffer after a refused write (send-buffer autotuning), which
     * drains the queue below the low-water mark before the peer's stall shows. Everything written goes to
     * {@code sent}; returns how many onWritable calls the settling took, so the caller can count from there.
     */
    static int fillUntilStalled(Connection conn, RecordingHandler server, ByteArrayOutputStream sent, boolean onLoop)
            throws InterruptedException {
        Random random = new Random(7);
        Runnable fill = () -> {
            while (true) {
                byte[] chunk = new byte[16 * 1024 + random.nextInt(100)];
                random.nextBytes(chunk);
                sent.writeBytes(chunk);
                if (!conn.write(ByteBuffer.wrap(chunk))) {
                    return;
                }
            }
        };
        for (int round = 0; round < 100; round++) {
            int writablesBefore = server.writables.get();
            if (onLoop) {
                onLoop(conn, fill);
            } else {
                fill.run();
            }
            Thread.sleep(200); // time for the kernel to take what it will; a settle period, not a measurement
            roundTrip(conn.eventLoop());
            if (!conn.isWritable() && server.writables.get() == writablesBefore) {
                return writablesBefore;
            }
        }
        throw new AssertionError("the connection never stayed unwritable; " + sent.size() + " bytes written");
    }

    static void awaitClosed(RecordingHandler h) {
        await().atMost(WAIT).until(() -> h.closes.get() > 0);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }
}
