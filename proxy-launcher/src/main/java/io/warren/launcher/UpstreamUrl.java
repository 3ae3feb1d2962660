package io.warren.launcher;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * The upstream broker's URL, {@code amqp://host[:port]}. Warren authenticates upstream with each client's own
 * credentials and virtual host, so a user, password or path in the URL is not used; {@link #masked()} is the only
 * form ever printed.
 *
 * @param host the host as written (an IPv6 literal without brackets)
 * @param port the port, 5672 when the URL has none
 * @param tls whether the scheme is amqps
 * @param masked the URL with any password replaced by {@code ***}
 * @param ignoredParts what the URL carried that Warren does not use (user info, virtual host), or empty
 */
record UpstreamUrl(String host, int port, boolean tls, String masked, String ignoredParts) {

    static UpstreamUrl parse(String text) {
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            // The message of the exception repeats the input, which may hold a password: give the reason only.
            throw new IllegalArgumentException("not a URL (" + e.getReason() + " at index " + e.getIndex()
                    + "); expected amqp://host[:port]");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("amqp") && !scheme.equals("amqps")) {
            throw new IllegalArgumentException("unsupported scheme '" + scheme + "'; expected amqp://host[:port]");
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("no host; expected amqp://host[:port]");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        boolean tls = scheme.equals("amqps");
        int port = uri.getPort() < 0 ? (tls ? 5671 : 5672) : uri.getPort();
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range 1..65535");
        }
        String user = uri.getRawUserInfo();
        String maskedUser = "";
        StringBuilder ignored = new StringBuilder();
        if (user != null) {
            int colon = user.indexOf(':');
            maskedUser = (colon < 0 ? user : user.substring(0, colon) + ":***") + "@";
            ignored.append("user info");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        if (!path.isEmpty() && !path.equals("/")) {
            ignored.append(ignored.length() == 0 ? "" : " and ").append("virtual host");
        }
        String shownHost = host.contains(":") ? "[" + host + "]" : host;
        String masked = scheme + "://" + maskedUser + shownHost + ":" + port + path;
        return new UpstreamUrl(host, port, tls, masked, ignored.toString());
    }

    @Override
    public String toString() {
        return masked;
    }
}
