package io.warren.core.internal.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.codec.ConnectionMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.Frame;
import io.warren.codec.FrameDecoder;
import io.warren.codec.FrameType;
import io.warren.codec.LongString;
import io.warren.codec.MethodCodec;
import io.warren.core.internal.wire.Frames;
import io.warren.core.internal.wire.PeerProperties;
import io.warren.core.internal.wire.Sasl;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class StartFrameTest {
    private final StartFrame start = new StartFrame();

    private static ConnectionMethod.Start decode(ByteBuffer frame) throws Exception {
        ByteBuffer in = frame.duplicate();
        Frame f = new FrameDecoder(1 << 20).next(in);
        assertThat(f.type()).isEqualTo(FrameType.METHOD);
        assertThat(f.channel()).isZero();
        assertThat(in.hasRemaining()).as("one frame exactly").isFalse();
        return (ConnectionMethod.Start) MethodCodec.decode(f.payload());
    }

    private static FieldTable capabilitiesOf(ByteBuffer frame) throws Exception {
        return decode(frame).serverProperties().getTable("capabilities").orElseThrow();
    }

    /** What a client was sent before the frame was kept: connection.start encoded for it alone. */
    private static ByteBuffer freshlyEncoded(FieldTable brokerCapabilities) {
        return Frames.method(0, new ConnectionMethod.Start(0, 9, PeerProperties.asServer(brokerCapabilities),
                LongString.of(Sasl.MECHANISMS), LongString.of("en_US")));
    }

    @Test
    void theKeptFrameIsTheFreshlyEncodedOne() {
        FieldTable caps = FieldTable.builder().put("basic.nack", true).build();
        assertThat(start.frameFor(null)).isEqualTo(freshlyEncoded(null));
        assertThat(start.frameFor(caps)).isEqualTo(freshlyEncoded(caps));
        assertThat(start.frameFor(caps)).isEqualTo(freshlyEncoded(caps));
    }

    @Test
    void eachClientGetsAReadOnlyViewThatConsumingLeavesTheNextWhole() {
        FieldTable caps = FieldTable.builder().put("publisher_confirms", true).build();
        ByteBuffer first = start.frameFor(caps);
        int size = first.remaining();
        assertThat(first.isReadOnly()).isTrue();
        first.position(first.limit()); // as a write to the client's socket leaves it
        ByteBuffer second = start.frameFor(caps);
        assertThat(second).isNotSameAs(first);
        assertThat(second.position()).isZero();
        assertThat(second.remaining()).isEqualTo(size);
        assertThat(second).isEqualTo(freshlyEncoded(caps));
    }

    @Test
    void aChangeOfTheBrokersCapabilitiesIsReEncoded() throws Exception {
        assertThat(capabilitiesOf(start.frameFor(null)).getBoolean("basic.nack", false)).isTrue(); // none learned yet
        FieldTable confirmsOnly = FieldTable.builder().put("publisher_confirms", true).build();
        FieldTable caps = capabilitiesOf(start.frameFor(confirmsOnly));
        assertThat(caps.getBoolean("publisher_confirms", false)).isTrue();
        assertThat(caps.getBoolean("basic.nack", false)).isFalse();
        FieldTable nackOnly = FieldTable.builder().put("basic.nack", true).build();
        caps = capabilitiesOf(start.frameFor(nackOnly));
        assertThat(caps.getBoolean("publisher_confirms", false)).isFalse();
        assertThat(caps.getBoolean("basic.nack", false)).isTrue();
        caps = capabilitiesOf(start.frameFor(confirmsOnly)); // and back
        assertThat(caps.getBoolean("publisher_confirms", false)).isTrue();
        assertThat(caps.getBoolean("basic.nack", false)).isFalse();
    }
}
