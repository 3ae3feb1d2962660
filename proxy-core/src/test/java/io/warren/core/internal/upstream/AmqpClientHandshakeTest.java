package io.warren.core.internal.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.codec.AmqpMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.LongString;
import io.warren.codec.ReplyCode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Warren's side of the connection handshake towards a broker, fed the broker's methods in order. */
class AmqpClientHandshakeTest {
    private static final FieldTable PROPERTIES = FieldTable.builder().put("product", LongString.of("Warren")).build();

    private static AmqpClientHandshake handshake(int channelMax, int frameMax, int heartbeat) {
        return new AmqpClientHandshake(PROPERTIES, "guest", "secret".getBytes(StandardCharsets.UTF_8),
                new AmqpClientHandshake.Limits(channelMax, frameMax, heartbeat));
    }

    private static ConnectionMethod.Start start(String mechanisms) {
        return new ConnectionMethod.Start(0, 9, FieldTable.builder().put("product", LongString.of("RabbitMQ")).build(),
                LongString.of(mechanisms), LongString.of("en_US"));
    }

    @Test
    void answersStartWithPlainTakesTheLowerTuningAndOpensTheVirtualHostWhenAsked() {
        AmqpClientHandshake h = handshake(100, 131072, 30);
        List<AmqpMethod> startOk = h.receive(start("AMQPLAIN PLAIN"));
        assertThat(startOk).singleElement().isInstanceOfSatisfying(ConnectionMethod.StartOk.class, ok -> {
            assertThat(ok.mechanism()).isEqualTo("PLAIN");
            assertThat(ok.response().bytes()).isEqualTo("\0guest\0secret".getBytes(StandardCharsets.UTF_8));
            assertThat(ok.clientProperties()).isEqualTo(PROPERTIES);
        });
        assertThat(h.stage()).isEqualTo(AmqpClientHandshake.Stage.AWAIT_TUNE);
        assertThat(h.serverProperties().getString("product")).contains("RabbitMQ");

        assertThat(h.receive(new ConnectionMethod.Tune(2047, 65536, 60))).isEmpty();
        assertThat(h.stage()).as("stops once the broker judged the login").isEqualTo(AmqpClientHandshake.Stage.TUNED);
        assertThat(h.tuning()).isEqualTo(new AmqpClientHandshake.Tuning(100, 65536, 30));

        List<AmqpMethod> open = h.open("/orders");
        assertThat(open).containsExactly(new ConnectionMethod.TuneOk(100, 65536, 30),
                new ConnectionMethod.Open("/orders", "", false));
        h.receive(new ConnectionMethod.OpenOk(""));
        assertThat(h.stage()).isEqualTo(AmqpClientHandshake.Stage.OPEN);
    }

    @Test
    void zeroMeansNoLimitOnEitherSideAndAHeartbeatOfOursOffStaysOff() {
        AmqpClientHandshake h = handshake(0, 0, 0);
        h.receive(start("PLAIN"));
        h.receive(new ConnectionMethod.Tune(0, 0, 60));
        assertThat(h.tuning()).isEqualTo(new AmqpClientHandshake.Tuning(65535, Integer.MAX_VALUE, 0));

        AmqpClientHandshake ours = handshake(0, 4096, 20);
        ours.receive(start("PLAIN"));
        ours.receive(new ConnectionMethod.Tune(10, 0, 0));
        assertThat(ours.tuning()).isEqualTo(new AmqpClientHandshake.Tuning(10, 4096, 20));
    }

    @Test
    void aBrokerCloseIsAnsweredAndIsTheRefusal() {
        AmqpClientHandshake h = handshake(0, 0, 0);
        h.receive(start("PLAIN"));
        List<AmqpMethod> reply = h.receive(new ConnectionMethod.Close(403,
                "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN.", 10, 11));
        assertThat(reply).containsExactly(new ConnectionMethod.CloseOk());
        assertThat(h.stage()).isEqualTo(AmqpClientHandshake.Stage.REFUSED);
        assertThat(h.refusal().code()).isEqualTo(403);
        assertThat(h.refusal().classId()).isEqualTo(10);
        assertThat(h.refusal().methodId()).isEqualTo(11);
    }

    @Test
    void aBrokerWithoutPlainOrAskingForAChallengeIsRefusedWithAccessRefused() {
        AmqpClientHandshake noPlain = handshake(0, 0, 0);
        assertThat(noPlain.receive(start("EXTERNAL AMQPLAIN"))).isEmpty();
        assertThat(noPlain.stage()).isEqualTo(AmqpClientHandshake.Stage.REFUSED);
        assertThat(noPlain.refusal().code()).isEqualTo(ReplyCode.ACCESS_REFUSED.code());
        assertThat(noPlain.refusal().text()).contains("does not offer SASL PLAIN (offers EXTERNAL AMQPLAIN)");

        AmqpClientHandshake challenged = handshake(0, 0, 0);
        challenged.receive(start("PLAIN"));
        challenged.receive(new ConnectionMethod.Secure(LongString.of("?")));
        assertThat(challenged.stage()).isEqualTo(AmqpClientHandshake.Stage.REFUSED);
        assertThat(challenged.refusal().text()).contains("SASL challenge");
    }
}
