package io.warren.codec;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.impl.AMQImpl;
import com.rabbitmq.client.impl.LongStringHelper;
import com.rabbitmq.client.impl.Method;
import io.warren.testsupport.gen.Generator;
import io.warren.testsupport.gen.Generators;
import io.warren.testsupport.gen.Property;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Interop with the official RabbitMQ Java client (com.rabbitmq:amqp-client): for every method, the client's
 * encoding of a value and Warren's are byte-identical, each side decodes the other's frame to an equal value.
 */
class ClientInteropTest {
    private static final int CHANNEL = 5;

    // ---- generators restricted to what the client can write (it has no B, u, i writers)

    static Generator<FieldTable> clientTable(int depth) {
        return Generators.maps(Gen.shortstr(), clientValue(depth), 0, 4).map(FieldTable::new);
    }

    static Generator<FieldValue> clientValue(int depth) {
        List<Generator<? extends FieldValue>> c = new ArrayList<>(List.of(
                Generators.booleans().map(FieldValue.Bool::of),
                Generators.bytes().map(FieldValue.SignedByte::new),
                Generators.shorts().map(FieldValue.SignedShort::new),
                Generators.ints().map(FieldValue.SignedInt::new),
                Generators.longs().map(FieldValue.SignedLong::new),
                Generators.floats().filter(Float::isFinite).map(FieldValue.Float32::new),
                Generators.doubles().filter(Double::isFinite).map(FieldValue.Float64::new),
                Gen.decimal(),
                Gen.longstr(),
                Generators.byteArrays(0, 10).map(FieldValue.ByteArray::new),
                Generators.longs(-(1L << 40), 1L << 40).map(FieldValue.Timestamp::new),
                Generators.constant(FieldValue.Void.INSTANCE)));
        if (depth > 0) {
            c.add(clientTable(depth - 1).map(FieldValue.Table::new));
            c.add(clientValue(depth - 1).list(0, 3).map(FieldValue.Array::new));
        }
        return Generators.oneOf(c);
    }

    static Generator<AmqpMethod> methods() {
        List<Generator<AmqpMethod>> all = new ArrayList<>();
        Generator<FieldTable> tables = clientTable(2);
        for (MethodInfo info : MethodCodec.methodTable()) {
            Generator<AmqpMethod> a = Gen.method(info);
            if (info.fields().stream().anyMatch(f -> f.type().equals("table"))) {
                // swap every table for one the client can encode
                Generator<AmqpMethod> any = a;
                a = r -> withTables(any.next(r), tables.next(r));
            }
            all.add(a);
        }
        return Generators.oneOf(all);
    }

