package io.warren.core;

import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.BasicProperties;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.ContentHeader;
import io.warren.codec.FieldTable;
import io.warren.codec.FieldValue;
import io.warren.codec.FrameEncoder;
import io.warren.codec.FrameType;
import io.warren.codec.LongString;
import io.warren.codec.MethodCodec;
import io.warren.codec.MethodInfo;
import io.warren.codec.ProtocolHeader;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * jqwik generators of what a hostile client sends: pieces of a byte stream ({@link Piece}), each a readable value
 * so a shrunk counterexample can be turned into a plain regression test.
 */
final class HostileInput {
    private HostileInput() {}

    /** Frames are generated against this frame_max (Warren's default; the raw client accepts what it is tuned). */
    static final int FRAME_MAX = 131072;

    /** A part of what the client sends. */
    sealed interface Piece {
        void writeTo(ByteArrayOutputStream out);
    }

    /** Arbitrary bytes. */
    record Raw(byte[] bytes) implements Piece {
        @Override
        public void writeTo(ByteArrayOutputStream out) {
            out.writeBytes(bytes);
        }

        @Override
        public String toString() {
            return "Raw[" + HexFormat.of().formatHex(bytes) + "]";
        }
    }

    /** A well-formed method frame. */
    record Method(int channel, AmqpMethod method) implements Piece {
        @Override
        public void writeTo(ByteArrayOutputStream out) {
            ByteBuffer b = FrameEncoder.method(channel, method);
            out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
        }
    }

    /** A method frame cut short after {@code keep} bytes (the stream goes on with the next piece). */
    record Truncated(int channel, AmqpMethod method, int keep) implements Piece {
        @Override
        public void writeTo(ByteArrayOutputStream out) {
            ByteBuffer b = FrameEncoder.method(channel, method);
            out.write(b.array(), b.arrayOffset() + b.position(), Math.min(keep, b.remaining()));
        }
    }

    /** A frame with the given type, channel, declared size, payload and end octet, all possibly wrong. */
    record Frame(int type, int channel, long declaredSize, byte[] payload, int frameEnd) implements Piece {
        @Override
        public void writeTo(ByteArrayOutputStream out) {
            ByteBuffer b = ByteBuffer.allocate(payload.length + FrameType.OVERHEAD);
            b.put((byte) type).putShort((short) channel).putInt((int) declaredSize).put(payload).put((byte) frameEnd);
            out.write(b.array(), 0, b.position());
        }

        @Override
        public String toString() {
            return "Frame[type=" + type + ", channel=" + channel + ", size=" + declaredSize + ", payload="
                    + HexFormat.of().formatHex(payload) + ", end=" + frameEnd + "]";
        }
    }

    /** A content header frame announcing {@code bodySize} bytes. */
    record Header(int channel, long bodySize) implements Piece {
        @Override
        public void writeTo(ByteArrayOutputStream out) {
            ByteBuffer b = ByteBuffer.allocate(64);
            FrameEncoder.writeHeader(b, channel, ContentHeader.basic(bodySize, BasicProperties.EMPTY));
            out.write(b.array(), 0, b.position());
        }
    }

    /** A content body frame of {@code size} zero bytes. */
    record Body(int channel, int size) implements Piece {
        @Override
        public void writeTo(ByteArrayOutputStream out) {
            ByteBuffer b = ByteBuffer.allocate(size + FrameType.OVERHEAD);
            FrameEncoder.writeBody(b, channel, ByteBuffer.allocate(size));
            out.write(b.array(), 0, b.position());
        }
    }

    /** A whole, valid basic.publish to the default exchange, split into bodies of at most {@code frameBody}. */
    record Publish(int channel, String routingKey, int bodySize, int frameBody) implements Piece {
        @Override
        public void writeTo(ByteArrayOutputStream out) {
            new Method(channel, new BasicMethod.Publish(0, "", routingKey, false, false)).writeTo(out);
            new Header(channel, bodySize).writeTo(out);
            for (int sent = 0; sent < bodySize; sent += frameBody) {
                new Body(channel, Math.min(frameBody, bodySize - sent)).writeTo(out);
            }
        }
    }

