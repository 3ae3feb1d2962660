package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.SocketConfigurators;
import io.warren.testsupport.Haproxy;
import io.warren.testsupport.PortFinder;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/warren with {@code proxy-protocol = required} behind a real HAProxy ({@code send-proxy-v2}): the admin API
 * shows the address the client connected from (127.0.0.7), not HAProxy's, and so does the daemon's log.
 */
@WithRabbitBroker
class ProxyProtocolIT {
    static RabbitBroker broker;

    @Test
    void theAdminApiShowsTheClientsOwnAddressBehindHaproxy(@TempDir Path dir) throws Exception {
        int amqp = PortFinder.freePort();
        int http = PortFinder.freePort();
        try (WarrenProcess w = WarrenProcess.start(Map.of("WARREN_LOG_LEVEL", "debug"), "--listen",
                "127.0.0.1:" + amqp, "--http", "127.0.0.1:" + http, "--proxy-protocol", "required",
                "amqp://" + broker.host() + ":" + broker.amqpPort());
                Haproxy haproxy = startHaproxy(dir, amqp, w)) {
            InetSocketAddress front = haproxy.address("v2");
            ConnectionFactory f = WarrenProcess.client(front.getPort(), "guest", "guest");
            Map<String, Object> props = new HashMap<>(f.getClientProperties());
            String name = "behind-haproxy-" + UUID.randomUUID();
            props.put("connection_name", name);
            f.setClientProperties(props);
            AtomicReference<Socket> socket = new AtomicReference<>();
            f.setSocketConfigurator(SocketConfigurators.defaultConfigurator().andThen(s -> {
                s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.7"), 0));
                socket.set(s);
            }));
            try (Connection c = f.newConnection()) {
                String peer = "127.0.0.7:" + socket.get().getLocalPort();
                JsonNode client = null;
                for (JsonNode n : new ObjectMapper().readTree(WarrenProcess.get(http, "/admin/clients").body())) {
                    if (n.get("connection_name").asText().equals(name)) {
                        client = n;
                    }
                }
                assertThat(client).as("the client in /admin/clients").isNotNull();
                assertThat(client.get("peer").asText()).isEqualTo(peer);
                await().atMost(Duration.ofSeconds(10)).until(() -> w.output().contains(peer + " via 127.0.0.1:"));
            }
            // Straight to Warren, past the balancer: refused with no AMQP byte, and a line saying why.
            try (Socket direct = new Socket("127.0.0.1", amqp)) {
                direct.setSoTimeout(10_000);
                direct.getOutputStream().write(new byte[] {'A', 'M', 'Q', 'P', 0, 0, 9, 1});
                assertThat(direct.getInputStream().read()).isEqualTo(-1);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> w.output().contains("no PROXY protocol header"));
        }
    }

    private static Haproxy startHaproxy(Path dir, int amqp, WarrenProcess w) throws Exception {
        w.awaitOutput("/healthz /readyz /metrics /admin", Duration.ofSeconds(30));
        return Haproxy.start(dir, new Haproxy.Route("v2", new InetSocketAddress("127.0.0.1", amqp), "send-proxy-v2"));
    }
}
