package io.warren.core.internal.screen;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.ReplyCode;
import io.warren.codec.TxMethod;
import org.junit.jupiter.api.Test;

/** The per-channel hard errors: a consumer tag used twice, and any method but close while tx.commit is in flight. */
class ChannelRulesTest {
    private final ChannelRules rules = new ChannelRules();

    private static BasicMethod.Consume consume(String tag) {
        return new BasicMethod.Consume(0, "q", tag, false, false, false, false, FieldTable.EMPTY);
    }

    @Test
    void aConsumerTagInUseIsRefusedUntilItsConsumerEnds() {
        assertThat(rules.check(consume("c1"))).isEmpty();
        assertThat(rules.check(consume("c1"))).hasValueSatisfying(e -> {
            assertThat(e.code()).isEqualTo(ReplyCode.NOT_ALLOWED);
            assertThat(e.text()).isEqualTo("NOT_ALLOWED - attempt to reuse consumer tag 'c1'");
            assertThat(e.classId()).isEqualTo(BasicMethod.Consume.CLASS_ID);
            assertThat(e.methodId()).isEqualTo(BasicMethod.Consume.METHOD_ID);
        });
        assertThat(rules.check(new BasicMethod.Cancel("c1", false))).isEmpty();
        assertThat(rules.check(consume("c1"))).as("cancelled by the client").isEmpty();
        rules.consumerEnded("c1"); // the broker cancelled it
        assertThat(rules.check(consume("c1"))).isEmpty();
        assertThat(rules.check(consume(""))).as("server-named").isEmpty();
        assertThat(rules.check(consume(""))).isEmpty();
    }

    @Test
    void whileTxCommitIsInFlightOnlyChannelCloseIsAllowed() {
        assertThat(rules.check(new TxMethod.Commit())).isEmpty();
        assertThat(rules.check(new BasicMethod.Qos(0, 1, false))).hasValueSatisfying(e -> {
            assertThat(e.code().isHardError()).isTrue();
            assertThat(e.classId()).isEqualTo(BasicMethod.Qos.CLASS_ID);
        });
        assertThat(rules.check(new ChannelMethod.Close(200, "bye", 0, 0))).isEmpty();
        rules.commitAnswered();
        assertThat(rules.check(new BasicMethod.Qos(0, 1, false))).isEmpty();
    }
}
