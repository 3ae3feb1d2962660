package io.warren.launcher;

import io.warren.tls.PemTls;
import io.warren.api.transport.TlsClientSettings;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * Asks the broker, without credentials, whether it would accept an AMQP connection: sends the protocol header and
 * waits for connection.start, then hangs up (the broker logs that the client closed during the handshake). Used by
 * /readyz only while no upstream connection is open, and at most once a second. For an amqps upstream the TLS
 * handshake comes first, verified as the engine verifies it.
 */
final class UpstreamProbe {
    private static final byte[] HEADER = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};
    private static final long CACHE_NANOS = 1_000_000_000L;

    private final InetSocketAddress broker;
    private final int timeoutMillis;
    /** Guarded by this: the last answer and when it was found. */
    private String lastProblem;
    private long lastAt;
    private boolean probed;

    private final TlsClientSettings tls;

    /** @param tls the upstream's TLS settings, or null for plain AMQP */
    UpstreamProbe(InetSocketAddress broker, int timeoutMillis, TlsClientSettings tls) {
        this.broker = broker;
        this.timeoutMillis = timeoutMillis;
        this.tls = tls;
    }

    /** Null when the broker answered with connection.start, else what went wrong. */
    synchronized String problem() {
        long now = System.nanoTime();
        if (!probed || now - lastAt > CACHE_NANOS) {
            lastProblem = probe();
            lastAt = System.nanoTime();
            probed = true;
        }
        return lastProblem;
    }

    private String probe() {
        try (Socket plain = new Socket()) {
            plain.connect(broker, timeoutMillis);
            plain.setSoTimeout(timeoutMillis);
            Socket socket = plain;
            if (tls != null) {
                try {
                    socket = handshake(plain);
                } catch (SSLException e) {
                    return "TLS handshake with " + Values.formatAddress(broker) + " failed: "
                            + PemTls.describeHandshakeFailure(e);
                }
            }
            OutputStream out = socket.getOutputStream();
            out.write(HEADER);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            int type = in.readUnsignedByte();
            int channel = in.readUnsignedShort();
            in.readInt(); // payload size
            int classId = in.readUnsignedShort();
            int methodId = in.readUnsignedShort();
            if (type != 1 || channel != 0 || classId != 10 || methodId != 10) {
                return "the broker did not answer the AMQP 0-9-1 header with connection.start";
            }
            return null;
        } catch (IOException e) {
            return "cannot reach the broker at " + Values.formatAddress(broker) + ": " + e.getMessage();
        }
    }

    private SSLSocket handshake(Socket plain) throws IOException {
        SSLContext context = PemTls.clientContext(tls);
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, tls.serverName(),
                broker.getPort(), true);
        SSLParameters params = socket.getSSLParameters();
        params.setProtocols(tls.protocols().toArray(String[]::new));
        if (!tls.insecureSkipVerifyDangerous()) {
            params.setEndpointIdentificationAlgorithm("HTTPS");
        }
        if (!com.google.common.net.InetAddresses.isInetAddress(tls.serverName())) {
            params.setServerNames(List.of(new SNIHostName(tls.serverName())));
        }
        socket.setSSLParameters(params);
        socket.startHandshake();
        return socket;
    }

    @Override
    public String toString() {
        return "UpstreamProbe[" + Values.formatAddress(broker) + "]";
    }
}
