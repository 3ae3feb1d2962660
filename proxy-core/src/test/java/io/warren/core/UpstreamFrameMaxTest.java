package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.warren.testsupport.BrokerConfig;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.time.Duration;
import java.util.Objects;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A broker whose frame_max (8 KiB) is below Warren's (128 KiB, what clients negotiate with Warren): bodies go
 * upstream re-framed to the upstream connection's frame size. Forwarded as the client framed them, one 100 KiB body
 * frame made the broker close the shared upstream connection (501 FRAME_ERROR) under every client on it.
 */
@WithRabbitBroker
@BrokerConfig(conf = {"frame_max = 8192"})
class UpstreamFrameMaxTest {
    static RabbitBroker broker;

    @Test
    void bodiesInFramesLargerThanTheBrokersFrameMaxAreReframedAndTheSharedConnectionLives() throws Exception {
        byte[] large = new byte[100 * 1024];
        new Random(9).nextBytes(large);
        try (WarrenHarness warren = WarrenHarness.start(broker);
                Connection canary = warren.factory().newConnection();
                Connection client = warren.factory().newConnection()) {
            ConnectionFactory direct = warren.directFactory();
            direct.setRequestedFrameMax(8192);
            try (Connection admin = direct.newConnection()) {
                Channel adminCh = admin.createChannel();
                String queue = adminCh.queueDeclare("", false, false, true, null).getQueue();
                assertThat(client.getFrameMax()).as("the client's frames may be 128 KiB").isEqualTo(131072);

                Channel ch = client.createChannel();
                ch.confirmSelect();
                ch.basicPublish("", queue, null, large);               // one 100 KiB body frame from the client
                ch.basicPublish("", queue, null, "small".getBytes());  // fits one upstream frame: inline
                ch.waitForConfirmsOrDie(10_000);

                assertThat(get(adminCh, queue)).isEqualTo(large);
                assertThat(get(adminCh, queue)).isEqualTo("small".getBytes());
                Channel canaryCh = canary.createChannel();
                canaryCh.confirmSelect();
                canaryCh.basicPublish("", queue, null, "canary".getBytes());
                canaryCh.waitForConfirmsOrDie(10_000);
                assertThat(get(adminCh, queue)).isEqualTo("canary".getBytes());
                assertThat(canary.isOpen()).isTrue();
                assertThat(warren.proxy.stats().upstreamDisconnectsFailed()).isZero();
                assertThat(warren.proxy.stats().messageBufferBytes()).isZero();
            }
        }
    }

    private static byte[] get(Channel ch, String queue) {
        GetResponse r = await().atMost(Duration.ofSeconds(10)).until(() -> ch.basicGet(queue, true),
                Objects::nonNull);
        return r.getBody();
    }
}
