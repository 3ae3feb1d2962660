package io.warren.core;

import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.BasicProperties;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.ContentHeader;
import io.warren.codec.FieldTable;
import io.warren.codec.Frame;
import io.warren.codec.FrameDecoder;
import io.warren.codec.FrameEncoder;
import io.warren.codec.FrameType;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.core.internal.upstream.AmqpClientHandshake;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A minimal AMQP client over a plain socket, built on Warren's codec, for tests that must send what no client
 * library would (violations, half messages, abrupt drops).
 */
final class RawAmqpClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final FrameDecoder decoder = new FrameDecoder(1 << 20);
    private ByteBuffer buffer = ByteBuffer.allocate(0);
    int frameMax = 131072;
    /** channel_max to answer in tune-ok; 0 takes the server's. */
    int requestedChannelMax;

    RawAmqpClient(String host, int port) throws IOException {
        socket = new Socket(host, port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(10_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Connects and completes the handshake as guest on vhost "/". */
    static RawAmqpClient open(String host, int port) throws IOException {
        RawAmqpClient c = new RawAmqpClient(host, port);
        c.handshake("guest", "guest", "/", 0);
        return c;
    }

    void handshake(String user, String password, String vhost, int heartbeat) throws IOException {
        AmqpMethod answer = handshakeUntilOpen(user, password, vhost, heartbeat);
        if (!(answer instanceof ConnectionMethod.OpenOk)) {
            throw new IOException("handshake refused: " + answer);
        }
    }

    /**
     * Header, start-ok, tune-ok and open as Warren itself does it towards a broker (channel_max {@link
     * #requestedChannelMax} or the server's, its frame_max, {@code heartbeat}); returns what answered: open-ok, or
     * the connection.close that refused the client (answered with close-ok).
     */
    AmqpMethod handshakeUntilOpen(String user, String password, String vhost, int heartbeat) throws IOException {
        AmqpClientHandshake handshake = new AmqpClientHandshake(FieldTable.EMPTY, user,
                password.getBytes(StandardCharsets.UTF_8), new AmqpClientHandshake.Limits(requestedChannelMax, 0,
                        heartbeat));
        send(AmqpClientHandshake.protocolHeader());
        while (true) {
            AmqpMethod m = nextMethod();
            if (m == null) {
                throw new IOException("connection closed during the handshake");
            }
            for (AmqpMethod reply : handshake.receive(m)) {
                sendMethod(0, reply);
            }
            switch (handshake.stage()) {
                case TUNED -> {
                    frameMax = handshake.tuning().frameMax();
                    for (AmqpMethod open : handshake.open(vhost)) {
                        sendMethod(0, open);
                    }
                }
                case OPEN, REFUSED -> {
                    return m;
                }
                default -> { }
            }
        }
    }

    void openChannel(int channel) throws IOException {
        sendMethod(channel, new ChannelMethod.Open(""));
        expect(ChannelMethod.OpenOk.class);
    }

    /** Closes a channel; methods the broker sent before its close-ok (returns, acks...) are skipped. */
    void closeChannel(int channel) throws IOException {
        sendMethod(channel, new ChannelMethod.Close(200, "bye", 0, 0));
        AmqpMethod m;
        while (!((m = nextMethod()) instanceof ChannelMethod.CloseOk)) {
            if (m == null) {
                throw new IOException("connection closed before channel.close-ok");
            }
        }
    }

    void closeConnection() throws IOException {
        sendMethod(0, new ConnectionMethod.Close(200, "bye", 0, 0));
        expect(ConnectionMethod.CloseOk.class);
    }

    void publish(int channel, String exchange, String routingKey, byte[] body) throws IOException {
        sendMethod(channel, new BasicMethod.Publish(0, exchange, routingKey, false, false));
        sendHeader(channel, body.length);
        sendBody(channel, body);
    }

    void sendMethod(int channel, AmqpMethod method) throws IOException {
        send(FrameEncoder.method(channel, method));
    }

    void sendHeader(int channel, long bodySize) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1024);
        FrameEncoder.writeHeader(b, channel, ContentHeader.basic(bodySize, BasicProperties.EMPTY));
        b.flip();
        send(b);
    }

    void sendBody(int channel, byte[] body) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(body.length + FrameType.OVERHEAD);
        FrameEncoder.writeBody(b, channel, ByteBuffer.wrap(body));
        b.flip();
        send(b);
    }

    /** One raw frame: type, channel, payload, and the given end octet. */
    void sendFrame(int type, int channel, byte[] payload, int frameEnd) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(payload.length + FrameType.OVERHEAD);
        b.put((byte) type).putShort((short) channel).putInt(payload.length).put(payload).put((byte) frameEnd);
        b.flip();
        send(b);
    }

    void send(byte[] bytes) throws IOException {
        if (cork != null) {
            cork.writeBytes(bytes);
            return;
        }
        out.write(bytes);
        out.flush();
    }

    /** Bytes held while {@link #inOneWrite} runs. */
    private java.io.ByteArrayOutputStream cork;

    interface Sends {
        void run() throws IOException;
    }

    /** Sends everything {@code sends} writes in one socket write, so Warren reads it at once, in one event. */
    void inOneWrite(Sends sends) throws IOException {
        cork = new java.io.ByteArrayOutputStream();
        try {
            sends.run();
        } finally {
            byte[] bytes = cork.toByteArray();
            cork = null;
            send(bytes);
        }
    }

    void send(ByteBuffer b) throws IOException {
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        send(bytes);
    }

    /** The next non-heartbeat frame, or null when the peer closed the socket. */
    Frame nextFrame() throws IOException {
        while (true) {
            try {
                Frame f = decoder.next(buffer);
                if (f != null) {
                    if (f.type() == FrameType.HEARTBEAT) {
                        continue;
                    }
                    return f;
                }
            } catch (ProtocolException e) {
                throw new IOException(e);
            }
            byte[] chunk = new byte[65536];
            int n = in.read(chunk);
            if (n < 0) {
                return null;
            }
            ByteBuffer joined = ByteBuffer.allocate(buffer.remaining() + n);
            joined.put(buffer).put(chunk, 0, n).flip();
            buffer = joined;
        }
    }

    AmqpMethod nextMethod() throws IOException {
        while (true) {
            Frame f = nextFrame();
            if (f == null) {
                return null;
            }
            if (f.type() == FrameType.METHOD) {
                try {
                    return MethodCodec.decode(f.payload());
                } catch (ProtocolException e) {
                    throw new IOException(e);
                }
            }
        }
    }

    <T extends AmqpMethod> T expect(Class<T> type) throws IOException {
        AmqpMethod m = nextMethod();
        if (!type.isInstance(m)) {
            throw new AssertionError("expected " + type.getSimpleName() + " but got " + m);
        }
        return type.cast(m);
    }

    /** Reads until connection.close arrives (answering close-ok) or the socket closes. */
    ConnectionMethod.Close awaitConnectionClose() throws IOException {
        while (true) {
            AmqpMethod m;
            try {
                m = nextMethod();
            } catch (IOException e) {
                return null; // timed out, or reset: no close came
            }
            if (m == null) {
                return null;
            }
            if (m instanceof ConnectionMethod.Close close) {
                sendMethod(0, new ConnectionMethod.CloseOk());
                return close;
            }
        }
    }

    /** Whether the peer closed the socket within the timeout (reads and drops anything before). */
    boolean closedWithin(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
        try {
            while (in.read(new byte[4096]) >= 0) {
                // drain
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    /**
     * Ends the connection with a FIN without any AMQP close and without reading what the peer sent: everything
     * written so far reaches the peer (a plain close with unread input would send a reset instead).
     */
    void vanish() throws IOException {
        socket.shutdownOutput();
        closedWithin(Duration.ofSeconds(10));
        socket.close();
    }

    /** How long a read may block before it gives up (a peer that stalls). */
    void readTimeout(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
    }

    /** The socket, for tests that read or end the stream themselves once the handshake is done. */
    Socket socket() {
        return socket;
    }

    /** Drops the TCP connection with a reset, as a killed process would. */
    void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
