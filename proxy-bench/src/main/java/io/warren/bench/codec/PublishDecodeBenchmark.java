package io.warren.bench.codec;

import com.rabbitmq.client.impl.AMQCommand;
import com.rabbitmq.client.impl.AMQContentHeader;
import com.rabbitmq.client.impl.AMQImpl;
import com.rabbitmq.client.impl.Method;
import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.BasicProperties;
import io.warren.codec.ContentHeader;
import io.warren.codec.FieldTable;
import io.warren.codec.Frame;
import io.warren.codec.FrameDecoder;
import io.warren.codec.FrameEncoder;
import io.warren.codec.FramePeek;
import io.warren.codec.FrameType;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Decoding one basic.publish as it arrives on the wire: a method frame, a content header frame with a few
 * properties (content-type, delivery-mode, message-id, timestamp and a two-entry headers table) and one 1 KiB
 * body frame, 3 frames in one buffer.
 *
 * <ul>
 *   <li>{@link #warrenFullDecode}: Warren's {@link FrameDecoder} splits the three frames (payloads are slices of
 *       the input, no copy), {@link MethodCodec#decode} and {@link ContentHeader#decode} build the records, the
 *       body stays a slice. What the proxy does for a frame it must understand.</li>
 *   <li>{@link #warrenPeek}: the proxy's hot path for a frame it only forwards: {@link FramePeek} reads type,
 *       channel, size (and class/method id of the method frame) and rewrites the channel number in place.
 *       Expected to allocate nothing (run with {@code -prof gc}).</li>
 *   <li>{@link #amqpClientCommand}: what the RabbitMQ Java client does per frame on its reading thread:
 *       {@code Frame.readFrom(DataInputStream)} (a new byte[] per payload), then {@code AMQCommand.handleFrame}
 *       (method via AMQImpl.readMethodFrom, header via AMQImpl.readContentHeaderFrom, body accumulated), and
 *       {@code getContentBody()} as the consumer dispatch does.</li>
 *   <li>{@link #amqpClientFrames}: the client's bare readers without its command assembler
 *       ({@code Frame.readFrom} + {@code AMQImpl.readMethodFrom} + {@code AMQImpl.readContentHeaderFrom}, body
 *       left as the frame's byte[]): the cheapest baseline the client's code allows.</li>
 * </ul>
 *
 * Per-connection state (decoder, DataInputStream) is created once, as a connection would; only the input is
 * rewound per invocation. All four read the same bytes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(3)
public class PublishDecodeBenchmark {
    static final int CHANNEL = 1;
    static final int BODY_SIZE = 1024;

    private ByteBuffer wire;
    private FrameDecoder decoder;
    private byte[] wireBytes;
    private ByteArrayInputStream clientBytes;
    private DataInputStream clientIn;
    private int mappedChannel;

    /** The three frames of one publish, encoded by Warren's encoder (the interop tests prove the client reads it). */
    public static byte[] publishFrames() {
        AmqpMethod publish = new BasicMethod.Publish(0, "orders", "orders.created.eu", false, false);
        BasicProperties props = BasicProperties.builder()
                .contentType("application/json")
                .deliveryMode(2)
                .messageId("6f1c1d0e-4a5b-4c1f-9e2a-1b2c3d4e5f60")
                .timestamp(1_764_000_000L)
                .headers(FieldTable.builder().put("tenant", "acme").put("attempt", 1).build())
                .build();
        ByteBuffer body = ByteBuffer.allocate(BODY_SIZE);
        for (int i = 0; i < BODY_SIZE; i++) {
            body.put(i, (byte) ('a' + i % 26));
        }
        ByteBuffer out = ByteBuffer.allocate(4096);
        FrameEncoder.writeMethod(out, CHANNEL, publish);
        FrameEncoder.writeHeader(out, CHANNEL, ContentHeader.basic(BODY_SIZE, props));
        FrameEncoder.writeBody(out, CHANNEL, body);
        out.flip();
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        return bytes;
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        wireBytes = publishFrames();
        wire = ByteBuffer.wrap(wireBytes);
        decoder = new FrameDecoder(131072);
        clientBytes = new ByteArrayInputStream(wireBytes);
        clientIn = new DataInputStream(clientBytes);
        // Sanity: every variant sees one publish with a 1 KiB body.
        Object[] w = warrenFullDecode();
        if (!(w[0] instanceof BasicMethod.Publish) || ((ContentHeader) w[1]).bodySize() != BODY_SIZE
                || ((ByteBuffer) w[2]).remaining() != BODY_SIZE) {
            throw new IllegalStateException("warren decode mismatch");
        }
        AMQCommand c = amqpClientCommand();
        if (!(c.getMethod() instanceof AMQImpl.Basic.Publish) || c.getContentBody().length != BODY_SIZE) {
            throw new IllegalStateException("amqp-client decode mismatch: " + c);
        }
        Object[] f = amqpClientFrames();
        if (!(f[0] instanceof AMQImpl.Basic.Publish) || ((AMQContentHeader) f[1]).getBodySize() != BODY_SIZE) {
            throw new IllegalStateException("amqp-client frame decode mismatch");
        }
        if (warrenPeek() == 0) {
            throw new IllegalStateException("peek mismatch");
        }
    }

    @Benchmark
    public Object[] warrenFullDecode() throws ProtocolException {
        ByteBuffer in = wire.clear();
        Frame method = decoder.next(in);
        Frame header = decoder.next(in);
        Frame body = decoder.next(in);
        AmqpMethod m = MethodCodec.decode(method.payload());
        ContentHeader h = ContentHeader.decode(header.payload());
        return new Object[] {m, h, body.payload()};
    }

    @Benchmark
    public int warrenPeek() {
        ByteBuffer in = wire;
        int limit = wireBytes.length;
        int acc = 0;
        // Alternate between two mapped channel numbers so every call really writes.
        mappedChannel = mappedChannel == 7 ? CHANNEL : 7;
        for (int at = 0; at < limit; ) {
            int type = FramePeek.type(in, at);
            int channel = FramePeek.channel(in, at);
            int size = FramePeek.payloadSize(in, at);
            if (type == FrameType.METHOD) {
                acc += FramePeek.classId(in, at) * 31 + FramePeek.methodId(in, at);
            }
            FramePeek.setChannel(in, at, mappedChannel);
            acc += type + channel;
            at += size + FrameType.OVERHEAD;
        }
        return acc;
    }

    @Benchmark
    public AMQCommand amqpClientCommand() throws IOException {
        clientBytes.reset();
        AMQCommand command = new AMQCommand();
        for (int i = 0; i < 3; i++) {
            com.rabbitmq.client.impl.Frame frame = com.rabbitmq.client.impl.Frame.readFrom(clientIn, () -> 131072);
            command.handleFrame(frame);
        }
        command.getContentBody();
        return command;
    }

    @Benchmark
    public Object[] amqpClientFrames() throws IOException {
        clientBytes.reset();
        com.rabbitmq.client.impl.Frame method = com.rabbitmq.client.impl.Frame.readFrom(clientIn, () -> 131072);
        com.rabbitmq.client.impl.Frame header = com.rabbitmq.client.impl.Frame.readFrom(clientIn, () -> 131072);
        com.rabbitmq.client.impl.Frame body = com.rabbitmq.client.impl.Frame.readFrom(clientIn, () -> 131072);
        Method m = AMQImpl.readMethodFrom(method.getInputStream());
        AMQContentHeader h = AMQImpl.readContentHeaderFrom(header.getInputStream());
        return new Object[] {m, h, body.getPayload()};
    }
}
