package io.warren.transport.nio;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/** Formats socket addresses for messages as {@code host:port} (no leading slash, IPv6 in brackets). */
final class Addresses {
    private Addresses() {}

    static String format(InetSocketAddress address) {
        if (address == null) {
            return "?";
        }
        InetAddress ip = address.getAddress();
        String host = ip != null ? ip.getHostAddress() : address.getHostString();
        if (host.indexOf(':') >= 0) {
            host = "[" + host + "]";
        }
        return host + ":" + address.getPort();
    }
}
