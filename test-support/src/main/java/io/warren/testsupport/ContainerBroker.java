package io.warren.testsupport;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Testcontainers' RabbitMQContainer, used through reflection so that test-support needs neither
 * Testcontainers nor Docker: add {@code org.testcontainers:rabbitmq} (test scope) to use it.
 * Only stopApp/startApp and rabbitmqctl (docker exec) are supported; kill/stop/start abort the test.
 */
final class ContainerBroker extends AbstractBroker {

    static final String[] CLASS_NAMES = {
        "org.testcontainers.rabbitmq.RabbitMQContainer",   // Testcontainers 2.x
        "org.testcontainers.containers.RabbitMQContainer", // Testcontainers 1.x
    };
    private static final Pattern PORT_PLACEHOLDER = Pattern.compile("\\$\\{port:([A-Za-z0-9_.-]+)}");

    private final Object container;
    private final String host;
    private final int amqpPort;

    private ContainerBroker(Object container, String host, int amqpPort, Map<String, Integer> ports) {
        this.container = container;
        this.host = host;
        this.amqpPort = amqpPort;
        this.namedPorts = Map.copyOf(ports);
    }

    /** True if a Docker engine answers on DOCKER_HOST or a usual socket path. */
    static boolean dockerAnswers() {
        String dockerHost = System.getenv("DOCKER_HOST");
        List<String> candidates = new ArrayList<>();
        if (dockerHost != null && !dockerHost.isBlank()) {
            candidates.add(dockerHost);
        }
        candidates.add("unix:///var/run/docker.sock");
        candidates.add("unix://" + System.getProperty("user.home") + "/.docker/run/docker.sock");
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (xdg != null) {
            candidates.add("unix://" + xdg + "/docker.sock");
        }
        for (String c : candidates) {
            try {
                if (c.startsWith("unix://")) {
                    Path socket = Paths.get(c.substring("unix://".length()));
                    if (Files.exists(socket)) {
                        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                            ch.connect(UnixDomainSocketAddress.of(socket));
                            return true;
                        }
                    }
                } else if (c.startsWith("tcp://")) {
                    URI u = URI.create(c);
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress(u.getHost(), u.getPort()), 1000);
                        return true;
                    }
                }
            } catch (IOException | RuntimeException ignored) {
                // try the next one
            }
        }
        return false;
    }

    static Class<?> containerClass() {
        for (String name : CLASS_NAMES) {
            try {
                return Class.forName(name, true, Thread.currentThread().getContextClassLoader());
            } catch (ClassNotFoundException | LinkageError ignored) {
                // next
            }
        }
        return null;
    }

    static ContainerBroker start(Class<?> type, NodeSpec spec) {
        String image = System.getenv().getOrDefault("WARREN_RABBITMQ_IMAGE", "rabbitmq:3.13-alpine");
        try {
            Object c = type.getConstructor(String.class).newInstance(image);
            Map<String, Integer> internal = new LinkedHashMap<>();
            List<String> conf = new ArrayList<>();
            if (spec.hasPluginLike("prometheus")) {
                internal.put("prometheus", 15692);
            }
            if (spec.hasPluginLike("management")) {
                internal.put("management", 15672);
            }
            int next = 20000;
            for (String line : spec.conf()) {
                Matcher m = PORT_PLACEHOLDER.matcher(line);
                StringBuilder b = new StringBuilder();
                while (m.find()) {
                    if (!internal.containsKey(m.group(1))) {
                        internal.put(m.group(1), next++);
                    }
                    m.appendReplacement(b, Integer.toString(internal.get(m.group(1))));
                }
                m.appendTail(b);
                conf.add(b.toString());
            }
            if (!spec.isDefault()) {
                Path dir = Files.createTempDirectory("warren-rabbit-container-");
                Path confFile = Files.writeString(dir.resolve("90-warren.conf"), String.join("\n", conf) + "\n");
                Path plugins = Files.writeString(dir.resolve("enabled_plugins"),
                        "[" + String.join(",", spec.plugins()) + "].\n");
                copyToContainer(c, confFile, "/etc/rabbitmq/conf.d/90-warren.conf");
                copyToContainer(c, plugins, "/etc/rabbitmq/enabled_plugins");
            }
            Method addExposedPort = findMethod(c.getClass(), "addExposedPort", Integer.class);
            for (int port : internal.values()) {
                addExposedPort.invoke(c, port);
            }
            c.getClass().getMethod("start").invoke(c);
            String host = (String) c.getClass().getMethod("getHost").invoke(c);
            int amqp = (Integer) c.getClass().getMethod("getAmqpPort").invoke(c);
            Map<String, Integer> mapped = new LinkedHashMap<>();
            Method getMappedPort = c.getClass().getMethod("getMappedPort", int.class);
            for (Map.Entry<String, Integer> e : internal.entrySet()) {
                mapped.put(e.getKey(), (Integer) getMappedPort.invoke(c, e.getValue()));
            }
            return new ContainerBroker(c, host, amqp, mapped);
        } catch (ReflectiveOperationException | IOException e) {
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ite ? ite.getCause() : e;
            throw new IllegalStateException("cannot start RabbitMQ container " + image + ": " + cause, cause);
        }
    }

    private static void copyToContainer(Object c, Path file, String target) throws ReflectiveOperationException {
        Class<?> mountable = Class.forName("org.testcontainers.utility.MountableFile", true, c.getClass().getClassLoader());
        Object mf = mountable.getMethod("forHostPath", String.class).invoke(null, file.toString());
        findMethod(c.getClass(), "withCopyFileToContainer", mountable, String.class).invoke(c, mf, target);
    }

    private static Method findMethod(Class<?> type, String name, Class<?>... params) throws NoSuchMethodException {
        return type.getMethod(name, params);
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public int amqpPort() {
        return amqpPort;
    }

    @Override
    public String nodeName() {
        return rabbitmqctl("eval", "node().").strip();
    }

    @Override
    public String rabbitmqctl(String... args) {
        List<String> cmd = new ArrayList<>(List.of("rabbitmqctl"));
        cmd.addAll(List.of(args));
        try {
            Object r = container.getClass().getMethod("execInContainer", String[].class)
                    .invoke(container, (Object) cmd.toArray(String[]::new));
            int exit = (Integer) r.getClass().getMethod("getExitCode").invoke(r);
            String out = (String) r.getClass().getMethod("getStdout").invoke(r);
            String err = (String) r.getClass().getMethod("getStderr").invoke(r);
            if (exit != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " exited " + exit + "\nstderr: " + err);
            }
            return out;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot exec in container: " + e, e);
        }
    }

    @Override
    void shutdown() {
        try {
            container.getClass().getMethod("stop").invoke(container);
        } catch (ReflectiveOperationException | RuntimeException ignored) {
            // Testcontainers' reaper removes it anyway
        }
    }

    @Override
    public String toString() {
        return "RabbitMQ container " + host + ":" + amqpPort;
    }
}
