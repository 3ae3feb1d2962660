package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.warren.codec.BasicMethod;
import io.warren.codec.FieldTable;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md invariant 8: a consumer that never reads its socket makes Warren stop reading the upstream connection
 * (the broker keeps the messages) instead of buffering without end, and only for a bounded time: then that client
 * is cut off and the clients sharing the connection carry on.
 */
@WithRabbitBroker
class SlowConsumerTest {
    static RabbitBroker broker;

    @Test
    void consumerThatNeverReadsIsCutOffAndOthersCarryOn() throws Exception {
        try (WarrenHarness warren = WarrenHarness.start(broker)) {
            String q = "slow-" + UUID.randomUUID();
            try (Connection direct = warren.directFactory().newConnection(); Channel ch = direct.createChannel()) {
                ch.queueDeclare(q, false, false, false, null);
                byte[] body = new byte[64 * 1024];
                for (int i = 0; i < 400; i++) { // 25 MiB, far above any write queue mark
                    ch.basicPublish("", q, null, body);
                }
            }
            try (RawAmqpClient slow = RawAmqpClient.open("127.0.0.1", warren.port());
                    Connection canary = warren.factory().newConnection()) {
                slow.openChannel(1);
                slow.sendMethod(1, new BasicMethod.Consume(0, q, "", false, true, false, false, FieldTable.EMPTY));
                // ...and never read again.
                Channel c = canary.createChannel();
                String cq = c.queueDeclare().getQueue();
                long start = System.nanoTime();
                boolean slowGone = false;
                int roundTrips = 0;
                while (System.nanoTime() - start < Duration.ofSeconds(40).toNanos()) {
                    c.basicPublish("", cq, null, new byte[8]);
                    if (c.basicGet(cq, true) != null) {
                        roundTrips++;
                    }
                    if (!slowGone && warren.proxy.clientCount() == 1) {
                        slowGone = true; // cut off: only the canary is left
                    }
                    if (slowGone && roundTrips > 20) {
                        break;
                    }
                }
                assertThat(slowGone).as("the client that does not read was disconnected").isTrue();
                assertThat(roundTrips).as("the canary on the same upstream connection carried on").isGreaterThan(20);
                assertThat(canary.isOpen()).isTrue();
                assertThat(warren.proxy.stats().violations()).containsKey(320);
            }
        }
    }
}
