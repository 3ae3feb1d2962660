package io.warren.testsupport;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A real RabbitMQ broker for a test, injected by {@link RabbitBrokerExtension} (see {@link WithRabbitBroker}).
 *
 * <p>Where the broker comes from (first that applies):
 * <ol>
 *   <li>env {@code AMQP_TEST_URI} (e.g. {@code amqp://guest:guest@127.0.0.1:5672/%2F}): an external broker.
 *       Management commands ({@link #rabbitmqctl}, users, stopApp/startApp) need env {@code AMQP_TEST_NODE}
 *       (e.g. {@code rabbit@myhost}) and a local rabbitmqctl; {@link #kill()}, {@link #stop()} and
 *       {@link #start()} abort the test (JUnit assumption). A class with a non-default {@link BrokerConfig}
 *       is aborted too: an external broker cannot be reconfigured.</li>
 *   <li>a private node started from the installed {@code rabbitmq-server}: own temp dir, node name, free
 *       loopback ports, enabled_plugins and rabbitmq.conf; one node per JVM per distinct {@link BrokerConfig},
 *       stopped and deleted at JVM exit.</li>
 *   <li>Testcontainers' {@code RabbitMQContainer} when a Docker engine answers and
 *       {@code org.testcontainers:rabbitmq} is on the test classpath (image: env
 *       {@code WARREN_RABBITMQ_IMAGE}, default {@code rabbitmq:3.13-alpine}); kill/stop/start abort the test.</li>
 *   <li>otherwise the test fails, saying how to get a broker.</li>
 * </ol>
 *
 * <p>Nodes are shared by all test classes of a JVM with the same config: use unique queue/user/vhost names.
 * After each test the extension brings a stopped or killed node back up ({@link #start()}), so a test may
 * leave it down.
 */
public interface RabbitBroker {

    /** Host to connect to (127.0.0.1 for a private node). */
    String host();

    /** AMQP (plain TCP) port. */
    int amqpPort();

    /** AMQP URI for the default vhost "/" as guest/guest (guest may log in from loopback only). */
    URI amqpUri();

    /** AMQP URI for the given user, password and vhost (all URI-encoded here). */
    URI amqpUri(String user, String password, String vhost);

    /** The HTTP port of the rabbitmq_prometheus plugin ({@code /metrics}), if that plugin is enabled. */
    Optional<Integer> prometheusPort();

    /** The HTTP port of the rabbitmq_management plugin, if that plugin is enabled. */
    Optional<Integer> managementPort();

    /**
     * The port that replaced the placeholder {@code ${port:NAME}} in the {@link BrokerConfig#conf()} lines,
     * e.g. {@code "listeners.ssl.default = 127.0.0.1:${port:amqps}"} then {@code port("amqps")}.
     *
     * @throws IllegalArgumentException if no conf line used that placeholder
     */
    int port(String name);

    /** Erlang node name, e.g. {@code warren-test-1234-1@localhost}. */
    String nodeName();

    /** {@code rabbitmqctl stop_app}: the node stays up, the broker closes all connections and listeners. */
    void stopApp();

    /** {@code rabbitmqctl start_app} and wait until the broker is fully booted. */
    void startApp();

    /**
     * {@code kill -9} of the node's Erlang VM (pid from its pid file); data dir and ports are kept. Like a real
     * crash, it may lose what was declared in the last ~2 s (mnesia writes its log lazily): to keep a durable
     * queue across kill(), declare it, then {@code rabbitmqctl("eval", "mnesia:sync_log().")}; confirmed
     * persistent messages are on disk already.
     */
    void kill();

    /**
     * Start again after {@link #kill()}, {@link #stop()} or {@link #stopApp()}, on the same ports and data
     * dir, and wait until ready. No-op if running.
     */
    void start();

    /** Graceful shutdown of the whole node (SIGTERM, then SIGKILL after 30 s). */
    void stop();

    /** True if {@link #kill()}, {@link #stop()} and {@link #start()} work (private nodes only). */
    boolean supportsKillAndRestart();

    /**
     * Runs {@code rabbitmqctl -n <node> args...} and returns its stdout.
     *
     * @throws IllegalStateException with stderr if the exit code is not zero
     */
    String rabbitmqctl(String... args);

    /**
     * {@code rabbitmqctl list_connections -q --formatter json [columns]}: one map per connection, column to
     * value (strings as is; numbers and booleans as text; nested values as JSON text;
     * columns ending in "host" as IP text, IPv4-mapped IPv6 as IPv4, e.g. peer_host 127.0.0.1). Without columns,
     * rabbitmqctl's default columns: user, peer_host, peer_port, state. A node of a {@link RabbitCluster} lists only
     * the connections it holds (rabbitmqctl itself lists the whole cluster's).
     */
    List<Map<String, String>> listConnections(String... columns);

    /** Names of the queues in vhost "/" (in a cluster: every node's queues). */
    List<String> listQueues();

    /** Names of the queues in the given vhost. */
    List<String> listQueues(String vhost);

    void addUser(String user, String password);

    /** Grants the user configure, write and read ".*" on the vhost. */
    void setPermissions(String vhost, String user);

    void deleteUser(String user);

    void changePassword(String user, String newPassword);

    void addVhost(String vhost);

    void deleteVhost(String vhost);
}
