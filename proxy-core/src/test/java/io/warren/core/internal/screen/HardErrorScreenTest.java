package io.warren.core.internal.screen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.warren.codec.AccessMethod;
import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConfirmMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.ExchangeMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.FieldValue;
import io.warren.codec.LongString;
import io.warren.codec.QueueMethod;
import io.warren.codec.ReplyCode;
import io.warren.codec.TxMethod;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Expected values are the connection.close RabbitMQ 3.10.8 sent for each case (docs/hard-errors.md). */
class HardErrorScreenTest {

    private static HardError hard(AmqpMethod m) {
        Optional<HardError> e = HardErrorScreen.check(m);
        assertThat(e).as("hard error for %s", m).isPresent();
        return e.get();
    }

    private static void assertError(AmqpMethod m, ReplyCode code, String text, int classId, int methodId) {
        assertThat(hard(m)).isEqualTo(new HardError(code, text, classId, methodId));
        assertThat(code.isHardError()).isTrue();
    }

    @Test
    void qosWithPrefetchSize() {
        assertError(new BasicMethod.Qos(1, 0, false), ReplyCode.NOT_IMPLEMENTED,
                "NOT_IMPLEMENTED - prefetch_size!=0 (1)", 60, 10);
        assertError(new BasicMethod.Qos(4294967295L, 5, true), ReplyCode.NOT_IMPLEMENTED,
                "NOT_IMPLEMENTED - prefetch_size!=0 (4294967295)", 60, 10);
        assertThat(hard(new BasicMethod.Qos(1, 0, false)).code().code()).isEqualTo(540);
    }

    @Test
    void qosWithoutPrefetchSizePasses() {
        assertThat(HardErrorScreen.check(new BasicMethod.Qos(0, 10, false))).isEmpty();
        assertThat(HardErrorScreen.check(new BasicMethod.Qos(0, 0, true))).isEmpty();
    }

    @Test
    void publishImmediate() {
        assertError(new BasicMethod.Publish(0, "", "q", false, true), ReplyCode.NOT_IMPLEMENTED,
                "NOT_IMPLEMENTED - immediate=true", 60, 40);
        assertError(new BasicMethod.Publish(0, "amq.direct", "k", true, true), ReplyCode.NOT_IMPLEMENTED,
                "NOT_IMPLEMENTED - immediate=true", 60, 40);
        assertThat(HardErrorScreen.check(new BasicMethod.Publish(0, "", "q", true, false))).isEmpty();
    }

    @Test
    void recoverWithoutRequeue() {
        assertError(new BasicMethod.RecoverAsync(false), ReplyCode.NOT_IMPLEMENTED,
                "NOT_IMPLEMENTED - requeue=false", 60, 100);
        assertError(new BasicMethod.Recover(false), ReplyCode.NOT_IMPLEMENTED,
                "NOT_IMPLEMENTED - requeue=false", 60, 110);
        assertThat(HardErrorScreen.check(new BasicMethod.RecoverAsync(true))).isEmpty();
        assertThat(HardErrorScreen.check(new BasicMethod.Recover(true))).isEmpty();
    }

    @Test
    void channelFlowInactive() {
        assertError(new ChannelMethod.Flow(false), ReplyCode.NOT_IMPLEMENTED,
                "NOT_IMPLEMENTED - active=false", 20, 20);
        assertThat(HardErrorScreen.check(new ChannelMethod.Flow(true))).isEmpty();
    }

    static Stream<AmqpMethod> serverOnlyMethods() {
        return Stream.of(
                new ChannelMethod.OpenOk(LongString.of(new byte[0])),
                new ChannelMethod.FlowOk(true),
                new ChannelMethod.FlowOk(false),
                new AccessMethod.RequestOk(1),
                ExchangeMethod.DeclareOk.INSTANCE,
                ExchangeMethod.DeleteOk.INSTANCE,
                ExchangeMethod.BindOk.INSTANCE,
                ExchangeMethod.UnbindOk.INSTANCE,
                new QueueMethod.DeclareOk("q", 0, 0),
                QueueMethod.BindOk.INSTANCE,
                new QueueMethod.PurgeOk(0),
                new QueueMethod.DeleteOk(0),
                QueueMethod.UnbindOk.INSTANCE,
                BasicMethod.QosOk.INSTANCE,
                new BasicMethod.ConsumeOk("t"),
                new BasicMethod.CancelOk("t"),
                new BasicMethod.Return(312, "NO_ROUTE", "", "k"),
                new BasicMethod.Deliver("t", 1, false, "", "k"),
                new BasicMethod.GetOk(1, false, "", "k", 0),
                new BasicMethod.GetEmpty(""),
                BasicMethod.RecoverOk.INSTANCE,
                TxMethod.SelectOk.INSTANCE,
                TxMethod.CommitOk.INSTANCE,
                TxMethod.RollbackOk.INSTANCE,
                ConfirmMethod.SelectOk.INSTANCE,
                // connection class on a non-zero channel
                new ConnectionMethod.Close(200, "bye", 0, 0),
                new ConnectionMethod.Blocked("x"),
                new ConnectionMethod.SecureOk(LongString.of(new byte[] {'x'})));
    }

