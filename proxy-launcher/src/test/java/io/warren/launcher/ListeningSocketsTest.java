package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class ListeningSocketsTest {
    private static final String TCP_HEADING = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt"
            + "   uid  timeout inode\n";
    private static final String TCP6_HEADING = "  sl  local_address                         remote_address"
            + "                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

    private static InetSocketAddress at(String host, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(host), port);
    }

    @Test
    void readsTheListeningSocketsOfTcpAndSkipsTheOthers() throws Exception {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "the samples are from a little-endian host");
        String text = TCP_HEADING
                + "   0: 0100007F:1629 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 81 1 0"
                + " 100 0 0 10 0\n"
                + "   1: 00000000:3D69 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 82 1 0"
                + " 100 0 0 10 0\n"
                + "   2: 0100007F:1629 0100007F:D3A2 01 00000000:00000000 00:00000000 00000000  1000        0 83 1 0"
                + " 20 4 30 10 -1\n"
                + "   3: 0100007F:1629 0100007F:D3A4 06 00000000:00000000 03:00000F7A 00000000     0        0 0 3 0\n";
        assertThat(ListeningSockets.parse(text)).containsExactly(at("127.0.0.1", 5673), at("0.0.0.0", 15721));
    }

    @Test
    void readsTcp6WithIpv4MappedAddressesAsIpv4() throws Exception {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "the samples are from a little-endian host");
        String text = TCP6_HEADING
                + "   0: 00000000000000000000000001000000:1629 00000000000000000000000000000000:0000 0A 00000000:00000000"
                + " 00:00000000 00000000  1000        0 91 1 0 100 0 0 10 0\n"
                + "   1: 0000000000000000FFFF00000100007F:1629 00000000000000000000000000000000:0000 0A 00000000:00000000"
                + " 00:00000000 00000000  1000        0 92 1 0 100 0 0 10 0\n"
                + "   2: 00000000000000000000000000000000:1111 00000000000000000000000000000000:0000 0A 00000000:00000000"
                + " 00:00000000 00000000   104        0 93 1 0 100 0 0 10 0\n"
                + "   3: B80D0120000000000000000001000000:1629 00000000000000000000000000000000:0000 0A 00000000:00000000"
                + " 00:00000000 00000000  1000        0 94 1 0 100 0 0 10 0\n";
        assertThat(ListeningSockets.parse(text)).containsExactly(at("::1", 5673), at("127.0.0.1", 5673),
                at("::", 4369), at("2001:db8::1", 5673));
    }

    @Test
    void anEmptyTableHasNoSockets() {
        assertThat(ListeningSockets.parse(TCP_HEADING)).isEmpty();
        assertThat(ListeningSockets.parse("")).isEmpty();
    }

    @Test
    void aLineNotInTheKernelsFormatIsNamed() {
        assertThatThrownBy(() -> ListeningSockets.parse(TCP_HEADING + "   0: 0100007F:1629 00000000:0000\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("line 2 has 3 fields, expected at least 4 (sl local_address rem_address st):"
                        + " 0: 0100007F:1629 00000000:0000");
        assertThatThrownBy(() -> ListeningSockets.parse(TCP_HEADING + "   0: 0100007F 00000000:0000 0A x\n"))
                .hasMessage("line 2: local address '0100007F' is not ADDRESS:PORT with 8 or 32 hex digits and 4 for"
                        + " the port");
        assertThatThrownBy(() -> ListeningSockets.parse(TCP_HEADING + "   0: 0100007G:1629 00000000:0000 0A x\n"))
                .hasMessageStartingWith("line 2: local address '0100007G:1629' is not hex: ");
        assertThatThrownBy(() -> ListeningSockets.parse(TCP_HEADING + "   0: 0100007F:16 00000000:0000 0A x\n"))
                .hasMessageStartingWith("line 2: local address '0100007F:16' is not ADDRESS:PORT");
    }

    /** The kernel's own tables, with real sockets: one listener, then a second beside it (SO_REUSEPORT). */
    @Test
    void countsTheSocketsListeningOnAnAddressOnThisHost() throws Exception {
        assumeTrue(Files.isReadable(ListeningSockets.TCP), "not Linux");
        try (ServerSocketChannel first = ServerSocketChannel.open()) {
            first.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            first.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            InetSocketAddress address = (InetSocketAddress) first.getLocalAddress();
            assertThat(ListeningSockets.count(address)).contains(1);
            try (ServerSocketChannel second = ServerSocketChannel.open()) {
                second.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                second.bind(address);
                assertThat(ListeningSockets.count(address)).contains(2);
            }
            assertThat(ListeningSockets.count(address)).contains(1);
        }
    }
}
