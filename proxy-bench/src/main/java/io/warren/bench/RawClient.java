package io.warren.bench;

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
import io.warren.codec.LongString;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import io.warren.codec.ProtocolHeader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The smallest AMQP 0-9-1 publisher that is still a well-behaved client, written with Warren's codec: one
 * blocking socket, no threads, the round trips of the protocol and nothing else (like php-amqplib or a CGI
 * script would do): protocol header / start, start-ok / tune, tune-ok + open / open-ok, channel.open / open-ok,
 * publish + channel.close / close-ok, connection.close / close-ok. Used by {@link ConnectionPerPublishBench}
 * to take the Java client's own per-connection cost (a reader thread, a work pool, a heartbeat executor) out of
 * the numbers.
 */
final class RawClient {
    private final InetSocketAddress address;
    private final String user;
    private final String password;

    RawClient(InetSocketAddress address, String user, String password) {
        this.address = address;
        this.user = user;
        this.password = password;
    }

    /** One short-lived client: connect, open a channel, publish one message, close both. */
    void publishOnce(String exchange, String routingKey, byte[] body) throws IOException {
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            s.connect(address, 10_000);
            s.setSoTimeout(30_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            Reader reader = new Reader(in);
            ByteBuffer buf = ByteBuffer.allocate(4096 + body.length);

            out.write(ProtocolHeader.AMQP_0_9_1);
            out.flush();
            reader.expect(0, ConnectionMethod.Start.class);
            FieldTable props = FieldTable.builder().put("product", "warren-bench-raw-client").build();
            byte[] plain = ("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8);
            send(out, buf.clear(), 0, new ConnectionMethod.StartOk(props, "PLAIN", LongString.of(plain), "en_US"));
            ConnectionMethod.Tune tune = reader.expect(0, ConnectionMethod.Tune.class);
            buf.clear();
            FrameEncoder.writeMethod(buf, 0, new ConnectionMethod.TuneOk(tune.channelMax(), tune.frameMax(), 0));
            FrameEncoder.writeMethod(buf, 0, new ConnectionMethod.Open("/", "", false));
            flush(out, buf);
            reader.expect(0, ConnectionMethod.OpenOk.class);
            send(out, buf.clear(), 1, new ChannelMethod.Open(""));
            reader.expect(1, ChannelMethod.OpenOk.class);
            buf.clear();
            FrameEncoder.writeMethod(buf, 1, new BasicMethod.Publish(0, exchange, routingKey, false, false));
            FrameEncoder.writeHeader(buf, 1, ContentHeader.basic(body.length, BasicProperties.EMPTY));
            FrameEncoder.writeBody(buf, 1, ByteBuffer.wrap(body));
            FrameEncoder.writeMethod(buf, 1, new ChannelMethod.Close(200, "", 0, 0));
            flush(out, buf);
            reader.expect(1, ChannelMethod.CloseOk.class);
            send(out, buf.clear(), 0, new ConnectionMethod.Close(200, "", 0, 0));
            reader.expect(0, ConnectionMethod.CloseOk.class);
        }
    }

    private static void send(OutputStream out, ByteBuffer buf, int channel, AmqpMethod m) throws IOException {
        FrameEncoder.writeMethod(buf, channel, m);
        flush(out, buf);
    }

    private static void flush(OutputStream out, ByteBuffer buf) throws IOException {
        out.write(buf.array(), 0, buf.position());
        out.flush();
    }

    private static final class Reader {
        private final InputStream in;
        private final FrameDecoder decoder = new FrameDecoder(131072);
        private final ByteBuffer data = ByteBuffer.allocate(16384).flip();

        Reader(InputStream in) {
            this.in = in;
        }

        <T extends AmqpMethod> T expect(int channel, Class<T> type) throws IOException {
            while (true) {
                Frame f;
                try {
                    while ((f = decoder.next(data)) == null) {
                        int n = in.read(data.array(), 0, data.capacity());
                        if (n < 0) {
                            throw new IOException("server closed the connection while waiting for "
                                    + type.getSimpleName());
                        }
                        data.limit(n).position(0);
                    }
                    if (f.type() != FrameType.METHOD) {
                        continue; // heartbeats
                    }
                    AmqpMethod m = MethodCodec.decode(f.payload());
                    if (type.isInstance(m) && f.channel() == channel) {
                        return type.cast(m);
                    }
                    throw new IOException("expected " + type.getSimpleName() + " on channel " + channel + ", got "
                            + m + " on channel " + f.channel());
                } catch (ProtocolException e) {
                    throw new IOException(e);
                }
            }
        }
    }
}