    static byte[] render(List<? extends Piece> pieces) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        pieces.forEach(p -> p.writeTo(out));
        return out.toByteArray();
    }

    // ---------------------------------------------------------------- handshake

    /** What comes before the handshake proper: nothing, junk, a protocol header with one byte wrong, a cut one. */
    static Arbitrary<Piece> protocolHeader() {
        Arbitrary<Piece> valid = Arbitraries.just(new Raw(ProtocolHeader.AMQP_0_9_1.clone()));
        Arbitrary<Piece> mutated = Combinators.combine(Arbitraries.integers().between(0, 7),
                Arbitraries.integers().between(0, 255)).as((at, value) -> {
                    byte[] h = ProtocolHeader.AMQP_0_9_1.clone();
                    h[at] = value.byteValue();
                    return new Raw(h);
                });
        Arbitrary<Piece> cut = Arbitraries.integers().between(0, 7)
                .map(n -> new Raw(java.util.Arrays.copyOf(ProtocolHeader.AMQP_0_9_1, n)));
        Arbitrary<Piece> junkFirst = junk(16).map(j -> {
            byte[] b = new byte[j.bytes.length + 8];
            System.arraycopy(j.bytes, 0, b, 0, j.bytes.length);
            System.arraycopy(ProtocolHeader.AMQP_0_9_1, 0, b, j.bytes.length, 8);
            return new Raw(b);
        });
        return Arbitraries.frequencyOf(Tuple.of(8, valid), Tuple.of(2, mutated), Tuple.of(1, cut),
                Tuple.of(1, junkFirst));
    }

    /** Connection-class steps in any order, with good and bad values, mixed with the post-handshake pieces. */
    static Arbitrary<Piece> handshakeStep() {
        Arbitrary<Piece> startOk = Combinators.combine(
                Arbitraries.of("PLAIN", "AMQPLAIN", "EXTERNAL", "", "plain"),
                Arbitraries.frequencyOf(
                        Tuple.of(6, Arbitraries.just(plain("guest", "guest"))),
                        Tuple.of(1, Arbitraries.just(LongString.of("\0guest".getBytes(StandardCharsets.UTF_8)))),
                        Tuple.of(2, Arbitraries.bytes().array(byte[].class).ofMaxSize(24).map(LongString::of))),
                table()).as((mechanism, response, properties) -> (Piece) new Method(0,
                        new ConnectionMethod.StartOk(properties, mechanism, response, "en_US")));
        Arbitrary<Piece> tuneOk = Combinators.combine(shortValue(), Arbitraries.of(0L, 4095L, 4096L, 131072L,
                131073L, 0xFFFF_FFFFL), Arbitraries.of(0, 1, 60, 65535)).as((c, f, h) -> (Piece) new Method(0,
                        new ConnectionMethod.TuneOk(c, f, h)));
        Arbitrary<Piece> open = Arbitraries.of("/", "", "no-such-vhost", "//").map(v -> (Piece) new Method(0,
                new ConnectionMethod.Open(v, "", false)));
        return Arbitraries.frequencyOf(Tuple.of(6, startOk), Tuple.of(4, tuneOk), Tuple.of(4, open),
                Tuple.of(4, postHandshakeStep()));
    }

    private static LongString plain(String user, String password) {
        return LongString.of(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
    }

    // ---------------------------------------------------------------- after the handshake

    /** Channels a hostile client uses: mostly the few it opens, sometimes ones it never opened or out of range. */
    static Arbitrary<Integer> channel() {
        return Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.just(0)),
                Tuple.of(14, Arbitraries.integers().between(1, 2)),
                Tuple.of(2, Arbitraries.just(3)),
                Tuple.of(2, Arbitraries.of(2047, 2048, 65535)),
                Tuple.of(1, Arbitraries.integers().between(0, 65535)));
    }

    static Arbitrary<Piece> postHandshakeStep() {
        Arbitrary<Piece> openChannel = channel().map(ch -> (Piece) new Method(ch, new ChannelMethod.Open("")));
        Arbitrary<Piece> closeChannel = channel().map(ch -> (Piece) new Method(ch,
                new ChannelMethod.Close(200, "bye", 0, 0)));
        Arbitrary<Piece> method = Combinators.combine(channel(), anyMethod()).as(Method::new);
        Arbitrary<Piece> truncated = Combinators.combine(channel(), anyMethod(), Arbitraries.integers().between(0,
                40)).as(Truncated::new);
        Arbitrary<Piece> publish = Combinators.combine(channel(), Arbitraries.of("", "fuzz", "amq.gen-none"),
                Arbitraries.integers().between(0, 300), Arbitraries.integers().between(1, 200)).as(Publish::new);
        Arbitrary<Piece> header = Combinators.combine(channel(), Arbitraries.longs().between(0, 1L << 40)
                .edgeCases(e -> e.includeOnly(0L, 1L))).as(Header::new);
        Arbitrary<Piece> body = Combinators.combine(channel(), Arbitraries.integers().between(0, 300)).as(Body::new);
        return Arbitraries.frequencyOf(
                Tuple.of(6, openChannel), Tuple.of(2, closeChannel), Tuple.of(10, method), Tuple.of(2, truncated),
                Tuple.of(4, publish), Tuple.of(2, header), Tuple.of(2, body), Tuple.of(3, frame()),
                Tuple.of(1, junk(64).map(j -> (Piece) j)));
    }

    /** Frames with any type, wrong sizes (truncated or beyond frame_max) and wrong end octets. */
    static Arbitrary<Piece> frame() {
        Arbitrary<Integer> type = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.of(FrameType.METHOD, FrameType.HEADER, FrameType.BODY, FrameType.HEARTBEAT)),
                Tuple.of(1, Arbitraries.integers().between(0, 255)));
        Arbitrary<byte[]> payload = Arbitraries.bytes().array(byte[].class).ofMaxSize(40);
        Arbitrary<Integer> end = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(FrameType.FRAME_END)),
                Tuple.of(1, Arbitraries.integers().between(0, 255)));
        Arbitrary<Integer> sizeDelta = Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.just(0)),
                Tuple.of(2, Arbitraries.integers().between(-3, 3)),
                Tuple.of(1, Arbitraries.of(FRAME_MAX, FRAME_MAX + 1, Integer.MAX_VALUE, -1)));
        return Combinators.combine(type, channel(), payload, end, sizeDelta).as((t, ch, p, e, d) -> {
            long size = d == FRAME_MAX || d == FRAME_MAX + 1 || d == Integer.MAX_VALUE || d == -1
                    ? (d == -1 ? 0xFFFF_FFFFL : d) : Math.max(0, p.length + d);
            return new Frame(t, ch, size, p, e);
        });
    }

    static Arbitrary<Raw> junk(int maxSize) {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(maxSize).map(Raw::new);
    }

    // ---------------------------------------------------------------- methods from the codec's records

    /**
     * Any method of the codec's table with random field values: client and server methods alike, the channel-level
     * methods a client may send four times as often as the rest (those reach the broker).
     */
    static Arbitrary<AmqpMethod> anyMethod() {
        List<Tuple.Tuple2<Integer, Arbitrary<AmqpMethod>>> all = new ArrayList<>();
        for (MethodInfo info : MethodCodec.methodTable()) {
            all.add(Tuple.of(clientMayForward(info) ? 4 : 1, method(info)));
        }
        return Arbitraries.frequencyOf(all);
    }

    private static boolean clientMayForward(MethodInfo info) {
        return !info.className().equals("connection")
                && (info.synchronous() || List.of("publish", "ack", "reject", "nack", "recover-async", "close-ok",
                        "flow-ok").contains(info.name()));
    }

    private static Arbitrary<AmqpMethod> method(MethodInfo info) {
        Class<?> rec = recordFor(info);
        RecordComponent[] components = rec.getRecordComponents();
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
        }
        Constructor<?> constructor;
        try {
            constructor = rec.getDeclaredConstructor(types);
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
        if (info.fields().isEmpty()) {
            return Arbitraries.just(newInstance(constructor, new Object[0]));
        }
        List<Arbitrary<Object>> fields = new ArrayList<>();
        for (MethodInfo.Field f : info.fields()) {
            fields.add(field(f.type()));
        }
        return Combinators.combine(fields).as(values -> newInstance(constructor, values.toArray()));
    }

    private static Class<?> recordFor(MethodInfo info) {
        for (Class<?> family : AmqpMethod.class.getPermittedSubclasses()) {
            for (Class<?> rec : family.getPermittedSubclasses()) {
                try {
                    if (rec.getField("CLASS_ID").getInt(null) == info.classId()
                            && rec.getField("METHOD_ID").getInt(null) == info.methodId()) {
                        return rec;
                    }
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError(e);
                }
            }
        }
        throw new AssertionError("no record for " + info);
    }

    private static AmqpMethod newInstance(Constructor<?> constructor, Object[] args) {
        try {
            return (AmqpMethod) constructor.newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static Arbitrary<Object> field(String type) {
        return switch (type) {
            case "octet" -> Arbitraries.integers().between(0, 255).asGeneric();
            case "short" -> shortValue().asGeneric();
            case "long" -> Arbitraries.longs().between(0, 0xFFFF_FFFFL).asGeneric();
            case "longlong", "timestamp" -> Arbitraries.longs().asGeneric();
            case "bit" -> Arbitraries.of(true, false).asGeneric();
            case "shortstr" -> name().asGeneric();
            case "longstr" -> Arbitraries.bytes().array(byte[].class).ofMaxSize(40).map(LongString::of).asGeneric();
            case "table" -> table().asGeneric();
            default -> throw new AssertionError(type);
        };
    }

    private static Arbitrary<Integer> shortValue() {
        return Arbitraries.integers().between(0, 65535).edgeCases(e -> e.includeOnly(0, 1, 65535));
    }

    /**
     * Entity names, exchange types, consumer tags: a small set of interesting names (built-in entities, reserved
     * prefixes) and short random ones, so the broker does not fill up with thousands of queues.
     */
    static Arbitrary<String> name() {
        return Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of("", "fuzz", "fuzz.q", "amq.direct", "amq.topic", "amq.default",
                        "amq.rabbitmq.reply-to", "amq.gen-x", "direct", "fanout", "topic", "headers", "x-no-such")),
                Tuple.of(3, Arbitraries.strings().withCharRange('a', 'c').ofMaxLength(3).map(s -> "fuzz-" + s)),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(12)),
                Tuple.of(1, Arbitraries.strings().ascii().ofLength(255)));
    }

    static Arbitrary<FieldTable> table() {
        Arbitrary<String> key = Arbitraries.of("x-message-ttl", "x-expires", "x-max-length", "x-queue-type",
                "x-dead-letter-exchange", "x-max-priority", "x-match", "alternate-exchange", "x-overflow",
                "x-single-active-consumer", "x-priority", "x-cancel-on-ha-failover", "capabilities", "k");
        Arbitrary<FieldValue> value = Arbitraries.oneOf(List.of(
                Arbitraries.of(true, false).map(FieldValue.Bool::of),
                Arbitraries.integers().map(FieldValue.SignedInt::new),
                Arbitraries.longs().map(FieldValue.SignedLong::new),
                Arbitraries.integers().between(0, 255).map(FieldValue.UnsignedByte::new),
                Arbitraries.of("classic", "quorum", "stream", "reject-publish", "all", "any", "").map(
                        s -> LongString.of(s.getBytes(StandardCharsets.UTF_8))),
                Arbitraries.doubles().map(FieldValue.Float64::new),
                Arbitraries.just(new FieldValue.Void()),
                Arbitraries.just(new FieldValue.Table(FieldTable.EMPTY))));
        return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(FieldTable.EMPTY)),
                Tuple.of(1, Arbitraries.maps(key, value).ofMaxSize(3).map(FieldTable::new)));
    }
}
