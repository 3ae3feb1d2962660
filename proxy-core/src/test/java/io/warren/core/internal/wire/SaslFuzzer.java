package io.warren.core.internal.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.warren.codec.LongString;
import io.warren.codec.ProtocolException;
import io.warren.codec.ReplyCode;
import java.util.Arrays;

/**
 * Coverage-guided fuzzing of {@link Sasl#parse} with Jazzer (docs/fuzzing.md): the first input byte picks the
 * mechanism (PLAIN, AMQPLAIN or another name), the rest is the client's response. Parsing either refuses it with a
 * connection-level code (403 for a response that is not the mechanism's, 503 for an unknown mechanism, the codec's
 * code for an AMQPLAIN table that does not decode) or gives credentials; credentials without NUL written back as a PLAIN
 * response parse to the same user and password.
 */
class SaslFuzzer {
    private static final String[] MECHANISMS = {"PLAIN", "AMQPLAIN", "EXTERNAL", "plain", ""};

    @FuzzTest
    void parse(byte[] input) throws ProtocolException {
        if (input.length < 1) {
            return;
        }
        String mechanism = MECHANISMS[(input[0] & 0xFF) % MECHANISMS.length];
        LongString response = LongString.of(Arrays.copyOfRange(input, 1, input.length));
        Sasl.Credentials credentials;
        try {
            credentials = Sasl.parse(mechanism, response);
        } catch (ProtocolException e) {
            switch (mechanism) {
                case "PLAIN" -> assertThat(e.replyCode()).as(e.toString()).isEqualTo(ReplyCode.ACCESS_REFUSED);
                case "AMQPLAIN" -> assertThat(e.replyCode() == ReplyCode.ACCESS_REFUSED || e.replyCode().isHardError())
                        .as(e.toString()).isTrue();
                default -> assertThat(e.replyCode()).as(e.toString()).isEqualTo(ReplyCode.COMMAND_INVALID);
            }
            return;
        }
        assertThat(mechanism).isIn("PLAIN", "AMQPLAIN");
        assertThat(credentials.toString()).endsWith("password=***]");
        boolean plainCanCarryThem = credentials.username().indexOf('\0') < 0
                && !new String(credentials.password(), java.nio.charset.StandardCharsets.ISO_8859_1).contains("\0");
        if (plainCanCarryThem) { // PLAIN separates its fields with NUL
            Sasl.Credentials again = Sasl.parse("PLAIN", Sasl.plainResponse(credentials.username(),
                    credentials.password()));
            assertThat(again.username()).isEqualTo(credentials.username());
            assertThat(again.password()).isEqualTo(credentials.password());
        }
    }
}
