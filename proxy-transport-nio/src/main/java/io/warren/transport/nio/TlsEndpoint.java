package io.warren.transport.nio;

import io.warren.api.transport.TlsClientSettings;
import io.warren.api.transport.TlsServerSettings;
import io.warren.api.transport.TlsSide;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.regex.Pattern;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * One side's TLS configuration, ready to create an {@link SSLEngine} per connection: for a client, host name
 * verification ("HTTPS" endpoint identification) and SNI for the server name unless verification is skipped; for a
 * server, client authentication when a client CA is configured. Immutable and thread-safe.
 */
final class TlsEndpoint {
    private static final Pattern IP_LITERAL = Pattern.compile("^[0-9.]+$|:");

    private final TlsSide side;
    private final SSLContext context;
    private final String serverName; // client only
    private final boolean verifyHost; // client only
    private final boolean needClientAuth; // server only
    private final String[] protocols;

    private TlsEndpoint(TlsSide side, SSLContext context, String serverName, boolean verifyHost,
            boolean needClientAuth, List<String> protocols) {
        this.side = side;
        this.context = context;
        this.serverName = serverName;
        this.verifyHost = verifyHost;
        this.needClientAuth = needClientAuth;
        this.protocols = protocols.toArray(new String[0]);
    }

    static TlsEndpoint client(SSLContext context, TlsClientSettings settings) {
        return new TlsEndpoint(TlsSide.CLIENT, context, settings.serverName(), !settings.insecureSkipVerifyDangerous(),
                false, settings.protocols());
    }

    static TlsEndpoint server(SSLContext context, TlsServerSettings settings) {
        return new TlsEndpoint(TlsSide.SERVER, context, null, false, settings.clientCertificateRequired(),
                settings.protocols());
    }

    TlsSide side() {
        return side;
    }

    SSLEngine newEngine(InetSocketAddress remote) {
        SSLEngine engine;
        if (side == TlsSide.CLIENT) {
            engine = context.createSSLEngine(serverName, remote.getPort()); // the key of the session cache
            engine.setUseClientMode(true);
        } else {
            engine = context.createSSLEngine();
            engine.setUseClientMode(false);
        }
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setProtocols(protocols);
        if (side == TlsSide.CLIENT) {
            if (verifyHost) {
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
            }
            if (!IP_LITERAL.matcher(serverName).find()) {
                parameters.setServerNames(List.of(new SNIHostName(serverName)));
            }
        } else {
            parameters.setNeedClientAuth(needClientAuth);
        }
        engine.setSSLParameters(parameters);
        return engine;
    }
}
