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
import io.warren.testsupport.gen.Generator;
import io.warren.testsupport.gen.Generators;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Generators (test-support's seeded ones) of what a hostile client sends: pieces of a byte stream ({@link Piece}), each
 * a readable value so that a failing case can be turned into a plain regression test.
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
    static Generator<Piece> protocolHeader() {
        Generator<Piece> valid = r -> new Raw(ProtocolHeader.AMQP_0_9_1.clone());
        Generator<Integer> positions = Generators.ints(0, 7);
        Generator<Integer> octets = Generators.ints(0, 255);
        Generator<Piece> mutated = r -> {
            byte[] h = ProtocolHeader.AMQP_0_9_1.clone();
            h[positions.next(r)] = octets.next(r).byteValue();
            return new Raw(h);
        };
        Generator<Piece> cut = positions.map(n -> new Raw(Arrays.copyOf(ProtocolHeader.AMQP_0_9_1, n)));
        Generator<Piece> junkFirst = junk(16).map(j -> {
            byte[] b = new byte[j.bytes.length + 8];
            System.arraycopy(j.bytes, 0, b, 0, j.bytes.length);
            System.arraycopy(ProtocolHeader.AMQP_0_9_1, 0, b, j.bytes.length, 8);
            return new Raw(b);
        });
        return Generators.<Piece>weighted(8, valid).or(2, mutated).or(1, cut).or(1, junkFirst);
    }

    /** Connection-class steps in any order, with good and bad values, mixed with the post-handshake pieces. */
    static Generator<Piece> handshakeStep() {
        Generator<String> mechanisms = Generators.elements("PLAIN", "AMQPLAIN", "EXTERNAL", "", "plain");
        Generator<LongString> responses = Generators.<LongString>weighted(6, Generators.constant(plain("guest", "guest")))
                .or(1, Generators.constant(LongString.of("\0guest".getBytes(StandardCharsets.UTF_8))))
                .or(2, Generators.byteArrays(0, 24).map(LongString::of));
        Generator<FieldTable> tables = table();
        Generator<Piece> startOk = r -> new Method(0, new ConnectionMethod.StartOk(tables.next(r), mechanisms.next(r),
                responses.next(r), "en_US"));
        Generator<Integer> shorts = shortValue();
        Generator<Long> frameMaxes = Generators.elements(0L, 4095L, 4096L, 131072L, 131073L, 0xFFFF_FFFFL);
        Generator<Integer> heartbeats = Generators.elements(0, 1, 60, 65535);
        Generator<Piece> tuneOk = r -> new Method(0, new ConnectionMethod.TuneOk(shorts.next(r), frameMaxes.next(r),
                heartbeats.next(r)));
        Generator<Piece> open = Generators.elements("/", "", "no-such-vhost", "//").map(v -> new Method(0,
                new ConnectionMethod.Open(v, "", false)));
        return Generators.<Piece>weighted(6, startOk).or(4, tuneOk).or(4, open).or(4, postHandshakeStep());
    }

    private static LongString plain(String user, String password) {
        return LongString.of(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
    }

    // ---------------------------------------------------------------- after the handshake

    /** Channels a hostile client uses: mostly the few it opens, sometimes ones it never opened or out of range. */
    static Generator<Integer> channel() {
        return Generators.<Integer>weighted(2, Generators.constant(0))
                .or(14, Generators.ints(1, 2))
                .or(2, Generators.constant(3))
                .or(2, Generators.elements(2047, 2048, 65535))
                .or(1, Generators.ints(0, 65535));
    }

    static Generator<Piece> postHandshakeStep() {
        Generator<Integer> channels = channel();
        Generator<AmqpMethod> methods = anyMethod();
        Generator<Piece> openChannel = channels.map(ch -> new Method(ch, new ChannelMethod.Open("")));
        Generator<Piece> closeChannel = channels.map(ch -> new Method(ch, new ChannelMethod.Close(200, "bye", 0, 0)));
        Generator<Piece> method = r -> new Method(channels.next(r), methods.next(r));
        Generator<Integer> keeps = Generators.ints(0, 40);
        Generator<Piece> truncated = r -> new Truncated(channels.next(r), methods.next(r), keeps.next(r));
        Generator<String> routingKeys = Generators.elements("", "fuzz", "amq.gen-none");
        Generator<Integer> bodySizes = Generators.ints(0, 300);
        Generator<Integer> frameBodies = Generators.ints(1, 200);
        Generator<Piece> publish = r -> new Publish(channels.next(r), routingKeys.next(r), bodySizes.next(r),
                frameBodies.next(r));
        Generator<Long> announced = Generators.longs(0, 1L << 40);
        Generator<Piece> header = r -> new Header(channels.next(r), announced.next(r));
        Generator<Piece> body = r -> new Body(channels.next(r), bodySizes.next(r));
        return Generators.<Piece>weighted(6, openChannel).or(2, closeChannel).or(10, method).or(2, truncated)
                .or(4, publish).or(2, header).or(2, body).or(3, frame()).or(1, junk(64));
    }

    /** Frames with any type, wrong sizes (truncated or beyond frame_max) and wrong end octets. */
    static Generator<Piece> frame() {
        Generator<Integer> types = Generators.<Integer>weighted(4, Generators.elements(FrameType.METHOD,
                        FrameType.HEADER, FrameType.BODY, FrameType.HEARTBEAT))
                .or(1, Generators.ints(0, 255));
        Generator<Integer> channels = channel();
        Generator<byte[]> payloads = Generators.byteArrays(0, 40);
        Generator<Integer> ends = Generators.<Integer>weighted(4, Generators.constant(FrameType.FRAME_END))
                .or(1, Generators.ints(0, 255));
        Generator<Long> beyond = Generators.elements((long) FRAME_MAX, FRAME_MAX + 1L, (long) Integer.MAX_VALUE,
                0xFFFF_FFFFL);
        Generator<Integer> deltas = Generators.ints(-3, 3);
        Generator<Integer> sizeKinds = Generators.<Integer>weighted(6, Generators.constant(0))
                .or(2, Generators.constant(1))
                .or(1, Generators.constant(2));
        return r -> {
            int type = types.next(r);
            int ch = channels.next(r);
            byte[] payload = payloads.next(r);
            int end = ends.next(r);
            long size = switch (sizeKinds.next(r)) {
                case 0 -> payload.length; // right
                case 1 -> Math.max(0, payload.length + deltas.next(r)); // a few bytes off
                default -> beyond.next(r); // beyond frame_max, up to the largest uint32
            };
            return new Frame(type, ch, size, payload, end);
        };
    }

    static Generator<Raw> junk(int maxSize) {
        return Generators.byteArrays(1, maxSize).map(Raw::new);
    }

    // ---------------------------------------------------------------- methods from the codec's records

    /**
     * Any method of the codec's table with random field values: client and server methods alike, the channel-level
     * methods a client may send four times as often as the rest (those reach the broker).
     */
    static Generator<AmqpMethod> anyMethod() {
        Generators.Weighted<AmqpMethod> all = null;
        for (MethodInfo info : MethodCodec.methodTable()) {
            int weight = clientMayForward(info) ? 4 : 1;
            all = all == null ? Generators.weighted(weight, method(info)) : all.or(weight, method(info));
        }
        return all;
    }

    private static boolean clientMayForward(MethodInfo info) {
        return !info.className().equals("connection")
                && (info.synchronous() || List.of("publish", "ack", "reject", "nack", "recover-async", "close-ok",
                        "flow-ok").contains(info.name()));
    }

    private static Generator<AmqpMethod> method(MethodInfo info) {
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
        List<Generator<Object>> fields = new ArrayList<>();
        for (MethodInfo.Field f : info.fields()) {
            fields.add(field(f.type()));
        }
        return Generators.sequence(fields).map(values -> newInstance(constructor, values.toArray()));
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

    private static Generator<Object> field(String type) {
        Generator<?> g = switch (type) {
            case "octet" -> Generators.ints(0, 255);
            case "short" -> shortValue();
            case "long" -> Generators.longs(0, 0xFFFF_FFFFL);
            case "longlong", "timestamp" -> Generators.longs();
            case "bit" -> Generators.booleans();
            case "shortstr" -> name();
            case "longstr" -> Generators.byteArrays(0, 40).map(LongString::of);
            case "table" -> table();
            default -> throw new AssertionError(type);
        };
        return g::next;
    }

    private static Generator<Integer> shortValue() {
        return Generators.ints(0, 65535);
    }

    /**
     * Entity names, exchange types, consumer tags: a small set of interesting names (built-in entities, reserved
     * prefixes) and short random ones, so the broker does not fill up with thousands of queues.
     */
    static Generator<String> name() {
        return Generators.<String>weighted(6, Generators.elements("", "fuzz", "fuzz.q", "amq.direct", "amq.topic",
                        "amq.default", "amq.rabbitmq.reply-to", "amq.gen-x", "direct", "fanout", "topic", "headers",
                        "x-no-such"))
                .or(3, Generators.strings(Generators.chars('a', 'c'), 0, 3).map(s -> "fuzz-" + s))
                .or(1, Generators.unicodeStrings(0, 12))
                .or(1, Generators.strings(Generators.chars('\u0000', '\u007F'), 255, 255));
    }

    static Generator<FieldTable> table() {
        Generator<String> keys = Generators.elements("x-message-ttl", "x-expires", "x-max-length", "x-queue-type",
                "x-dead-letter-exchange", "x-max-priority", "x-match", "alternate-exchange", "x-overflow",
                "x-single-active-consumer", "x-priority", "x-cancel-on-ha-failover", "capabilities", "k");
        Generator<FieldValue> values = Generators.oneOf(List.of(
                Generators.booleans().map(FieldValue.Bool::of),
                Generators.ints().map(FieldValue.SignedInt::new),
                Generators.longs().map(FieldValue.SignedLong::new),
                Generators.ints(0, 255).map(FieldValue.UnsignedByte::new),
                Generators.elements("classic", "quorum", "stream", "reject-publish", "all", "any", "").map(
                        s -> LongString.of(s.getBytes(StandardCharsets.UTF_8))),
                // infinities and NaN included: RabbitMQ's parser crashes on them, so Warren must not forward them
                Generators.doubles().map(FieldValue.Float64::new),
                Generators.constant(new FieldValue.Void()),
                Generators.constant(new FieldValue.Table(FieldTable.EMPTY))));
        return Generators.<FieldTable>weighted(3, Generators.constant(FieldTable.EMPTY))
                .or(1, Generators.maps(keys, values, 0, 3).map(FieldTable::new));
    }
}
