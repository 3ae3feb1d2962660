package io.warren.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

@WithRabbitBroker
class RabbitBrokerSmokeTest {

    RabbitBroker injectedField;

    static Connection connect(RabbitBroker broker) throws Exception {
        return connect(broker, "warren-smoke");
    }

    /** A connection whose client_properties carry {@code name} (list_connections shows it). */
    static Connection connect(RabbitBroker broker, String name) throws Exception {
        ConnectionFactory cf = new ConnectionFactory();
        cf.setUri(broker.amqpUri());
        cf.setConnectionTimeout(5_000);
        cf.setAutomaticRecoveryEnabled(false);
        return cf.newConnection(name);
    }

    @Test
    void publishAndGet(RabbitBroker broker) throws Exception {
        assertThat(injectedField).isSameAs(broker);
        assertThat(broker.host()).isEqualTo("127.0.0.1");
        String queue = "smoke-" + UUID.randomUUID();
        try (Connection conn = connect(broker); Channel ch = conn.createChannel()) {
            ch.queueDeclare(queue, false, false, true, null);
            AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
                    .contentType("text/plain").correlationId("c-1").headers(Map.of("k", "v")).deliveryMode(1).build();
            ch.basicPublish("", queue, props, "hello warren".getBytes(StandardCharsets.UTF_8));
            GetResponse got = null;
            for (int i = 0; i < 50 && got == null; i++) {
                got = ch.basicGet(queue, true);
                if (got == null) {
                    Thread.sleep(20);
                }
            }
            assertThat(got).isNotNull();
            assertThat(new String(got.getBody(), StandardCharsets.UTF_8)).isEqualTo("hello warren");
            assertThat(got.getProps().getContentType()).isEqualTo("text/plain");
            assertThat(got.getProps().getCorrelationId()).isEqualTo("c-1");
            assertThat(got.getProps().getHeaders()).containsKey("k");
            assertThat(got.getProps().getHeaders().get("k").toString()).isEqualTo("v");

            assertThat(broker.listQueues()).contains(queue);
            assertThat(broker.listConnections("user", "peer_host", "client_properties"))
                    .anySatisfy(c -> {
                        assertThat(c.get("user")).isEqualTo("guest");
                        assertThat(c.get("peer_host")).isEqualTo("127.0.0.1");
                        assertThat(c.get("client_properties")).contains("warren-smoke");
                    });
        }
    }

    @Test
    void usersAndVhosts(RabbitBroker broker) throws Exception {
        String user = "u-" + UUID.randomUUID();
        String vhost = "v-" + UUID.randomUUID();
        broker.addVhost(vhost);
        broker.addUser(user, "-p@ss w:rd/");
        broker.setPermissions(vhost, user);
        ConnectionFactory cf = new ConnectionFactory();
        cf.setUri(broker.amqpUri(user, "-p@ss w:rd/", vhost));
        cf.setAutomaticRecoveryEnabled(false);
        try (Connection conn = cf.newConnection()) {
            assertThat(conn.isOpen()).isTrue();
            try (Channel ch = conn.createChannel()) {
                ch.queueDeclare("in-vhost", false, false, false, null);
            }
            assertThat(broker.listQueues(vhost)).containsExactly("in-vhost");
        }
        broker.changePassword(user, "new");
        assertThatThrownBy(cf::newConnection).isInstanceOf(Exception.class);
        cf.setPassword("new");
        cf.newConnection().close();
        broker.deleteUser(user);
        broker.deleteVhost(vhost);
        assertThatThrownBy(cf::newConnection).isInstanceOf(Exception.class);
        assertThatThrownBy(() -> broker.rabbitmqctl("no_such_command"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no_such_command");
    }

    @Test
    void portFinderGivesDistinctFreePortsBelowTheEphemeralRange() {
        int[] ports = PortFinder.freePorts(5);
        assertThat(ports).doesNotHaveDuplicates();
        for (int p : ports) {
            assertThat(p).isBetween(PortFinder.LOW, PortFinder.HIGH);
        }
    }
}
