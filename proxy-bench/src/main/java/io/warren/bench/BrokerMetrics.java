package io.warren.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The broker's own churn counters, read from the rabbitmq_prometheus plugin's aggregated {@code /metrics}
 * (enabled_plugins {@code [rabbitmq_prometheus].}, {@code prometheus.tcp.port} in rabbitmq.conf).
 */
public final class BrokerMetrics {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI uri;

    public BrokerMetrics(int port) {
        this.uri = URI.create("http://127.0.0.1:" + port + "/metrics");
    }

    /** Connections and channels opened since the node started. */
    public record Churn(long connectionsOpened, long channelsOpened) {
        public Churn minus(Churn before) {
            return new Churn(connectionsOpened - before.connectionsOpened, channelsOpened - before.channelsOpened);
        }
    }

    public Churn read() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException(uri + " answered " + r.statusCode());
        }
        return new Churn(value(r.body(), "rabbitmq_connections_opened_total"),
                value(r.body(), "rabbitmq_channels_opened_total"));
    }

    private static long value(String body, String metric) throws IOException {
        for (String line : body.split("\n")) {
            if (line.startsWith(metric + " ") || line.startsWith(metric + "{")) {
                return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new IOException("metric " + metric + " not found");
    }
}
