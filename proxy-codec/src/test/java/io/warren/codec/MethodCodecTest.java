package io.warren.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class MethodCodecTest {

    private static ByteBuffer hex(String h) {
        return ByteBuffer.wrap(HexFormat.of().parseHex(h.replace(" ", "")));
    }

    private static void assertCode(ThrowingCallable call, ReplyCode code) {
        assertThatThrownBy(call).isInstanceOf(ProtocolException.class)
                .satisfies(e -> assertThat(((ProtocolException) e).replyCode()).isEqualTo(code));
    }

    @Test
    void publishHasTheExactWireLayout() throws ProtocolException {
        ByteBuffer b = ByteBuffer.allocate(64);
        MethodCodec.encode(new BasicMethod.Publish(0, "ex", "rk", true, false), b);
        b.flip();
        // class 60, method 40, ticket 0, "ex", "rk", bits: mandatory=1
        assertThat(b).isEqualTo(hex("003c 0028 0000 02 6578 02 726b 01"));
        assertThat(MethodCodec.decode(b)).isEqualTo(new BasicMethod.Publish(0, "ex", "rk", true, false));
    }

    @Test
    void consecutiveBitsShareOctetsAndANonBitFieldEndsTheRun() throws ProtocolException {
        ByteBuffer b = ByteBuffer.allocate(64);
        // exchange.declare: passive, durable, auto-delete, internal, nowait share one octet, then the table
        MethodCodec.encode(new ExchangeMethod.Declare(0, "x", "topic", true, false, true, false, true,
                FieldTable.EMPTY), b);
        b.flip();
        assertThat(b).isEqualTo(hex("0028 000a 0000 01 78 05 746f706963 15 00000000"));
        // basic.deliver: a bit between a longlong and shortstrs takes a whole octet
        ByteBuffer d = ByteBuffer.allocate(64);
        MethodCodec.encode(new BasicMethod.Deliver("c", 2, true, "", "k"), d);
        assertThat(d.flip()).isEqualTo(hex("003c 003c 01 63 0000000000000002 01 00 01 6b"));
    }

    @Test
    void unknownClassOrMethodIsNotImplemented() {
        assertCode(() -> MethodCodec.decode(hex("0063 000a")), ReplyCode.NOT_IMPLEMENTED);
        assertCode(() -> MethodCodec.decode(hex("003c 0029")), ReplyCode.NOT_IMPLEMENTED);
        assertThatThrownBy(() -> MethodCodec.decode(hex("003c 0029")))
                .satisfies(e -> assertThat(((ProtocolException) e).classId()).isEqualTo(60))
                .satisfies(e -> assertThat(((ProtocolException) e).methodId()).isEqualTo(41));
    }

    @Test
    void truncationAndTrailingBytesAreFrameErrors() {
        assertCode(() -> MethodCodec.decode(hex("003c")), ReplyCode.FRAME_ERROR);
        assertCode(() -> MethodCodec.decode(hex("003c 0028 0000 02 65")), ReplyCode.FRAME_ERROR);
        assertCode(() -> MethodCodec.decode(hex("003c 0028 0000 00 00 00 ff")), ReplyCode.FRAME_ERROR);
        assertCode(() -> MethodCodec.decode(hex("005a 000b 00")), ReplyCode.FRAME_ERROR);
        // table length beyond the payload: the method layout does not match
        assertCode(() -> MethodCodec.decode(hex("0032 000a 0000 01 71 00 00000010 01 61 74 01")), ReplyCode.FRAME_ERROR);
        // malformed UTF-8 in a shortstr
        assertCode(() -> MethodCodec.decode(hex("003c 0015 02 c328")), ReplyCode.FRAME_ERROR);
    }

    @Test
    void malformedTableContentsAreSyntaxErrors() {
        // queue.declare with table {a: <tag 'Z'>}
        assertCode(() -> MethodCodec.decode(hex("0032 000a 0000 01 71 00 00000003 01 61 5a")), ReplyCode.SYNTAX_ERROR);
        // nested table whose length exceeds the outer table
        assertCode(() -> MethodCodec.decode(hex("0032 000a 0000 01 71 00 00000007 01 61 46 00000009")),
                ReplyCode.SYNTAX_ERROR);
        // value truncated inside the table
        assertCode(() -> MethodCodec.decode(hex("0032 000a 0000 01 71 00 00000004 01 61 49 00")), ReplyCode.SYNTAX_ERROR);
    }

    /**
     * RabbitMQ 3.10's parse_table has no clause for a float that is not finite (Erlang has no such value) and its
     * reader crashes, dropping every client on the connection: the codec refuses them like other bad table contents.
     */
    @Test
    void floatsThatAreNotFiniteAreSyntaxErrors() throws ProtocolException {
        // queue.declare with table {a: d +Infinity}, {a: d NaN}, {a: f -Infinity}, {a: [f NaN]}
        assertCode(() -> MethodCodec.decode(hex("0032 000a 0000 01 71 00 0000000b 01 61 64 7ff0000000000000")),
                ReplyCode.SYNTAX_ERROR);
        assertCode(() -> MethodCodec.decode(hex("0032 000a 0000 01 71 00 0000000b 01 61 64 7ff8000000000000")),
                ReplyCode.SYNTAX_ERROR);
        assertCode(() -> MethodCodec.decode(hex("0032 000a 0000 01 71 00 00000007 01 61 66 ff800000")),
                ReplyCode.SYNTAX_ERROR);
        assertCode(() -> MethodCodec.decode(hex("0032 000a 0000 01 71 00 0000000c 01 61 41 00000005 66 7fc00000")),
                ReplyCode.SYNTAX_ERROR);
        assertCode(() -> FieldTable.decode(hex("00000007 01 61 66 7f800000")), ReplyCode.SYNTAX_ERROR);
        // the largest finite values and -0 are numbers like any other
        assertThat(MethodCodec.decode(hex("0032 000a 0000 01 71 00 0000000b 01 61 64 7fefffffffffffff")))
                .isEqualTo(new QueueMethod.Declare(0, "q", false, false, false, false, false,
                        FieldTable.of("a", new FieldValue.Float64(Double.MAX_VALUE))));
        assertThat(FieldTable.decode(hex("00000007 01 61 66 80000000")))
                .isEqualTo(FieldTable.of("a", new FieldValue.Float32(-0f)));
    }

    @Test
    void deepNestingIsRefusedWithoutStackOverflow() {
        int depth = 100_000;
        ByteBuffer b = ByteBuffer.allocate(15 + 5 * depth);
        // queue.declare(ticket 0, queue "q", bits 0, arguments {a: [[[[...]]]]})
        b.putShort((short) 50).putShort((short) 10).putShort((short) 0).put((byte) 1).put((byte) 'q').put((byte) 0);
        b.putInt(2 + 5 * depth).put((byte) 1).put((byte) 'a');
        for (int i = 0; i < depth; i++) {
            b.put((byte) 'A').putInt(5 * (depth - 1 - i));
        }
        assertThat(b.hasRemaining()).isFalse();
        ByteBuffer payload = b.flip();
        assertCode(() -> MethodCodec.decode(payload), ReplyCode.SYNTAX_ERROR);
    }

    @Test
    void lUpperCaseIsReadAsSignedLongLikeRabbitMq() throws ProtocolException {
        AmqpMethod m = MethodCodec.decode(hex("0032 000a 0000 01 71 00 0000000b 01 61 4c fffffffffffffffe"));
        assertThat(((QueueMethod.Declare) m).arguments().get("a")).contains(new FieldValue.SignedLong(-2));
    }

    @Test
    void constructorsValidateRangesNamingTheField() {
        assertThatThrownBy(() -> new BasicMethod.Qos(1L << 32, 0, false)).hasMessageContaining("prefetchSize");
        assertThatThrownBy(() -> new BasicMethod.Qos(0, 65536, false)).hasMessageContaining("prefetchCount");
        assertThatThrownBy(() -> new ConnectionMethod.Start(256, 9, FieldTable.EMPTY, LongString.EMPTY, LongString.EMPTY))
                .hasMessageContaining("versionMajor");
        assertThatThrownBy(() -> new BasicMethod.ConsumeOk("x".repeat(256))).hasMessageContaining("consumerTag");
        assertThat(new BasicMethod.ConsumeOk("x".repeat(255)).consumerTag()).hasSize(255);
        assertThatThrownBy(() -> new BasicMethod.ConsumeOk("\u00e9".repeat(128))).hasMessageContaining("consumerTag");
        assertThatThrownBy(() -> new BasicMethod.ConsumeOk("\uD800")).hasMessageContaining("surrogate");
        assertThatThrownBy(() -> new BasicMethod.ConsumeOk(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> FieldTable.of("k".repeat(256), FieldValue.Void.INSTANCE)).hasMessageContaining("key");
    }

    @Test
    void credentialsAreRedactedFromToString() {
        AmqpMethod m = new ConnectionMethod.StartOk(FieldTable.EMPTY, "PLAIN", LongString.of("\0guest\0s3cret"), "en_US");
        assertThat(m.toString()).doesNotContain("s3cret").contains("PLAIN").contains("13 bytes redacted");
        assertThat(new ConnectionMethod.UpdateSecret(LongString.of("tok3n"), "r").toString()).doesNotContain("tok3n");
    }

    @Test
    void replyCodes() {
        assertThat(ReplyCode.of(501)).contains(ReplyCode.FRAME_ERROR);
        assertThat(ReplyCode.of(999)).isEmpty();
        assertThat(ReplyCode.FRAME_ERROR.text()).isEqualTo("FRAME_ERROR");
        assertThat(ReplyCode.NOT_FOUND.isHardError()).isFalse();
        assertThat(ReplyCode.CONNECTION_FORCED.isHardError()).isTrue();
        assertThat(ReplyCode.PRECONDITION_FAILED.isHardError()).isFalse();
        assertThat(ReplyCode.NOT_IMPLEMENTED.isHardError()).isTrue();
    }

    @Test
    void fieldTableHelpersAndOrder() {
        FieldTable t = FieldTable.builder().put("z", true).put("a", "text").put("m", FieldTable.of("x", FieldValue.Bool.TRUE))
                .put("i", 5).build();
        assertThat(t.entries().keySet()).containsExactly("z", "a", "m", "i");
        assertThat(t.getBoolean("z", false)).isTrue();
        assertThat(t.getBoolean("a", false)).isFalse();
        assertThat(t.getBoolean("missing", true)).isTrue();
        assertThat(t.getString("a")).contains("text");
        assertThat(t.getString("z")).isEmpty();
        assertThat(t.getTable("m").orElseThrow().getBoolean("x", false)).isTrue();
        assertThatThrownBy(() -> t.entries().put("q", FieldValue.Void.INSTANCE)).isInstanceOf(UnsupportedOperationException.class);
        assertThat(new FieldValue.Decimal(2, 12345).toBigDecimal()).isEqualByComparingTo("123.45");
        assertThat(FieldValue.Decimal.of(new java.math.BigDecimal("-1.5"))).isEqualTo(new FieldValue.Decimal(1, -15));
        byte[] raw = {1, 2};
        LongString s = LongString.of(raw);
        raw[0] = 9;
        assertThat(s.bytes()).containsExactly(1, 2);
        assertThat(s).isEqualTo(LongString.of(new byte[] {1, 2})).hasSameHashCodeAs(LongString.of(new byte[] {1, 2}));
    }

    @Test
    void contentHeaderErrorsAndFlagContinuation() throws ProtocolException {
        assertCode(() -> ContentHeader.decode(hex("003c 0000 0000000000000001")), ReplyCode.FRAME_ERROR);
        assertCode(() -> ContentHeader.decode(hex("0032 0000 0000000000000001 0000")), ReplyCode.UNEXPECTED_FRAME);
        assertCode(() -> ContentHeader.decode(hex("003c 0000 0000000000000001 8000 05 6162")), ReplyCode.FRAME_ERROR);
        // continuation bit and bit 1 are ignored, as RabbitMQ reads exactly one flag word for basic
        ContentHeader h = ContentHeader.decode(hex("003c 0000 0000000000000005 1003 02"));
        assertThat(h.properties()).isEqualTo(BasicProperties.builder().deliveryMode(2).build());
        assertThat(h.bodySize()).isEqualTo(5);
    }
}
