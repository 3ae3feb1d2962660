package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.SocketConfigurators;
import io.warren.api.ChannelReusePolicy;
import io.warren.api.ClientCredentials;
import io.warren.api.CredentialKeyer;
import io.warren.api.KeyedCredentials;
import io.warren.api.Providers;
import io.warren.api.transport.ProxyProtocol;
import io.warren.api.transport.TlsClientSettings;
import io.warren.api.transport.TlsServerSettings;
import io.warren.api.transport.Transport;
import io.warren.api.transport.TransportSettings;
import io.warren.core.admin.ClientView;
import io.warren.core.config.ProxyConfig;
import io.warren.testsupport.Haproxy;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.TlsTestCerts;
import io.warren.testsupport.WithRabbitBroker;
import io.warren.tls.PemTls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PROXY protocol behind a real HAProxy (Debian's, in TCP mode, {@code send-proxy} and {@code send-proxy-v2}) with a
 * real broker: the official Java client connects from 127.0.0.7, HAProxy connects to Warren from 127.0.0.1, and
 * Warren's client view and the credential keyer's input name 127.0.0.7 with the client's own port, on the plain
 * listener (v1 and v2) and on the TLS listener (v2 before the handshake). A client that bypasses HAProxy is refused
 * without a byte, and so is a header whose length lies.
 */
@WithRabbitBroker
class ProxyProtocolTest {
    private static final InetAddress CLIENT_IP = loopback("127.0.0.7");
    private static final byte[] AMQP_HEADER = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};

    static RabbitBroker broker;
    @TempDir
    static Path dir;
    static WarrenProxy warren;
    static Haproxy haproxy;
    static final List<SocketAddress> keyerPeers = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        TlsTestCerts.ensure();
        ClassLoader cl = ProxyProtocolTest.class.getClassLoader();
        CredentialKeyer credentials = Providers.load(CredentialKeyer.class, "credentials", cl);
        CredentialKeyer recording = new CredentialKeyer() {
            @Override
            public String name() {
                return "recording";
            }

            @Override
            public KeyedCredentials key(ClientCredentials presented)
                    throws io.warren.api.CredentialRejectedException {
                keyerPeers.add(presented.peer());
                return credentials.key(presented);
            }
        };
        TlsServerSettings tls = TlsServerSettings.of(Path.of(TlsTestCerts.SERVER_CERT),
                Path.of(TlsTestCerts.SERVER_KEY));
        ProxyConfig config = ProxyConfig.builder(new InetSocketAddress(broker.host(), broker.amqpPort()))
                .listen(new InetSocketAddress("127.0.0.1", 0))
                .tlsListen(new InetSocketAddress("127.0.0.1", 0), tls)
                .proxyProtocol(ProxyProtocol.REQUIRED)
                .tlsProxyProtocol(ProxyProtocol.REQUIRED)
                .build();
        warren = WarrenProxy.start(config, Providers.load(Transport.class, "nio", cl), TransportSettings.defaults(),
                recording, Providers.load(ChannelReusePolicy.class, "never", cl));
        warren.awaitNodesChecked(Duration.ofSeconds(10));
        haproxy = Haproxy.start(dir,
                new Haproxy.Route("v1", warren.listenAddress(), "send-proxy"),
                new Haproxy.Route("v2", warren.listenAddress(), "send-proxy-v2"),
                new Haproxy.Route("tls_v2", warren.tlsListenAddress().orElseThrow(), "send-proxy-v2"));
    }

    @AfterAll
    static void stop() {
        if (haproxy != null) {
            haproxy.close();
        }
        if (warren != null) {
            warren.close();
        }
    }

    @Test
    void v1HeaderFromHaproxyNamesTheRealClient() throws Exception {
        throughHaproxy("v1", false);
    }

    @Test
    void v2HeaderFromHaproxyNamesTheRealClient() throws Exception {
        throughHaproxy("v2", false);
    }

    @Test
    void v2HeaderBeforeTheTlsHandshakeNamesTheRealClient() throws Exception {
        throughHaproxy("tls_v2", true);
    }

    /** Publishes through HAProxy and checks, while connected, who Warren says the client is. */
    private void throughHaproxy(String route, boolean tls) throws Exception {
        AtomicReference<Socket> socket = new AtomicReference<>();
        ConnectionFactory f = factory(haproxy.address(route), socket);
        if (tls) {
            f.useSslProtocol(PemTls.clientContext(TlsClientSettings.verifying("localhost")
                    .withCaFile(Path.of(TlsTestCerts.CA))));
        }
        String q = "pp-" + route + "-" + UUID.randomUUID();
        try (Connection c = f.newConnection(); Channel ch = c.createChannel()) {
            InetSocketAddress me = new InetSocketAddress(CLIENT_IP, socket.get().getLocalPort());
            ch.queueDeclare(q, false, false, false, null);
            ch.basicPublish("", q, null, route.getBytes(StandardCharsets.UTF_8));
            List<ClientView> views = warren.clients().get(10, TimeUnit.SECONDS);
            assertThat(views).filteredOn(v -> v.peer().equals(me)).singleElement()
                    .satisfies(v -> assertThat(v.tls()).isEqualTo(tls))
                    .satisfies(v -> assertThat(v.user()).isEqualTo("guest"));
            assertThat(keyerPeers).contains(me);
        }
        try (Connection direct = directFactory().newConnection(); Channel ch = direct.createChannel()) {
            GetResponse r = await().atMost(Duration.ofSeconds(10)).until(() -> ch.basicGet(q, true), x -> x != null);
            assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo(route);
            ch.queueDelete(q);
        }
    }

    /** The listener requires a header: the Java client that connects straight to Warren gets no byte back. */
    @Test
    void aClientBypassingHaproxyIsRefused() {
        ConnectionFactory f = factory(warren.listenAddress(), new AtomicReference<>());
        assertThatThrownBy(f::newConnection).isInstanceOfAny(IOException.class, TimeoutException.class);
    }

    /** A v2 header whose length claims 20 bytes more than it carries, then the AMQP header: refused, no byte. */
    @Test
    void aHeaderThatLiesAboutItsLengthIsRefusedWithoutAByte() throws Exception {
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        header.writeBytes(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        header.writeBytes(ByteBuffer.allocate(16).put((byte) 0x21).put((byte) 0x11).putShort((short) (12 + 20))
                .put(CLIENT_IP.getAddress()).put(InetAddress.getLoopbackAddress().getAddress())
                .putShort((short) 40000).putShort((short) 5673).array());
        header.writeBytes(AMQP_HEADER);
        try (Socket s = new Socket()) {
            s.connect(warren.listenAddress(), 10_000);
            s.setSoTimeout(30_000);
            s.getOutputStream().write(header.toByteArray());
            int first;
            try {
                first = s.getInputStream().read();
            } catch (SocketException reset) {
                first = -1; // reset: no byte either
            }
            assertThat(first).as("first byte sent back").isEqualTo(-1);
        }
        assertThat(warren.clients().get(10, TimeUnit.SECONDS)).noneMatch(v -> v.peer().getPort() == 40000);
    }

    /** amqp-client whose socket is bound to 127.0.0.7 before it connects; the socket goes into {@code socket}. */
    private static ConnectionFactory factory(InetSocketAddress to, AtomicReference<Socket> socket) {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost(to.getHostString());
        f.setPort(to.getPort());
        f.setUsername("guest");
        f.setPassword("guest");
        f.setAutomaticRecoveryEnabled(false);
        f.setConnectionTimeout(10_000);
        f.setSocketConfigurator(SocketConfigurators.defaultConfigurator()
                .andThen(s -> {
                    s.bind(new InetSocketAddress(CLIENT_IP, 0));
                    socket.set(s);
                }));
        return f;
    }

    private static ConnectionFactory directFactory() {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost(broker.host());
        f.setPort(broker.amqpPort());
        f.setAutomaticRecoveryEnabled(false);
        return f;
    }

    private static InetAddress loopback(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
