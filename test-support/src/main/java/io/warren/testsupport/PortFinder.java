package io.warren.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

/**
 * Free TCP ports on 127.0.0.1. A port is free when returned; never returns the same port twice in a JVM,
 * and avoids RabbitMQ's well-known ports and the port range rabbitmqctl uses for itself (35672-35682).
 */
public final class PortFinder {

    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private PortFinder() {
    }

    /** A currently free loopback port. */
    public static synchronized int freePort() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port;
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(false);
                socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                port = socket.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot bind a loopback port", e);
            }
            if (reserved(port) || !HANDED_OUT.add(port)) {
                continue;
            }
            return port;
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

    private static boolean reserved(int port) {
        return (port >= 35672 && port <= 35682) || port == 5672 || port == 5671 || port == 25672
                || port == 15672 || port == 15692 || port == 4369;
    }
}
