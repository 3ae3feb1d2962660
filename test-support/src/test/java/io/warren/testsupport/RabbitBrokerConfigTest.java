package io.warren.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

@WithRabbitBroker
@BrokerConfig(conf = {"channel_max = 16", "heartbeat = 2"}, plugins = {"rabbitmq_prometheus"})
class RabbitBrokerConfigTest {

    @Test
    void customConfigAndPrometheus(RabbitBroker broker) throws Exception {
        ConnectionFactory cf = new ConnectionFactory();
        cf.setUri(broker.amqpUri());
        cf.setRequestedChannelMax(0);
        cf.setRequestedHeartbeat(60);
        cf.setAutomaticRecoveryEnabled(false);
        try (Connection conn = cf.newConnection()) {
            assertThat(conn.getChannelMax()).isEqualTo(16);
            assertThat(conn.getHeartbeat()).isEqualTo(2);
        }
        int port = broker.prometheusPort().orElseThrow();
        HttpResponse<String> metrics = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("rabbitmq_");
        assertThat(broker.managementPort()).isEmpty();
    }
}
