package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.warren.api.transport.Connection;
import io.warren.api.transport.TlsClientSettings;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * Against a real RabbitMQ TLS listener (manual: set WARREN_TLS_BROKER_PORT and WARREN_TLS_BROKER_CA, a CA that signed
 * the broker's certificate for localhost/127.0.0.1). The AMQP protocol header over TLS gets connection.start back.
 */
@EnabledIfEnvironmentVariable(named = "WARREN_TLS_BROKER_PORT", matches = "\\d+")
class RabbitTlsBrokerTest extends TransportTestSupport {
    private static final byte[] PROTOCOL_HEADER = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};

    private final InetSocketAddress broker = new InetSocketAddress(InetAddress.getLoopbackAddress(),
            Integer.parseInt(System.getenv("WARREN_TLS_BROKER_PORT")));
    private final TlsClientSettings tls = TlsClientSettings.verifying("localhost")
            .withCaFile(Path.of(System.getenv("WARREN_TLS_BROKER_CA")));

    @Test
    void amqpHandshakeStartsOverTls() throws Exception {
        for (String protocol : new String[] {"TLSv1.3", "TLSv1.2"}) {
            start(settings(1));
            RecordingHandler h = new RecordingHandler();
            runtime.connect(broker, runtime.eventLoops().get(0), h, tls.withProtocols(protocol));
            Connection conn = h.opened.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(conn.tlsProtocol()).contains(protocol);
            conn.write(ByteBuffer.wrap(PROTOCOL_HEADER.clone()));
            await().atMost(WAIT).until(() -> h.receivedCount() >= 7);
            byte[] frame = h.received();
            assertThat(frame[0]).isEqualTo((byte) 1); // method frame
            assertThat(frame[1]).isZero(); // channel 0
            assertThat(frame[2]).isZero();
            assertThat(new String(frame, java.nio.charset.StandardCharsets.ISO_8859_1)).contains("RabbitMQ");
            conn.close();
            awaitClosed(h);
            runtime.close();
        }
    }

    @Test
    void wrongHostNameIsRefusedByName() throws Exception {
        start(settings(1));
        RecordingHandler h = new RecordingHandler();
        runtime.connect(broker, runtime.eventLoops().get(0), h, tls.withServerName("rabbit.invalid"));
        Throwable cause = h.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(cause).hasMessageContaining("failed: certificate does not match host name 'rabbit.invalid'");
    }
}
