package io.warren.launcher;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The TCP sockets in LISTEN state on this host's network namespace, from Linux's {@code /proc/net/tcp} and
 * {@code /proc/net/tcp6}: how a Warren that starts beside a running one (a restart without dropped clients) sees that
 * another process listens on its address too. IPv4-mapped IPv6 addresses (Java's sockets on a dual-stack host) are
 * given as IPv4.
 */
final class ListeningSockets {
    static final Path TCP = Path.of("/proc/net/tcp");
    static final Path TCP6 = Path.of("/proc/net/tcp6");
    /** The kernel's TCP_LISTEN, as the {@code st} column prints it. */
    private static final String LISTEN = "0A";

    private ListeningSockets() {}

    /**
     * How many sockets listen on exactly {@code address} (this process's own included), or empty where the kernel
     * does not say (not Linux).
     */
    static Optional<Integer> count(InetSocketAddress address) {
        try {
            List<InetSocketAddress> listening = new ArrayList<>(parse(read(TCP)));
            listening.addAll(parse(read(TCP6)));
            return Optional.of((int) listening.stream().filter(address::equals).count());
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static String read(Path file) throws IOException {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            return ""; // no IPv6 on this host
        }
    }

    /**
     * The local addresses of the LISTEN sockets in the text of {@code /proc/net/tcp} or {@code /proc/net/tcp6}: a
     * heading line, then one line per socket, {@code sl local_address rem_address st ...}, an address printed as the
     * hex of its 32-bit words in the host's byte order, a colon and the port in hex.
     *
     * @throws IllegalArgumentException naming the line that is not in that format
     */
    static List<InetSocketAddress> parse(String text) {
        List<InetSocketAddress> listening = new ArrayList<>();
        String[] lines = text.split("\n");
        for (int i = 1; i < lines.length; i++) { // line 0 is the heading
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] fields = line.split("\\s+");
            if (fields.length < 4) {
                throw new IllegalArgumentException("line " + (i + 1) + " has " + fields.length
                        + " fields, expected at least 4 (sl local_address rem_address st): " + line);
            }
            if (fields[3].equals(LISTEN)) {
                listening.add(address(fields[1], i + 1));
            }
        }
        return listening;
    }

    private static InetSocketAddress address(String field, int lineNumber) {
        int colon = field.indexOf(':');
        String hex = colon < 0 ? "" : field.substring(0, colon);
        if ((hex.length() != 8 && hex.length() != 32) || field.length() - colon - 1 != 4) {
            throw new IllegalArgumentException("line " + lineNumber + ": local address '" + field
                    + "' is not ADDRESS:PORT with 8 or 32 hex digits and 4 for the port");
        }
        try {
            int port = Integer.parseInt(field.substring(colon + 1), 16);
            ByteBuffer bytes = ByteBuffer.allocate(hex.length() / 2);
            for (int word = 0; word < hex.length(); word += 8) {
                // each word printed as a number: its bytes in memory are the host's order
                int value = (int) Long.parseLong(hex.substring(word, word + 8), 16);
                bytes.put(ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array());
            }
            // getByAddress gives an IPv4-mapped address (::ffff:a.b.c.d) as the IPv4 address
            return new InetSocketAddress(InetAddress.getByAddress(bytes.array()), port);
        } catch (NumberFormatException | UnknownHostException e) {
            throw new IllegalArgumentException("line " + lineNumber + ": local address '" + field
                    + "' is not hex: " + e.getMessage(), e);
        }
    }
}
