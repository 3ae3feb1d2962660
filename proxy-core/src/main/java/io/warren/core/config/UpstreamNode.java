package io.warren.core.config;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * One node of the upstream cluster: the host as the operator wrote it (the name a TLS certificate must carry) and
 * the address it resolved to. A host that resolves to several addresses is several nodes.
 *
 * @param host the host of its {@code amqp://} or {@code amqps://} URL
 * @param address where Warren dials it (resolved, unless the transport resolves it)
 */
public record UpstreamNode(String host, InetSocketAddress address) {
    public UpstreamNode {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(address, "address");
        if (host.isBlank()) {
            throw new IllegalArgumentException("upstream node host must not be blank");
        }
    }

    /** A node whose host is the address's own host string. */
    public static UpstreamNode of(InetSocketAddress address) {
        return new UpstreamNode(address.getHostString(), address);
    }

    /**
     * host:port as logs, reply texts, metrics and the admin API name it; with the address when the host is a name
     * that is not that address, e.g. {@code rabbit.example:5672 (10.0.0.5)}.
     */
    public String name() {
        String where = (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
        if (address.getAddress() == null || isAddressLiteral(host)) {
            return where;
        }
        return where + " (" + address.getAddress().getHostAddress() + ")";
    }

    private static boolean isAddressLiteral(String h) {
        return h.contains(":") || h.chars().allMatch(c -> c == '.' || Character.isDigit(c));
    }

}
