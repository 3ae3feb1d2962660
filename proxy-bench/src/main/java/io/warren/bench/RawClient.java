package io.warren.bench;

import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.BasicProperties;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConfirmMethod;
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
import java.security.GeneralSecurityException;
import javax.net.ssl.SSLSocket;

/**
 * The smallest AMQP 0-9-1 publisher that is still a well-behaved client, written with Warren's codec: one
 * blocking socket, no threads, the round trips of the protocol and nothing else (like php-amqplib or a CGI
 * script would do): protocol header / start, start-ok / tune, tune-ok + open / open-ok, channel.open / open-ok,
 * publish + channel.close / close-ok, connection.close / close-ok. Used by {@link ConnectionPerPublishBench}
 * to take the Java client's own per-connection cost (a reader thread, a work pool, a heartbeat executor) out of
 * the numbers.
 *
 * <p>With a {@link BenchTls} it speaks amqps: TCP connect, then a TLS handshake (SNI and host name verification
 * against {@link BenchTls#serverName()}), then the same AMQP exchange over the {@link SSLSocket}.
 *
 * <p>{@link #publishConfirmed} does the same with publisher confirms (confirm.select / select-ok before the publish,
 * then waits for the broker's basic.ack), for {@link SoakBench}.
 *
 * <p>Not thread-safe (one client at a time per instance: {@link #lastTlsHandshakeNanos()}), except
 * {@link #publishConfirmed} without TLS, which keeps no state in the instance.
 */
final class RawClient {
    private final InetSocketAddress address;
    private final String user;
    private final String password;
    private final BenchTls tls;
    private long lastTlsHandshakeNanos;
    private String lastTlsSession = "";

    RawClient(InetSocketAddress address, String user, String password) {
        this(address, user, password, null);
    }

    /** @param tls null for plain AMQP */
    RawClient(InetSocketAddress address, String user, String password, BenchTls tls) {
        this.address = address;
        this.user = user;
        this.password = password;
        this.tls = tls;
    }

    /** How long the last client's TLS handshake took (TCP connected to handshake done), 0 without TLS. */
    long lastTlsHandshakeNanos() {
        return lastTlsHandshakeNanos;
    }

    /** Protocol and cipher suite of the last client's TLS session, empty without TLS. */
    String lastTlsSession() {
        return lastTlsSession;
    }

    /**
     * One short-lived client: connect, (TLS handshake,) open a channel, publish one message, close both.
     *
     * @return {@link System#nanoTime()} when connection.close-ok arrived (the socket's own close, which for TLS may
     *     send close_notify, comes after and is not part of the client's measured time)
     */
    long publishOnce(String exchange, String routingKey, byte[] body) throws IOException {
        return publish(exchange, routingKey, body, null);
    }

    /**
     * One short-lived client with a publisher confirm: connect, open a channel, confirm.select, publish one message,
     * wait for its basic.ack, close the channel and the connection. A basic.nack or any other unexpected frame is an
     * IOException.
     *
     * @param onConfirmed run when the basic.ack arrived (before the closes, which may still fail)
     * @return {@link System#nanoTime()} when connection.close-ok arrived
     */
    long publishConfirmed(String exchange, String routingKey, byte[] body, Runnable onConfirmed) throws IOException {
        return publish(exchange, routingKey, body, onConfirmed);
    }

    private long publish(String exchange, String routingKey, byte[] body, Runnable onConfirmed) throws IOException {
        Socket plain = new Socket();
        Socket s = plain;
        try {
            plain.setTcpNoDelay(true);
            plain.connect(address, 10_000);
            plain.setSoTimeout(30_000);
            if (tls != null) {
                long t0 = System.nanoTime();
                SSLSocket ssl = tls.handshake(plain, address.getPort());
                lastTlsHandshakeNanos = System.nanoTime() - t0;
                lastTlsSession = ssl.getSession().getProtocol() + " " + ssl.getSession().getCipherSuite();
                s = ssl;
            }
            return exchange(s, exchange, routingKey, body, onConfirmed);
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        } finally {
            s.close();
            if (s != plain) {
                plain.close();
            }
        }
    }

    private long exchange(Socket s, String exchange, String routingKey, byte[] body, Runnable onConfirmed)
            throws IOException {
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
        if (onConfirmed != null) {
            send(out, buf.clear(), 1, new ConfirmMethod.Select(false));
            reader.expect(1, ConfirmMethod.SelectOk.class);
        }
        buf.clear();
        FrameEncoder.writeMethod(buf, 1, new BasicMethod.Publish(0, exchange, routingKey, false, false));
        FrameEncoder.writeHeader(buf, 1, ContentHeader.basic(body.length, BasicProperties.EMPTY));
        FrameEncoder.writeBody(buf, 1, ByteBuffer.wrap(body));
        if (onConfirmed != null) {
            flush(out, buf);
            BasicMethod.Ack ack = reader.expect(1, BasicMethod.Ack.class);
            if (ack.deliveryTag() != 1) {
                throw new IOException("expected basic.ack of delivery tag 1, got " + ack);
            }
            onConfirmed.run();
            buf.clear();
        }
        FrameEncoder.writeMethod(buf, 1, new ChannelMethod.Close(200, "", 0, 0));
        flush(out, buf);
        reader.expect(1, ChannelMethod.CloseOk.class);
        send(out, buf.clear(), 0, new ConnectionMethod.Close(200, "", 0, 0));
        reader.expect(0, ConnectionMethod.CloseOk.class);
        return System.nanoTime();
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
