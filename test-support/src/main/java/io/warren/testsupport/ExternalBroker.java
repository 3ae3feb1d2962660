package io.warren.testsupport;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The broker named by env {@code AMQP_TEST_URI}; rabbitmqctl works if env {@code AMQP_TEST_NODE} is set. */
final class ExternalBroker extends AbstractBroker {

    private final URI uri;
    private final String host;
    private final int port;
    private final String node;

    ExternalBroker(URI uri, String node) {
        this.uri = uri;
        this.host = uri.getHost() == null ? "127.0.0.1" : uri.getHost();
        boolean tls = "amqps".equalsIgnoreCase(uri.getScheme());
        this.port = uri.getPort() > 0 ? uri.getPort() : (tls ? 5671 : 5672);
        this.node = node == null || node.isBlank() ? null : node.strip();
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public int amqpPort() {
        return port;
    }

    @Override
    public URI amqpUri() {
        return uri;
    }

    @Override
    public String nodeName() {
        return node == null ? "external" : node;
    }

    @Override
    public String rabbitmqctl(String... args) {
        if (node == null) {
            throw unsupported("rabbitmqctl (set AMQP_TEST_NODE to the broker's node name to enable it)");
        }
        Optional<RabbitInstallation> inst = RabbitInstallation.detect();
        if (inst.isEmpty()) {
            throw unsupported("rabbitmqctl (no local rabbitmq-server/rabbitmqctl installation)");
        }
        List<String> a = new ArrayList<>(List.of("-n", node));
        a.addAll(List.of(args));
        Exec.Result r = Exec.run(inst.get().command("rabbitmqctl", a), inst.get().env(Map.of()), null,
                Duration.ofSeconds(120));
        if (r.exitCode() != 0) {
            throw new IllegalStateException("rabbitmqctl " + String.join(" ", a) + " exited " + r.exitCode()
                    + "\nstderr: " + r.stderr().strip());
        }
        return r.stdout();
    }

    @Override
    public String toString() {
        return "external broker " + host + ":" + port + " (AMQP_TEST_URI)";
    }
}