    @ParameterizedTest
    @MethodSource("serverOnlyMethods")
    void serverOnlyMethodIsUnimplemented(AmqpMethod m) {
        assertError(m, ReplyCode.COMMAND_INVALID, "COMMAND_INVALID - unimplemented method", m.classId(), m.methodId());
    }

    @Test
    void serverOnlyIdsAreTheObservedOnes() {
        assertThat(hard(new ChannelMethod.FlowOk(true))).extracting(HardError::classId, HardError::methodId)
                .containsExactly(20, 21);
        assertThat(hard(new BasicMethod.GetEmpty(""))).extracting(HardError::classId, HardError::methodId)
                .containsExactly(60, 72);
        assertThat(hard(new ConnectionMethod.Close(200, "bye", 0, 0)))
                .extracting(HardError::classId, HardError::methodId).containsExactly(10, 50);
    }

    static Stream<AmqpMethod> harmlessMethods() {
        FieldTable none = FieldTable.EMPTY;
        return Stream.of(
                new ChannelMethod.Open(""),
                new ChannelMethod.Close(200, "bye", 0, 0),
                ChannelMethod.CloseOk.INSTANCE,
                new AccessMethod.Request("/data", false, false, true, true, true),
                new ExchangeMethod.Declare(0, "x", "direct", false, false, false, false, false, none),
                new ExchangeMethod.Declare(0, "x", "x-unknown", true, false, false, false, false, none),
                new ExchangeMethod.Delete(0, "x", false, false),
                new ExchangeMethod.Bind(0, "a", "b", "k", false, none),
                new ExchangeMethod.Unbind(0, "a", "b", "k", false, none),
                new QueueMethod.Declare(0, "", false, false, true, true, false, none),
                new QueueMethod.Bind(0, "q", "amq.direct", "k", false, none),
                new QueueMethod.Purge(0, "q", false),
                new QueueMethod.Delete(0, "q", true, true, false),
                new QueueMethod.Unbind(0, "q", "amq.direct", "k", none),
                new BasicMethod.Consume(0, "q", "t", false, false, false, false, none),
                new BasicMethod.Cancel("t", false),
                new BasicMethod.Get(0, "q", true),
                new BasicMethod.Ack(5, false),
                new BasicMethod.Reject(5, true),
                new BasicMethod.Nack(5, true, false),
                TxMethod.Select.INSTANCE,
                TxMethod.Commit.INSTANCE,
                TxMethod.Rollback.INSTANCE,
                new ConfirmMethod.Select(false));
    }

    @ParameterizedTest
    @MethodSource("harmlessMethods")
    void clientMethodsWithoutAHardErrorPass(AmqpMethod m) {
        assertThat(HardErrorScreen.check(m)).isEmpty();
    }

    @Test
    void exchangeDeclareOfANonBuiltInTypeNeedsIsolation() {
        FieldTable none = FieldTable.EMPTY;
        for (String builtIn : List.of("direct", "fanout", "topic", "headers")) {
            assertThat(HardErrorScreen.needsIsolation(
                    new ExchangeMethod.Declare(0, "x", builtIn, false, true, false, false, false, none))).isFalse();
        }
        for (String other : List.of("x-consistent-hash", "DIRECT", "", " direct", "queue")) {
            assertThat(HardErrorScreen.needsIsolation(
                    new ExchangeMethod.Declare(0, "x", other, false, true, false, false, true, none)))
                    .as(other).isTrue();
            // passive declare never checks the type
            assertThat(HardErrorScreen.needsIsolation(
                    new ExchangeMethod.Declare(0, "x", other, true, false, false, false, false, none))).isFalse();
        }
        assertThat(HardErrorScreen.needsIsolation(new BasicMethod.Qos(1, 0, false))).isFalse();
    }

