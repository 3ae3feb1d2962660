package io.warren.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.RecordComponent;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which components a reload applies and which wait for a restart. */
class ProxyConfigReloadTest {
    private static final InetSocketAddress NODE_A = new InetSocketAddress("127.0.0.1", 5672);
    private static final InetSocketAddress NODE_B = new InetSocketAddress("127.0.0.2", 5672);
    private final ProxyConfig running = ProxyConfig.defaults(NODE_A);

    @Test
    void aReloadTakesTheLiveComponentsAndKeepsTheRest() {
        ProxyConfig file = running.toBuilder()
                .maxConnections(7)
                .clientHeartbeat(Duration.ofSeconds(11))
                .upstreams(List.of(UpstreamNode.of(NODE_A), UpstreamNode.of(NODE_B)))
                .listen(new InetSocketAddress("127.0.0.1", 1))
                .frameMax(8192)
                .build();
        ProxyConfig applied = running.reloadedWith(file);
        assertThat(applied.maxConnections()).isEqualTo(7);
        assertThat(applied.clientHeartbeat()).isEqualTo(Duration.ofSeconds(11));
        assertThat(applied.upstreams()).hasSize(2);
        assertThat(applied.listen()).isEqualTo(running.listen());
        assertThat(applied.frameMax()).isEqualTo(running.frameMax());
        assertThat(running.differences(applied)).containsExactly("upstreams", "clientHeartbeat", "maxConnections");
        assertThat(applied.differences(file)).containsExactly("listen", "frameMax");
    }

    @Test
    void theSameFileChangesNothing() {
        assertThat(running.differences(running.reloadedWith(running.toBuilder().build()))).isEmpty();
    }

    @Test
    void everyComponentIsEitherReloadableOrKeptByReloadedWith() {
        // A component added to ProxyConfig must be put on one side: RELOADABLE, or kept in reloadedWith.
        List<String> names = Arrays.stream(ProxyConfig.class.getRecordComponents()).map(RecordComponent::getName)
                .toList();
        assertThat(names).containsAll(ProxyConfig.RELOADABLE);
        ProxyConfig everythingElse = running.toBuilder()
                .listen(new InetSocketAddress("127.0.0.1", 1))
                .frameMax(8192)
                .upstreamConnectTimeout(Duration.ofSeconds(3))
                .plainListener(true)
                .build();
        List<String> kept = running.reloadedWith(everythingElse).differences(everythingElse);
        for (String n : names) {
            if (!ProxyConfig.RELOADABLE.contains(n)) {
                assertThat(List.of("listen", "frameMax", "upstreamConnectTimeout", "plainListener", "upstreamTls",
                        "tlsListen", "proxyProtocol", "tlsProxyProtocol")).as(n + " is neither reloadable nor known to need a restart").contains(n);
            }
        }
        assertThat(kept).containsExactly("listen", "frameMax", "upstreamConnectTimeout");
    }
}
