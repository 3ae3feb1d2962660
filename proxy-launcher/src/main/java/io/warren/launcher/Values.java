package io.warren.launcher;

import com.google.common.net.HostAndPort;
import com.google.common.net.InetAddresses;
import io.warren.api.transport.ProxyProtocol;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses and formats the value types of the configuration. Every parse method throws {@link IllegalArgumentException}
 * with a short text saying what was expected; {@link Settings} prefixes it with the key and source.
 */
final class Values {
    private static final Pattern DURATION = Pattern.compile("(\\d{1,12})(ms|s|m|h|d)");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,18})([kmg]i?b?|b)?");
    private static final long KIB = 1024;

    private Values() {}

    /** {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 1d}, or {@code 0}. */
    static Duration parseDuration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = DURATION.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration; use a number with a unit:"
                    + " 250ms, 30s, 5m, 1h, 1d (or 0)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    /** The shortest exact spelling: 30s, 5m, 250ms, 0. */
    static String formatDuration(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) {
            return "0";
        }
        long[] units = {86_400_000L, 3_600_000L, 60_000L, 1000L};
        String[] names = {"d", "h", "m", "s"};
        for (int i = 0; i < units.length; i++) {
            if (ms % units[i] == 0) {
                return ms / units[i] + names[i];
            }
        }
        return ms + "ms";
    }

    /** A byte count: {@code 1048576}, {@code 512k}, {@code 128m}, {@code 1g} (binary multiples). */
    static long parseSize(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        Matcher m = SIZE.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size; use bytes or a number with k, m or g"
                    + " (KiB, MiB, GiB), e.g. 128m");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2);
        long factor = switch (unit.charAt(0)) {
            case 'k' -> KIB;
            case 'm' -> KIB * KIB;
            case 'g' -> KIB * KIB * KIB;
            default -> 1;
        };
        if (n > Long.MAX_VALUE / factor) {
            throw new IllegalArgumentException("'" + text + "' is too large");
        }
        return n * factor;
    }

    /** {@code auto} ({@link io.warren.core.config.ProxyConfig#AUTO_SIZE}: the engine computes it) or a size. */
    static long parseSizeOrAuto(String text) {
        if (text.trim().equalsIgnoreCase("auto")) {
            return io.warren.core.config.ProxyConfig.AUTO_SIZE;
        }
        long n = parseSize(text);
        if (n == 0) {
            throw new IllegalArgumentException("'" + text + "' is not a usable size; give a size such as 64m, or auto");
        }
        return n;
    }

    static String formatSize(long bytes) {
        String[] names = {"g", "m", "k"};
        long[] units = {KIB * KIB * KIB, KIB * KIB, KIB};
        for (int i = 0; i < units.length; i++) {
            if (bytes != 0 && bytes % units[i] == 0) {
                return bytes / units[i] + names[i];
            }
        }
        return Long.toString(bytes);
    }

    static int parseInt(String text) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a whole number");
        }
    }

    /** {@code HOST:PORT}, IPv6 in brackets ({@code [::1]:5673}); the host is resolved now. */
    static InetSocketAddress parseAddress(String text) {
        HostAndPort hp;
        try {
            hp = HostAndPort.fromString(text.trim()).requireBracketsForIPv6();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not HOST:PORT (" + e.getMessage()
                    + "); write IPv6 addresses in brackets, e.g. [::1]:5673");
        }
        if (!hp.hasPort() || hp.getHost().isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' is not HOST:PORT; both parts are needed,"
                    + " e.g. 127.0.0.1:5673");
        }
        return resolve(hp.getHost(), hp.getPort(), text);
    }

    /** {@code HOST:PORT} or just {@code HOST} (then {@code defaultPort}), IPv6 in brackets. */
    static InetSocketAddress parseAddress(String text, int defaultPort) {
        HostAndPort hp;
        try {
            hp = HostAndPort.fromString(text.trim()).requireBracketsForIPv6();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not HOST[:PORT] (" + e.getMessage()
                    + "); write IPv6 addresses in brackets, e.g. [::1]:" + defaultPort);
        }
        if (hp.getHost().isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' has no host, e.g. 127.0.0.1:" + defaultPort);
        }
        return resolve(hp.getHost(), hp.getPortOrDefault(defaultPort), text);
    }

    /** {@code true} or {@code false} (also yes/no, on/off, 1/0), for flags given in the environment or the file. */
    /** off, optional or required (any case). */
    static ProxyProtocol parseProxyProtocol(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "off" -> ProxyProtocol.OFF;
            case "optional" -> ProxyProtocol.OPTIONAL;
            case "required" -> ProxyProtocol.REQUIRED;
            default -> throw new IllegalArgumentException("'" + text.strip() + "' is not one of off, optional,"
                    + " required");
        };
    }

    static String formatProxyProtocol(ProxyProtocol mode) {
        return mode.name().toLowerCase(Locale.ROOT);
    }

    static boolean parseBoolean(String text) {
        return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw new IllegalArgumentException("'" + text + "' is not true or false");
        };
    }

    static InetSocketAddress resolve(String host, int port, String shown) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("'" + shown + "' has port " + port + ", outside 0..65535");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve host '" + host + "'");
        }
    }

    /** HOST:PORT with brackets around an IPv6 literal. */
    static String formatAddress(InetSocketAddress a) {
        String host = a.getHostString();
        if (InetAddresses.isInetAddress(host)) {
            host = InetAddresses.toAddrString(InetAddresses.forString(host)); // ::1, not 0:0:0:0:0:0:0:1
        }
        return HostAndPort.fromParts(host, a.getPort()).toString();
    }
}
