package io.warren.transport.nio;

import io.warren.tls.PemTls;
import io.warren.api.transport.TlsClientSettings;
import io.warren.api.transport.TlsServerSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** TLS certificates (generated once per class), JDK TLS peers (blocking sockets) for the transport to talk to. */
abstract class TlsTestSupport extends TransportTestSupport {
    @TempDir
    static Path certificates;

    static TlsFixture pki;

    @BeforeAll
    static void generateCertificates() throws IOException {
        pki = new TlsFixture(certificates);
    }

    TlsServerSettings serverSettings() {
        return TlsServerSettings.of(pki.serverCert, pki.serverKey);
    }

    TlsClientSettings clientSettings() {
        return TlsClientSettings.verifying("localhost").withCaFile(pki.caCert);
    }

    /** A JDK TLS client socket to the transport's listener, handshake done. */
    SSLSocket tlsClient(TlsClientSettings settings, int receiveBuffer) throws IOException {
        SSLContext context = PemTls.clientContext(settings);
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer);
        }
        SSLParameters p = s.getSSLParameters();
        p.setProtocols(settings.protocols().toArray(new String[0]));
        p.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(p);
        s.connect(listener.address(), (int) WAIT.toMillis());
        s.setSoTimeout((int) WAIT.toMillis());
        s.startHandshake();
        return s;
    }

    /** A JDK TLS echo server on a thread: each accepted connection echoes until the end of the stream. */
    static final class JdkTlsServer implements AutoCloseable {
        final SSLServerSocket server;
        final CopyOnWriteArrayList<Throwable> failures = new CopyOnWriteArrayList<>();
        final CopyOnWriteArrayList<SSLSocket> accepted = new CopyOnWriteArrayList<>();
        private final Thread thread;
        private final boolean echo;

        JdkTlsServer(TlsServerSettings settings, boolean echo) throws IOException {
            this.echo = echo;
            SSLContext context = PemTls.serverContext(settings);
            server = (SSLServerSocket) context.getServerSocketFactory()
                    .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
            SSLParameters p = server.getSSLParameters();
            p.setProtocols(settings.protocols().toArray(new String[0]));
            p.setNeedClientAuth(settings.clientCertificateRequired());
            server.setSSLParameters(p);
            thread = new Thread(this::acceptLoop, "jdk-tls-server");
            thread.setDaemon(true);
            thread.start();
        }

        InetSocketAddress address() {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                SSLSocket s;
                try {
                    s = (SSLSocket) server.accept();
                } catch (IOException e) {
                    return;
                }
                accepted.add(s);
                Thread t = new Thread(() -> serve(s), "jdk-tls-conn");
                t.setDaemon(true);
                t.start();
            }
        }

        private void serve(SSLSocket s) {
            try (s) {
                s.startHandshake();
                if (!echo) {
                    return;
                }
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                byte[] buffer = new byte[8192];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    out.write(buffer, 0, n);
                }
            } catch (IOException e) {
                failures.add(e);
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : accepted) {
                s.close();
            }
        }
    }
}
