package io.warren.testsupport;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.opentest4j.TestAbortedException;

/** rabbitmqctl conveniences shared by all broker kinds. */
abstract class AbstractBroker implements RabbitBroker {

    /** Placeholder ports, name to port as seen by the client. */
    protected Map<String, Integer> namedPorts = Map.of();

    @Override
    public URI amqpUri() {
        return amqpUri("guest", "guest", "/");
    }

    @Override
    public URI amqpUri(String user, String password, String vhost) {
        return URI.create("amqp://" + enc(user) + ":" + enc(password) + "@" + host() + ":" + amqpPort() + "/"
                + enc(vhost));
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public Optional<Integer> prometheusPort() {
        return Optional.ofNullable(namedPorts.get("prometheus"));
    }

    @Override
    public Optional<Integer> managementPort() {
        return Optional.ofNullable(namedPorts.get("management"));
    }

    @Override
    public int port(String name) {
        Integer port = namedPorts.get(name);
        if (port == null) {
            throw new IllegalArgumentException("no port named '" + name + "' (known: " + namedPorts.keySet()
                    + "); write ${port:" + name + "} in a @BrokerConfig conf line");
        }
        return port;
    }

    @Override
    public boolean supportsKillAndRestart() {
        return false;
    }

    @Override
    public void kill() {
        throw unsupported("kill()");
    }

    @Override
    public void start() {
        throw unsupported("start()");
    }

    @Override
    public void stop() {
        throw unsupported("stop()");
    }

    /** Called after each test: make sure the broker is usable by the next one. */
    void ensureRunning() {
    }

    /** Called at JVM exit. */
    void shutdown() {
    }

    protected TestAbortedException unsupported(String what) {
        return new TestAbortedException(what + " is not supported by " + this
                + "; it needs a private node started by the fixture (unset AMQP_TEST_URI, install rabbitmq-server)");
    }

    @Override
    public void stopApp() {
        rabbitmqctl("stop_app");
    }

    @Override
    public void startApp() {
        rabbitmqctl("start_app");
        rabbitmqctl("await_startup", "--timeout", "60");
    }

    @Override
    public List<Map<String, String>> listConnections(String... columns) {
        List<String> args = new ArrayList<>(List.of("list_connections", "-q", "--formatter", "json"));
        args.addAll(List.of(columns));
        List<Map<String, String>> rows = Json.parseRows(rabbitmqctl(args.toArray(String[]::new)));
        for (Map<String, String> row : rows) {
            row.replaceAll((k, v) -> k.endsWith("host") ? ipTuple(v) : v);
        }
        return rows;
    }

    /** rabbitmqctl's JSON shows addresses as Erlang tuples: [127,0,0,1] becomes 127.0.0.1. */
    static String ipTuple(String v) {
        if (v.matches("\\[\\s*\\d+(\\s*,\\s*\\d+){3}\\s*]")) {
            return String.join(".", v.replaceAll("[\\[\\]\\s]", "").split(","));
        }
        if (v.matches("\\[\\s*\\d+(\\s*,\\s*\\d+){7}\\s*]")) {
            String[] parts = v.replaceAll("[\\[\\]\\s]", "").split(",");
            if (v.replaceAll("\\s", "").startsWith("[0,0,0,0,0,65535,")) { // IPv4-mapped
                int hi = Integer.parseInt(parts[6]);
                int lo = Integer.parseInt(parts[7]);
                return (hi >> 8) + "." + (hi & 255) + "." + (lo >> 8) + "." + (lo & 255);
            }
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < parts.length; i++) {
                b.append(i == 0 ? "" : ":").append(Integer.toHexString(Integer.parseInt(parts[i])));
            }
            return b.toString();
        }
        return v;
    }

    @Override
    public List<String> listQueues() {
        return listQueues("/");
    }

    @Override
    public List<String> listQueues(String vhost) {
        return Json.parseRows(rabbitmqctl("list_queues", "-q", "-p", vhost, "--formatter", "json", "name"))
                .stream().map(row -> row.get("name")).toList();
    }

    @Override
    public void addUser(String user, String password) {
        rabbitmqctl("add_user", "--", user, password);
    }

    @Override
    public void setPermissions(String vhost, String user) {
        rabbitmqctl("set_permissions", "-p", vhost, "--", user, ".*", ".*", ".*");
    }

    @Override
    public void deleteUser(String user) {
        rabbitmqctl("delete_user", "--", user);
    }

    @Override
    public void changePassword(String user, String newPassword) {
        rabbitmqctl("change_password", "--", user, newPassword);
    }

    @Override
    public void addVhost(String vhost) {
        rabbitmqctl("add_vhost", "--", vhost);
    }

    @Override
    public void deleteVhost(String vhost) {
        rabbitmqctl("delete_vhost", "--", vhost);
    }
}
