package io.warren.transport.nio;

import io.warren.api.transport.Connection;
import io.warren.api.transport.ConnectionHandler;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/** Records what a connection's handler is told; checks that it is told on the connection's loop. */
class RecordingHandler implements ConnectionHandler {
    final CompletableFuture<Connection> opened = new CompletableFuture<>();
    final CompletableFuture<Throwable> closed = new CompletableFuture<>();
    final AtomicInteger opens = new AtomicInteger();
    final AtomicInteger closes = new AtomicInteger();
    final AtomicInteger writables = new AtomicInteger();
    final AtomicInteger reads = new AtomicInteger();
    volatile Thread loopThread;
    volatile boolean calledOffLoop;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();

    @Override
    public void onOpen(Connection connection) {
        check(connection);
        loopThread = Thread.currentThread();
        opens.incrementAndGet();
        opened.complete(connection);
    }

    @Override
    public void onRead(Connection connection, ByteBuffer data) {
        check(connection);
        reads.incrementAndGet();
        byte[] copy = new byte[data.remaining()];
        data.get(copy);
        synchronized (received) {
            received.writeBytes(copy);
        }
        afterRead(connection, copy);
    }

    /** What a subclass does with the bytes (a copy: the handler may keep it). */
    void afterRead(Connection connection, byte[] bytes) {}

    @Override
    public void onWritable(Connection connection) {
        check(connection);
        writables.incrementAndGet();
    }

    @Override
    public void onClose(Connection connection, Throwable cause) {
        check(connection);
        closes.incrementAndGet();
        closed.complete(cause);
    }

    byte[] received() {
        synchronized (received) {
            return received.toByteArray();
        }
    }

    int receivedCount() {
        synchronized (received) {
            return received.size();
        }
    }

    Connection connection() {
        return opened.join();
    }

    private void check(Connection connection) {
        if (!connection.eventLoop().inEventLoop()) {
            calledOffLoop = true;
        }
    }
}
