package io.warren.core.internal.screen;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.warren.codec.AmqpMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.MethodCodec;
import io.warren.codec.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Coverage-guided fuzzing of {@link HardErrorScreen} with Jazzer (docs/fuzzing.md): the input is a method frame's
 * payload; what decodes is screened as a client's method on an open channel. The screen never throws; what it returns
 * is RabbitMQ's shape of a hard error (a connection-level code, its name first in the text, at most 255 bytes, the
 * method's ids or none); server-only and connection-class methods are always refused, and the methods whose outcome
 * depends on the channel's state (channel.open, close, close-ok) are left to the caller.
 */
class HardErrorScreenFuzzer {

    @FuzzTest
    void screen(byte[] payload) {
        AmqpMethod m;
        try {
            m = MethodCodec.decode(ByteBuffer.wrap(payload));
        } catch (ProtocolException e) {
            return; // the codec's fuzz targets cover what does not decode
        }
        Optional<HardError> error = HardErrorScreen.check(m);
        HardErrorScreen.needsIsolation(m);
        if (m instanceof ChannelMethod.Open || m instanceof ChannelMethod.Close || m instanceof ChannelMethod.CloseOk) {
            assertThat(error).as("left to the caller: %s", m).isEmpty();
        }
        if (HardErrorScreen.isServerOnly(m) || m instanceof ConnectionMethod) {
            assertThat(error).as("a method a client may not send on a channel: %s", m).isPresent();
        }
        error.ifPresent(e -> {
            assertThat(e.code().isHardError()).isTrue();
            assertThat(e.text()).startsWith(e.code().name());
            assertThat(e.text().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(HardError.MAX_TEXT_BYTES);
            boolean namesTheMethod = e.classId() == m.classId() && e.methodId() == m.methodId();
            boolean namesNone = e.classId() == 0 && e.methodId() == 0;
            assertThat(namesTheMethod || namesNone).as("class/method of %s for %s", e, m).isTrue();
        });
    }
}
