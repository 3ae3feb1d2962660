package io.warren.core.internal.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.warren.api.ChannelReusePolicy;
import io.warren.api.CredentialKeyer;
import io.warren.api.Providers;
import io.warren.api.transport.Connection;
import io.warren.api.transport.ConnectionHandler;
import io.warren.api.transport.EventLoop;
import io.warren.api.transport.Listener;
import io.warren.api.transport.NetworkRuntime;
import io.warren.codec.AmqpMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.Frame;
import io.warren.codec.FrameDecoder;
import io.warren.codec.FrameType;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.codec.ProtocolHeader;
import io.warren.core.config.ProxyConfig;
import io.warren.core.internal.limits.ClientAdmission;
import io.warren.core.internal.pool.LoginProofs;
import io.warren.core.internal.pool.UpstreamPools;
import io.warren.core.internal.stats.EngineStats;
import io.warren.core.internal.upstream.Cluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Coverage-guided fuzzing of the handshake Warren answers ({@link ClientHandshake}, through {@link ClientSession})
 * with Jazzer (docs/fuzzing.md). The session runs on an in-memory loop and connection; its upstream is a runtime whose
 * every dial is refused, so a login ends as "unreachable" (tune, then 320 at connection.open). The input is what the
 * client sends (after the protocol header when the first byte is odd), cut into reads whose sizes come from the
 * input too. Whatever it sends: no exception reaches the transport, Warren never answers with its own internal error,
 * every frame it writes decodes, and after its connection.close it writes nothing but a close-ok.
 */
class ClientHandshakeFuzzer {
    private static final InetSocketAddress NOWHERE = new InetSocketAddress("127.0.0.1", 1);

    @FuzzTest
    void handshake(byte[] input) throws Exception {
        if (input.length == 0) {
            return;
        }
        MemoryLoop loop = new MemoryLoop();
        MemoryConnection conn = new MemoryConnection(loop);
        ClientSession session = clients(loop).accept(conn);
        session.onOpen(conn);
        ByteBuffer client = ByteBuffer.allocate(input.length + ProtocolHeader.LENGTH);
        if ((input[0] & 1) != 0) {
            client.put(ProtocolHeader.AMQP_0_9_1);
        }
        client.put(input, 1, input.length - 1).flip();
        int cut = 1 + (input[0] & 0xFF) / 2;
        while (client.hasRemaining() && !conn.closed) {
            int n = Math.min(cut, client.remaining());
            ByteBuffer read = client.slice(client.position(), n);
            client.position(client.position() + n);
            session.onRead(conn, read);
            loop.runAll();
        }
        session.onClose(conn, null);
        loop.runAll();
        checkWhatWarrenWrote(conn.written());
    }

    private static void checkWhatWarrenWrote(ByteBuffer out) throws ProtocolException {
        if (out.remaining() >= ProtocolHeader.LENGTH && out.get(0) == 'A') {
            out.position(ProtocolHeader.LENGTH); // a wrong protocol header is answered with the right one
            assertThat(out.hasRemaining()).as("nothing after the protocol header Warren sent back").isFalse();
            return;
        }
        FrameDecoder decoder = new FrameDecoder(Integer.MAX_VALUE);
        boolean closed = false;
        Frame frame;
        while ((frame = decoder.next(out)) != null) {
            if (frame.type() != FrameType.METHOD) {
                continue;
            }
            AmqpMethod m = MethodCodec.decode(frame.payload());
            if (closed) {
                assertThat(m).as("after connection.close Warren sends only close-ok")
                        .isInstanceOf(ConnectionMethod.CloseOk.class);
            }
            if (m instanceof ConnectionMethod.Close close) {
                assertThat(close.replyText()).as("Warren's own internal error").doesNotContain("internal error");
                closed = true;
            }
        }
        assertThat(out.hasRemaining()).as("Warren wrote whole frames").isFalse();
    }

    private static Clients clients(MemoryLoop loop) {
        ClassLoader cl = ClientHandshakeFuzzer.class.getClassLoader();
        // No hold: with every node down a client would wait for one, and this loop's timers never fire.
        ProxyConfig config = ProxyConfig.builder(NOWHERE).upstreamHold(Duration.ZERO).build();
        EngineStats stats = new EngineStats();
        Cluster cluster = new Cluster(config, new RefusingRuntime(loop), stats);
        LoginProofs logins = new LoginProofs(cluster);
        return new Clients(config, stats, Providers.load(CredentialKeyer.class, "credentials", cl),
                Providers.load(ChannelReusePolicy.class, "publish-safe", cl), cluster,
                new UpstreamPools(cluster, logins), logins, new ClientAdmission(0, -1, 0, () -> 0));
    }

    /** One thread's loop: tasks run when the fuzzer asks, timers never fire (the run is over long before). */
    private static final class MemoryLoop implements EventLoop {
        private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }

        @Override
        public Cancellable schedule(Runnable task, long delay, TimeUnit unit) {
            return () -> { };
        }

        @Override
        public boolean inEventLoop() {
            return true;
        }

        void runAll() {
            Runnable r;
            int budget = 10_000;
            while ((r = tasks.poll()) != null && budget-- > 0) {
                r.run();
            }
        }
    }

    /** A client's connection that keeps what Warren writes. */
    private static final class MemoryConnection implements Connection {
        private final EventLoop loop;
        private ByteBuffer out = ByteBuffer.allocate(1024);
        boolean closed;

        MemoryConnection(EventLoop loop) {
            this.loop = loop;
        }

        ByteBuffer written() {
            return out.duplicate().flip();
        }

        @Override
        public long id() {
            return 1;
        }

        @Override
        public InetSocketAddress remoteAddress() {
            return new InetSocketAddress("127.0.0.1", 40000);
        }

        @Override
        public InetSocketAddress localAddress() {
            return new InetSocketAddress("127.0.0.1", 5673);
        }

        @Override
        public EventLoop eventLoop() {
            return loop;
        }

        @Override
        public boolean write(ByteBuffer data) {
            if (out.remaining() < data.remaining()) {
                ByteBuffer bigger = ByteBuffer.allocate(2 * out.capacity() + data.remaining());
                out.flip();
                out = bigger.put(out);
            }
            out.put(data);
            return true;
        }

        @Override
        public boolean isWritable() {
            return true;
        }

        @Override
        public void setReadPaused(boolean paused) {
        }

        @Override
        public void close() {
            closed = true;
        }

        @Override
        public void abort() {
            closed = true;
        }

        @Override
        public boolean isOpen() {
            return !closed;
        }
    }

    /** An upstream that refuses every dial, on the fuzzer's loop. */
    private static final class RefusingRuntime implements NetworkRuntime {
        private final MemoryLoop loop;

        RefusingRuntime(MemoryLoop loop) {
            this.loop = loop;
        }

        @Override
        public Listener listen(InetSocketAddress address, HandlerFactory handlers) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void connect(InetSocketAddress address, EventLoop on, ConnectionHandler handler) {
            loop.execute(() -> handler.onClose(new MemoryConnection(loop), new IOException("Connection refused")));
        }

        @Override
        public List<EventLoop> eventLoops() {
            return List.of(loop);
        }

        @Override
        public void close() {
        }
    }
}
