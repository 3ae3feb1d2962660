package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.warren.transport.nio.ProxyHeaderParser.Absent;
import io.warren.transport.nio.ProxyHeaderParser.Header;
import io.warren.transport.nio.ProxyHeaderParser.Invalid;
import io.warren.transport.nio.ProxyHeaderParser.NeedMore;
import io.warren.transport.nio.ProxyHeaderParser.Result;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Coverage-guided fuzzing of {@link ProxyHeaderParser#parse} with Jazzer (docs/fuzzing.md): the input is the first
 * bytes of a connection. Parsing never throws; a header is at most {@link ProxyHeaderParser#MAX_HEADER_LENGTH} bytes
 * and no longer than the input, and parses alike from exactly its own bytes; "need more" is never the answer for a
 * full reader's buffer; every answer but "need more" stays the same when more bytes follow (a reader may decide on the
 * bytes it has); a refusal says which version was bad.
 */
class ProxyHeaderParserFuzzer {
    @FuzzTest
    void parse(byte[] input) {
        Result result = ProxyHeaderParser.parse(ByteBuffer.wrap(input));
        if (result instanceof Header h) {
            assertThat(h.length()).isBetween(15, Math.min(input.length, ProxyHeaderParser.MAX_HEADER_LENGTH));
            assertThat(ProxyHeaderParser.parse(ByteBuffer.wrap(input, 0, h.length()).slice())).isEqualTo(h);
            if (h.source() != null) {
                assertThat(h.source().isUnresolved()).isFalse();
            }
        } else if (result instanceof Invalid i) {
            assertThat(i.reason()).matches("bad PROXY v[12] header: .+");
        } else if (result instanceof NeedMore) {
            assertThat(input.length).isLessThan(ProxyHeaderParser.MAX_HEADER_LENGTH);
        } else {
            assertThat(result).isInstanceOf(Absent.class);
            assertThat(input.length).isPositive();
        }
        if (!(result instanceof NeedMore)) {
            byte[] longer = Arrays.copyOf(input, input.length + 64);
            Arrays.fill(longer, input.length, longer.length, (byte) 'A');
            assertThat(ProxyHeaderParser.parse(ByteBuffer.wrap(longer))).isEqualTo(result);
        }
    }
}