    private static AmqpMethod withTables(AmqpMethod m, FieldTable t) {
        RecordComponent[] comps = m.getClass().getRecordComponents();
        Object[] args = new Object[comps.length];
        Class<?>[] types = new Class<?>[comps.length];
        try {
            for (int i = 0; i < comps.length; i++) {
                types[i] = comps[i].getType();
                args[i] = types[i] == FieldTable.class ? t : comps[i].getAccessor().invoke(m);
            }
            return (AmqpMethod) m.getClass().getDeclaredConstructor(types).newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    // ---- conversions to the client's value model

    static Object toClient(FieldValue v) {
        if (v instanceof FieldValue.Bool x) {
            return x.value();
        } else if (v instanceof FieldValue.SignedByte x) {
            return x.value();
        } else if (v instanceof FieldValue.SignedShort x) {
            return x.value();
        } else if (v instanceof FieldValue.SignedInt x) {
            return x.value();
        } else if (v instanceof FieldValue.SignedLong x) {
            return x.value();
        } else if (v instanceof FieldValue.Float32 x) {
            return x.value();
        } else if (v instanceof FieldValue.Float64 x) {
            return x.value();
        } else if (v instanceof FieldValue.Decimal x) {
            return x.toBigDecimal();
        } else if (v instanceof LongString x) {
            return LongStringHelper.asLongString(x.bytes());
        } else if (v instanceof FieldValue.ByteArray x) {
            return x.bytes();
        } else if (v instanceof FieldValue.Timestamp x) {
            return new Date(x.seconds() * 1000);
        } else if (v instanceof FieldValue.Table x) {
            return toClient(x.table());
        } else if (v instanceof FieldValue.Array x) {
            List<Object> l = new ArrayList<>();
            x.values().forEach(e -> l.add(toClient(e)));
            return l;
        } else if (v instanceof FieldValue.Void) {
            return null;
        }
        throw new IllegalArgumentException("the client cannot write " + v);
    }

    static Map<String, Object> toClient(FieldTable t) {
        Map<String, Object> m = new LinkedHashMap<>();
        t.entries().forEach((k, v) -> m.put(k, toClient(v)));
        return m;
    }

    private static Object argToClient(Object v, Class<?> clientType) {
        if (v instanceof LongString s) {
            return LongStringHelper.asLongString(s.bytes());
        } else if (v instanceof FieldTable t) {
            return toClient(t);
        } else if (v instanceof Long l && clientType == int.class) {
            return (int) (long) l; // the client keeps AMQP long (uint32) in a Java int
        }
        return v;
    }

    /** The client's AMQImpl method with the same argument values as {@code m}. */
    static Method clientMethod(AmqpMethod m) throws ReflectiveOperationException {
        String cls = m.getClass().getEnclosingClass().getSimpleName().replace("Method", "");
        Class<?> c = Class.forName("com.rabbitmq.client.impl.AMQImpl$" + cls + "$" + m.getClass().getSimpleName());
        RecordComponent[] comps = m.getClass().getRecordComponents();
        for (Constructor<?> ctor : c.getConstructors()) {
            Class<?>[] p = ctor.getParameterTypes();
            if (p.length == comps.length && (p.length != 1 || !p[0].getSimpleName().equals("MethodArgumentReader"))) {
                Object[] args = new Object[p.length];
                for (int i = 0; i < p.length; i++) {
                    args[i] = argToClient(comps[i].getAccessor().invoke(m), p[i]);
                }
                return (Method) ctor.newInstance(args);
            }
        }
        throw new AssertionError("no client constructor for " + c);
    }

    static byte[] clientBytes(com.rabbitmq.client.impl.Frame f) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        f.writeTo(out);
        out.flush();
        return bytes.toByteArray();
    }

    static com.rabbitmq.client.impl.Frame clientRead(ByteBuffer frame) throws IOException {
        byte[] b = new byte[frame.remaining()];
        frame.duplicate().get(b);
        return com.rabbitmq.client.impl.Frame.readFrom(new DataInputStream(new ByteArrayInputStream(b)),
                () -> Integer.MAX_VALUE);
    }

    private static Frame warrenRead(byte[] bytes) throws ProtocolException {
        FrameDecoder d = new FrameDecoder(1 << 20);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        Frame f = d.next(in);
        assertThat(in.hasRemaining()).isFalse();
        return f;
    }

    @Test
    void everyMethodInteroperates() {
        Property.forAll(methods()).cases(200).check(ClientInteropTest::checkBothWays);
    }

    private static void checkBothWays(AmqpMethod m) throws Exception {
        Method client = clientMethod(m);
        byte[] clientBytes = clientBytes(client.toFrame(CHANNEL));
        ByteBuffer ours = FrameEncoder.method(CHANNEL, m);

        // client -> Warren
        Frame f = warrenRead(clientBytes);
        assertThat(f.channel()).isEqualTo(CHANNEL);
        assertThat(MethodCodec.decode(f.payload())).isEqualTo(m);
        // Warren -> client
        com.rabbitmq.client.impl.Frame cf = clientRead(ours);
        Method decodedByClient = AMQImpl.readMethodFrom(cf.getInputStream());
        assertThat(decodedByClient.protocolClassId()).isEqualTo(m.classId());
        assertThat(decodedByClient.protocolMethodId()).isEqualTo(m.methodId());
        assertThat(decodedByClient.protocolMethodName()).isEqualTo(m.name());
        // what the client understood, written back by the client, is what Warren sent
        byte[] reencoded = clientBytes(decodedByClient.toFrame(CHANNEL));
        assertThat(MethodCodec.decode(warrenRead(reencoded).payload())).isEqualTo(m);
        // and the very same bytes either way, except that the client reorders table entries (it copies maps)
        if (!hasTable(m)) {
            assertThat(toArray(ours)).isEqualTo(clientBytes).isEqualTo(reencoded);
        } else {
            assertThat(ours.remaining()).isEqualTo(clientBytes.length);
        }
    }

    @Test
    void allSixtySixMethodsAreCovered() throws Exception {
        for (MethodInfo info : MethodCodec.methodTable()) {
            AmqpMethod m = Gen.method(info).next(new SplittableRandom(info.classId() << 16 | info.methodId()));
            if (hasTable(m)) {
                m = withTables(m, FieldTable.of("k", LongString.of("v"))); // one entry: order cannot differ
            }
            assertThat(toArray(FrameEncoder.method(CHANNEL, m))).as(info.fullName())
                    .isEqualTo(clientBytes(clientMethod(m).toFrame(CHANNEL)));
            checkBothWays(m);
        }
    }

    private static boolean hasTable(AmqpMethod m) {
        return Arrays.stream(m.getClass().getRecordComponents()).anyMatch(c -> c.getType() == FieldTable.class);
    }

    private static byte[] toArray(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    @Test
    void contentHeaderWithAllFourteenProperties() throws Exception {
        FieldTable headers = FieldTable.builder().put("x-retries", 3).put("s", "str").put("deep", FieldTable.of("b",
                FieldValue.Bool.TRUE)).build();
        BasicProperties p = new BasicProperties("application/json", "gzip", headers, 2, 7, "corr", "reply.q", "60000",
                "msg-1", 1_700_000_000L, "type.x", "guest", "app", "cluster");
        ContentHeader h = ContentHeader.basic(123_456, p);
        AMQP.BasicProperties cp = new AMQP.BasicProperties.Builder().contentType("application/json")
                .contentEncoding("gzip").headers(toClient(headers)).deliveryMode(2).priority(7).correlationId("corr")
                .replyTo("reply.q").expiration("60000").messageId("msg-1").timestamp(new Date(1_700_000_000_000L))
                .type("type.x").userId("guest").appId("app").clusterId("cluster").build();

        byte[] clientBytes = clientBytes(cp.toFrame(CHANNEL, 123_456));
        ByteBuffer ours = ByteBuffer.allocate(h.encodedSize() + FrameType.OVERHEAD);
        FrameEncoder.writeHeader(ours, CHANNEL, h);
        ours.flip();
        assertThat(ours.remaining()).isEqualTo(clientBytes.length); // same size; the client reorders header keys

        assertThat(ContentHeader.decode(warrenRead(clientBytes).payload())).isEqualTo(h);
        AMQP.BasicProperties back = (AMQP.BasicProperties) AMQImpl.readContentHeaderFrom(
                clientRead(ours).getInputStream());
        assertThat(back.getBodySize()).isEqualTo(123_456);
        assertThat(back.getContentType()).isEqualTo("application/json");
        assertThat(back.getContentEncoding()).isEqualTo("gzip");
        assertThat(back.getHeaders()).containsEntry("x-retries", 3).containsKey("deep");
        assertThat(back.getHeaders().get("s").toString()).isEqualTo("str");
        assertThat(back.getDeliveryMode()).isEqualTo(2);
        assertThat(back.getPriority()).isEqualTo(7);
        assertThat(back.getCorrelationId()).isEqualTo("corr");
        assertThat(back.getReplyTo()).isEqualTo("reply.q");
        assertThat(back.getExpiration()).isEqualTo("60000");
        assertThat(back.getMessageId()).isEqualTo("msg-1");
        assertThat(back.getTimestamp()).isEqualTo(new Date(1_700_000_000_000L));
        assertThat(back.getType()).isEqualTo("type.x");
        assertThat(back.getUserId()).isEqualTo("guest");
        assertThat(back.getAppId()).isEqualTo("app");
        assertThat(back.getClusterId()).isEqualTo("cluster");
    }

    @Test
    void emptyPropertiesMatchTheClient() throws Exception {
        byte[] clientBytes = clientBytes(new AMQP.BasicProperties().toFrame(1, 0));
        ByteBuffer ours = ByteBuffer.allocate(64);
        FrameEncoder.writeHeader(ours, 1, ContentHeader.basic(0, BasicProperties.EMPTY));
        assertThat(toArray(ours.flip())).isEqualTo(clientBytes);
    }

    /** Every value type: what the client writes, Warren reads; what Warren writes, the client reads back equal. */
    @Test
    void everyTableValueTypeTheClientSupports() throws Exception {
        FieldTable t = FieldTable.builder()
                .put("t", FieldValue.Bool.TRUE).put("b", new FieldValue.SignedByte((byte) -5))
                .put("s", new FieldValue.SignedShort((short) -300)).put("I", new FieldValue.SignedInt(-70000))
                .put("l", new FieldValue.SignedLong(-5_000_000_000L)).put("f", new FieldValue.Float32(1.5f))
                .put("d", new FieldValue.Float64(-2.25)).put("D", new FieldValue.Decimal(3, -12345))
                .put("S", LongString.of("héllo")).put("x", new FieldValue.ByteArray(new byte[] {0, -1, 2}))
                .put("T", new FieldValue.Timestamp(1_700_000_000L)).put("F", FieldTable.of("n", FieldValue.Void.INSTANCE))
                .put("A", FieldValue.Array.of(new FieldValue.SignedInt(1), LongString.of("two"),
                        FieldValue.Array.of(FieldValue.Bool.FALSE)))
                .put("V", FieldValue.Void.INSTANCE).build();
        AmqpMethod m = new QueueMethod.Declare(0, "q", false, true, false, false, false, t);
        byte[] clientBytes = clientBytes(clientMethod(m).toFrame(1));
        assertThat(FrameEncoder.methodFrameSize(m)).isEqualTo(clientBytes.length);
        assertThat(MethodCodec.decode(warrenRead(clientBytes).payload())).isEqualTo(m);

        AMQImpl.Queue.Declare back = (AMQImpl.Queue.Declare) AMQImpl.readMethodFrom(
                clientRead(FrameEncoder.method(1, m)).getInputStream());
        Map<String, Object> args = back.getArguments();
        assertThat(args.keySet()).containsExactlyInAnyOrder("t", "b", "s", "I", "l", "f", "d", "D", "S", "x", "T", "F", "A", "V");
        assertThat(args.get("t")).isEqualTo(true);
        assertThat(args.get("b")).isEqualTo((byte) -5);
        assertThat(args.get("s")).isEqualTo((short) -300);
        assertThat(args.get("I")).isEqualTo(-70000);
        assertThat(args.get("l")).isEqualTo(-5_000_000_000L);
        assertThat(args.get("f")).isEqualTo(1.5f);
        assertThat(args.get("d")).isEqualTo(-2.25);
        assertThat(args.get("D")).isEqualTo(new BigDecimal("-12.345"));
        assertThat(args.get("S").toString()).isEqualTo("héllo");
        assertThat((byte[]) args.get("x")).containsExactly(0, -1, 2);
        assertThat(args.get("T")).isEqualTo(new Date(1_700_000_000_000L));
        @SuppressWarnings("unchecked")
        Map<String, Object> nested = (Map<String, Object>) args.get("F");
        assertThat(nested).hasSize(1).containsEntry("n", null);
        assertThat(args.get("A").toString()).isEqualTo("[1, two, [false]]");
        assertThat(args).containsEntry("V", null);
    }

    /** The unsigned tags exist in RabbitMQ's parser; this records which of them the client can read. */
    @Test
    void unsignedTagsTheClientReads() throws Exception {
        FieldTable t = FieldTable.builder().put("B", new FieldValue.UnsignedByte(200))
                .put("u", new FieldValue.UnsignedShort(60000)).put("i", new FieldValue.UnsignedInt(4_000_000_000L))
                .build();
        AmqpMethod m = new QueueMethod.Declare(0, "q", false, false, false, false, false, t);
        Map<String, Object> args = ((AMQImpl.Queue.Declare) AMQImpl.readMethodFrom(
                clientRead(FrameEncoder.method(1, m)).getInputStream())).getArguments();
        assertThat(Arrays.asList(args.get("B"), args.get("u"), args.get("i")))
                .containsExactly(200, 60000, 4_000_000_000L);
    }
}