    /** Observed on RabbitMQ 3.10.8 (IsolationTest compares Warren with the broker for two of these). */
    @Test
    void serverNamedQueueOfAnUnknownTypeIsABareInternalError() {
        HardError internal = new HardError(ReplyCode.INTERNAL_ERROR, "INTERNAL_ERROR", 0, 0);
        for (FieldValue type : List.<FieldValue>of(LongString.of("bogus"), LongString.of("Classic"), LongString.of(""),
                new FieldValue.SignedLong(1), new FieldValue.UnsignedByte(185), new FieldValue.Bool(true),
                new FieldValue.Table(FieldTable.EMPTY), new FieldValue.Void())) {
            FieldTable args = FieldTable.builder().put("x-queue-type", type).build();
            assertThat(HardErrorScreen.check(new QueueMethod.Declare(0, "", false, false, false, true, false, args)))
                    .as("server-named, x-queue-type %s", type).contains(internal);
            assertThat(HardErrorScreen.check(new QueueMethod.Declare(0, "", false, true, true, false, true, args)))
                    .as("nowait too").contains(internal);
            // a named queue gets a 406 channel error for it, and a passive declare never looks at it
            assertThat(HardErrorScreen.check(new QueueMethod.Declare(0, "q", false, false, false, true, false, args)))
                    .isEmpty();
            assertThat(HardErrorScreen.check(new QueueMethod.Declare(0, "", true, false, false, true, false, args)))
                    .isEmpty();
        }
        for (String known : List.of("classic", "quorum", "stream")) { // quorum and stream: a 406, not a crash
            FieldTable args = FieldTable.builder().put("x-queue-type", LongString.of(known)).build();
            assertThat(HardErrorScreen.check(new QueueMethod.Declare(0, "", false, false, false, true, false, args)))
                    .isEmpty();
        }
        assertThat(HardErrorScreen.check(new QueueMethod.Declare(0, "", false, false, false, true, false,
                FieldTable.EMPTY))).isEmpty();
    }

    @Test
    void stateDependentErrorsHaveTheObservedTexts() {
        assertThat(HardError.consumerTagReuse("T1")).isEqualTo(new HardError(ReplyCode.NOT_ALLOWED,
                "NOT_ALLOWED - attempt to reuse consumer tag 'T1'", 60, 20));
        assertThat(HardError.txCommitInProgress(60, 40)).isEqualTo(new HardError(ReplyCode.CHANNEL_ERROR,
                "CHANNEL_ERROR - unexpected command while processing 'tx.commit'", 60, 40));
        assertThat(HardError.secondChannelOpen()).isEqualTo(new HardError(ReplyCode.CHANNEL_ERROR,
                "CHANNEL_ERROR - second 'channel.open' seen", 20, 10));
        assertThat(HardError.expectedChannelOpen(60, 10)).isEqualTo(new HardError(ReplyCode.CHANNEL_ERROR,
                "CHANNEL_ERROR - expected 'channel.open'", 60, 10));
        assertThat(HardError.unimplementedMethod(20, 41)).isEqualTo(new HardError(ReplyCode.COMMAND_INVALID,
                "COMMAND_INVALID - unimplemented method", 20, 41));
        assertThat(HardError.malformedUtf8InShortstr()).isEqualTo(new HardError(ReplyCode.FRAME_ERROR,
                "FRAME_ERROR - Malformed UTF-8 in shortstr", 0, 0));
        assertThat(HardError.undecodableContentProperties()).isEqualTo(new HardError(ReplyCode.INTERNAL_ERROR,
                "INTERNAL_ERROR", 0, 0));
    }

    @Test
    void longTextIsTruncatedLikeRabbitMq() {
        // observed: a 255-byte tag gives the first 252 bytes of the text followed by "..."
        String tag = "Z".repeat(255);
        HardError e = HardError.consumerTagReuse(tag);
        String full = "NOT_ALLOWED - attempt to reuse consumer tag '" + tag + "'";
        assertThat(e.text()).isEqualTo(full.substring(0, 252) + "...");
        assertThat(e.text().getBytes(StandardCharsets.UTF_8)).hasSize(255);
    }

    @Test
    void truncationDoesNotSplitAUtf8Character() {
        // "é" is 2 bytes; place one so that byte 252 falls inside it
        String prefix = "NOT_ALLOWED - attempt to reuse consumer tag '";
        String tag = "a".repeat(251 - prefix.length()) + "é" + "b".repeat(40);
        String text = HardError.consumerTagReuse(tag).text();
        assertThat(text).endsWith("a...");
        assertThat(text.getBytes(StandardCharsets.UTF_8).length).isEqualTo(254);
    }

    @Test
    void shortTextIsKept() {
        assertThat(HardError.truncate("x".repeat(255))).hasSize(255);
        assertThat(HardError.truncate("x".repeat(256))).isEqualTo("x".repeat(252) + "...");
    }

    @Test
    void softCodesAreRejected() {
        assertThatThrownBy(() -> new HardError(ReplyCode.PRECONDITION_FAILED, "x", 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
