package io.warren.bench;

import io.warren.api.ChannelReusePolicy;
import io.warren.api.CredentialKeyer;
import io.warren.api.Providers;
import io.warren.api.transport.TlsClientSettings;
import io.warren.api.transport.Transport;
import io.warren.api.transport.TransportSettings;
import io.warren.core.config.ProxyConfig;
import io.warren.core.WarrenProxy;
import java.io.IOException;
import java.net.InetSocketAddress;

/** Starts an in-process Warren the way the launcher does: transport and policies found through ServiceLoader. */
public final class Warren {
    private Warren() {}

    /**
     * @param upstreamHost broker (or relay) host
     * @param upstreamPort broker (or relay) port
     * @param policy reuse policy name, e.g. {@code never} (reuse off) or {@code publish-safe} (reuse on)
     */
    public static WarrenProxy start(String upstreamHost, int upstreamPort, String policy) throws IOException {
        return start(upstreamHost, upstreamPort, policy, null);
    }

    /**
     * The same with the upstream in amqps: Warren speaks TLS to {@code upstreamHost:upstreamPort}, verifying the
     * broker's certificate as {@code upstreamTls} says; clients still connect in plain AMQP on loopback.
     *
     * @param upstreamTls null for plain AMQP upstream
     */
    public static WarrenProxy start(String upstreamHost, int upstreamPort, String policy,
            TlsClientSettings upstreamTls) throws IOException {
        ClassLoader cl = Warren.class.getClassLoader();
        ProxyConfig config = ProxyConfig.builder(new InetSocketAddress(upstreamHost, upstreamPort))
                .listen(new InetSocketAddress("127.0.0.1", 0))
                .upstreamTls(upstreamTls)
                .build();
        return WarrenProxy.start(config,
                Providers.load(Transport.class, "nio", cl),
                TransportSettings.defaults(),
                Providers.load(CredentialKeyer.class, "credentials", cl),
                Providers.load(ChannelReusePolicy.class, policy, cl));
    }
}
