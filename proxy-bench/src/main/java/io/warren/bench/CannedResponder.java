package io.warren.bench;

import io.warren.codec.ChannelMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.FieldValue;
import io.warren.codec.FrameEncoder;
import io.warren.codec.FramePeek;
import io.warren.codec.FrameType;
import io.warren.codec.LongString;
import io.warren.codec.ProtocolHeader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * The floor under a proxy's cost per short-lived client: a server that answers the client's half of the AMQP exchange
 * with canned frames and does nothing else. It has no broker, no upstream connection, no policy, no accounting: the
 * protocol header gets connection.start, start-ok gets tune, open gets open-ok, channel.open and channel.close get
 * their -ok on the same channel, connection.close gets close-ok and the socket closed; everything else (tune-ok,
 * publishes with their content, heartbeats) is read and dropped. One thread, one selector: no hand-offs between
 * threads, and the same JDK socket calls Warren makes. What is left is the kernel's work for the exchange (accept, a
 * read per request, a write per reply, a wake-up per request, the close) and the JVM's for reaching it.
 *
 * <p>Bench-only: no authentication, any credentials are accepted. {@link CpuPerWorkBench} runs it as the target
 * {@code responder} ({@link ProxyProcess#responder}); its thread is named {@code warren-loop-responder} so that
 * {@link ProcessCpu} counts it with the event loops.
 *
 * <pre>java -cp proxy-bench/target/benchmarks.jar io.warren.bench.CannedResponder --port 57160</pre>
 */
public final class CannedResponder implements AutoCloseable {
    static final String THREAD_NAME = "warren-loop-responder";
    private static final int READ_BUFFER = 64 * 1024;

    private static final ByteBuffer START = FrameEncoder.method(0, new ConnectionMethod.Start(0, 9,
            FieldTable.builder().put("product", LongString.of("warren-bench canned responder"))
                    .put("capabilities", new FieldValue.Table(FieldTable.builder()
                            .put("publisher_confirms", FieldValue.Bool.TRUE)
                            .put("basic.nack", FieldValue.Bool.TRUE)
                            .put("connection.blocked", FieldValue.Bool.TRUE).build()))
                    .build(),
            LongString.of("PLAIN AMQPLAIN"), LongString.of("en_US")));
    private static final ByteBuffer TUNE = FrameEncoder.method(0, new ConnectionMethod.Tune(2047, 131072, 0));
    private static final ByteBuffer OPEN_OK = FrameEncoder.method(0, new ConnectionMethod.OpenOk(""));
    private static final ByteBuffer CLOSE_OK = FrameEncoder.method(0, new ConnectionMethod.CloseOk());

    private final ServerSocketChannel server;
    private final Selector selector;
    private final Thread thread;
    /** The loop's one read buffer: a client keeps only the partial frame a read ended in. */
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(READ_BUFFER);
    private volatile boolean closed;

    private CannedResponder(ServerSocketChannel server, Selector selector) {
        this.server = server;
        this.selector = selector;
        this.thread = new Thread(this::run, THREAD_NAME);
    }

    /** Listens on 127.0.0.1:{@code port} (0: any free port) and starts answering. */
    public static CannedResponder start(int port) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        Selector selector = Selector.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4096);
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException | RuntimeException e) {
            server.close();
            selector.close();
            throw e;
        }
        CannedResponder r = new CannedResponder(server, selector);
        r.thread.start();
        return r;
    }

    /** The port it listens on. */
    public int port() {
        try {
            return ((InetSocketAddress) server.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void run() {
        try {
            while (!closed) {
                selector.select(key -> {
                    if (key.isAcceptable()) {
                        accept();
                    } else {
                        ((Client) key.attachment()).onReady(key, readBuffer);
                    }
                });
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                e.printStackTrace();
            }
        }
    }

    private void accept() {
        while (true) {
            SocketChannel s = null;
            try {
                s = server.accept();
                if (s == null) {
                    return;
                }
                s.configureBlocking(false);
                s.setOption(StandardSocketOptions.TCP_NODELAY, true); // as Warren sets it
                s.register(selector, SelectionKey.OP_READ, new Client(s));
            } catch (IOException e) {
                System.err.println("accept failed: " + e);
                if (s != null) {
                    try {
                        s.close();
                    } catch (IOException ignored) {
                        // dropping it anyway
                    }
                }
                return;
            }
        }
    }

    /** One client connection: the partial frame it sent last, and replies the socket did not take yet. */
    private static final class Client {
        private final SocketChannel socket;
        private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>(2);
        private byte[] partial;
        private boolean headerSeen;
        private boolean closeAfterWrite;

        Client(SocketChannel socket) {
            this.socket = socket;
        }

        void onReady(SelectionKey key, ByteBuffer in) {
            try {
                if (key.isWritable()) {
                    flush(key);
                }
                if (key.isValid() && key.isReadable()) {
                    read(key, in);
                }
            } catch (IOException e) {
                close(key);
            }
        }

        private void read(SelectionKey key, ByteBuffer in) throws IOException {
            in.clear();
            if (partial != null) {
                in.put(partial);
                partial = null;
            }
            int n = socket.read(in);
            if (n < 0) {
                close(key);
                return;
            }
            in.flip();
            answer(in);
            if (in.hasRemaining()) {
                if (in.remaining() == READ_BUFFER) {
                    throw new IOException("a frame larger than " + READ_BUFFER + " bytes");
                }
                partial = new byte[in.remaining()];
                in.get(partial);
            }
            flush(key);
        }

        /** Queues the replies to every complete frame in {@code in}, leaving a partial one there. */
        private void answer(ByteBuffer in) throws IOException {
            if (!headerSeen) {
                if (in.remaining() < ProtocolHeader.LENGTH) {
                    return;
                }
                byte[] header = new byte[ProtocolHeader.LENGTH];
                in.get(header);
                if (!Arrays.equals(header, ProtocolHeader.AMQP_0_9_1)) {
                    pending.add(ByteBuffer.wrap(ProtocolHeader.AMQP_0_9_1));
                    closeAfterWrite = true;
                    return;
                }
                headerSeen = true;
                pending.add(START.duplicate());
            }
            while (in.remaining() >= FrameType.HEADER_SIZE + 1) {
                int start = in.position();
                int size = FramePeek.payloadSize(in, start);
                int frameLength = FrameType.HEADER_SIZE + size + 1;
                if (size < 0 || frameLength > READ_BUFFER) {
                    throw new IOException("frame size " + size);
                }
                if (in.remaining() < frameLength) {
                    return;
                }
                if (FramePeek.type(in, start) == FrameType.METHOD) {
                    reply(FramePeek.channel(in, start), FramePeek.classId(in, start), FramePeek.methodId(in, start));
                }
                in.position(start + frameLength);
            }
        }

        private void reply(int channel, int classId, int methodId) {
            switch (classId << 16 | methodId) {
                case 10 << 16 | 11 -> pending.add(TUNE.duplicate()); // start-ok
                case 10 << 16 | 40 -> pending.add(OPEN_OK.duplicate()); // connection.open
                case 10 << 16 | 50 -> { // connection.close
                    pending.add(CLOSE_OK.duplicate());
                    closeAfterWrite = true;
                }
                case 20 << 16 | 10 -> pending.add(FrameEncoder.method(channel,
                        new ChannelMethod.OpenOk(LongString.of("")))); // channel.open
                case 20 << 16 | 40 -> pending.add(FrameEncoder.method(channel, new ChannelMethod.CloseOk()));
                default -> { } // tune-ok, basic.publish, ...: nothing to answer
            }
        }

        /** Writes what is pending in one gathering write; waits for OP_WRITE if the socket is full. */
        private void flush(SelectionKey key) throws IOException {
            if (!pending.isEmpty()) {
                socket.write(pending.toArray(ByteBuffer[]::new));
                while (!pending.isEmpty() && !pending.peek().hasRemaining()) {
                    pending.poll();
                }
            }
            if (pending.isEmpty() && closeAfterWrite) {
                close(key);
                return;
            }
            key.interestOps(pending.isEmpty() ? SelectionKey.OP_READ : SelectionKey.OP_READ | SelectionKey.OP_WRITE);
        }

        private void close(SelectionKey key) {
            key.cancel();
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        selector.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (SelectionKey k : selector.keys()) {
            k.channel().close();
        }
        selector.close();
        server.close();
    }

    /** {@code --port} (0: a free one; the port is printed): runs until killed. */
    public static void main(String[] args) throws Exception {
        Args a = new Args(args);
        int port = a.intValue("port", 0);
        a.done();
        CannedResponder r = start(port);
        System.out.println("canned responder listening on 127.0.0.1:" + r.port());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                r.close();
            } catch (IOException ignored) {
                // exiting
            }
        }));
        r.thread.join();
    }
}
