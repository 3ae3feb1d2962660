package io.warren.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports on 127.0.0.1. A port is free when returned; never returns the same port twice in a JVM,
 * and avoids RabbitMQ's well-known ports and the port range rabbitmqctl uses for itself (35672-35682).
 *
 * <p>Ports are drawn at random below the kernel's ephemeral range (Linux: 32768-60999), so that no client
 * socket's local port can take a listener's port while the listener is down: a broker node restarted on its
 * port, or a daemon restarted on its address, would fail to bind. Only when no such port is free does the
 * kernel pick one (from the ephemeral range).
 */
public final class PortFinder {

    /** Below Linux's default ip_local_port_range (32768-60999) and above most fixed service ports. */
    static final int LOW = 10_000;
    static final int HIGH = 32_767;
    private static final int ATTEMPTS = 200;
    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private PortFinder() {
    }

    /** A currently free loopback port. */
    public static synchronized int freePort() {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOW, HIGH + 1);
            if (!reserved(port) && !HANDED_OUT.contains(port) && bindable(port)) {
                HANDED_OUT.add(port);
                return port;
            }
        }
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int port = bind(0);
            if (!reserved(port) && HANDED_OUT.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free loopback port found");
    }

    /** {@code count} distinct free loopback ports. */
    public static int[] freePorts(int count) {
        int[] ports = new int[count];
        for (int i = 0; i < count; i++) {
            ports[i] = freePort();
        }
        return ports;
    }

    private static boolean bindable(int port) {
        try {
            bind(port);
            return true;
        } catch (UncheckedIOException e) {
            return false;
        }
    }

    /** Binds (without SO_REUSEADDR, so a port still in TIME_WAIT counts as taken) and releases the port. */
    private static int bind(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind loopback port " + port, e);
        }
    }

    private static boolean reserved(int port) {
        return (port >= 35672 && port <= 35682) || port == 5672 || port == 5671 || port == 25672
                || port == 15672 || port == 15692 || port == 4369;
    }
}
