package io.warren.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.api.transport.ProxyProtocol;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** The listeners' PROXY protocol modes need a restart: a reload keeps the running ones and names them. */
class ProxyConfigProxyProtocolTest {
    private static final InetSocketAddress UPSTREAM = new InetSocketAddress("127.0.0.1", 5672);

    @Test
    void offByDefault() {
        ProxyConfig c = ProxyConfig.defaults(UPSTREAM);
        assertThat(c.proxyProtocol()).isEqualTo(ProxyProtocol.OFF);
        assertThat(c.tlsProxyProtocol()).isEqualTo(ProxyProtocol.OFF);
    }

    @Test
    void aReloadKeepsTheRunningModesAndTheyAreTheDifferencesThatNeedARestart() {
        ProxyConfig running = ProxyConfig.defaults(UPSTREAM);
        ProxyConfig next = running.toBuilder().proxyProtocol(ProxyProtocol.REQUIRED)
                .tlsProxyProtocol(ProxyProtocol.OPTIONAL).maxConnections(7).build();
        ProxyConfig applied = running.reloadedWith(next);
        assertThat(applied.proxyProtocol()).isEqualTo(ProxyProtocol.OFF);
        assertThat(applied.tlsProxyProtocol()).isEqualTo(ProxyProtocol.OFF);
        assertThat(applied.maxConnections()).isEqualTo(7);
        assertThat(running.differences(applied)).containsExactly("maxConnections");
        assertThat(applied.differences(next)).containsExactly("proxyProtocol", "tlsProxyProtocol");
        assertThat(ProxyConfig.RELOADABLE).doesNotContain("proxyProtocol", "tlsProxyProtocol");
    }
}
