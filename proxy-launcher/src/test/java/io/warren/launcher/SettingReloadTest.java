package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.core.config.ProxyConfig;
import java.util.EnumSet;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Which keys a reload applies: the launcher's list and the engine's must agree. */
class SettingReloadTest {
    @Test
    void anEngineKeyIsReloadableExactlyWhenTheEngineAppliesItsComponentLive() {
        for (Setting s : Setting.values()) {
            s.engineField().ifPresent(field -> assertThat(s.reloadable()).as(s.key())
                    .isEqualTo(ProxyConfig.RELOADABLE.contains(field)));
        }
    }

    @Test
    void everyLiveEngineComponentHasAKeyThatSetsIt() {
        Set<String> reached = new TreeSet<>();
        for (Setting s : Setting.values()) {
            s.engineField().ifPresent(reached::add);
        }
        reached.add("upstreams"); // upstream
        reached.add("tlsListenSettings"); // tls-cert, tls-key, tls-client-ca
        assertThat(reached).containsAll(ProxyConfig.RELOADABLE);
    }

    @Test
    void whereAndHowWarrenListensAndWhatItLoadsNeedARestart() {
        Set<Setting> restart = EnumSet.noneOf(Setting.class);
        for (Setting s : Setting.values()) {
            if (!s.reloadable()) {
                restart.add(s);
            }
        }
        assertThat(restart).contains(Setting.LISTEN, Setting.TLS_LISTEN, Setting.NO_PLAIN_LISTENER, Setting.HTTP,
                Setting.TRANSPORT, Setting.CREDENTIAL_KEYER, Setting.REUSE_POLICY, Setting.EVENT_LOOPS,
                Setting.ACCEPT_BACKLOG, Setting.FRAME_MAX, Setting.UPSTREAM_CA, Setting.UPSTREAM_CERT,
                Setting.UPSTREAM_KEY, Setting.UPSTREAM_INSECURE_SKIP_VERIFY, Setting.UPSTREAM_CONNECT_TIMEOUT,
                Setting.PROXY_PROTOCOL, Setting.TLS_PROXY_PROTOCOL);
        assertThat(Setting.LOG_LEVEL.reloadable()).isTrue();
        assertThat(Setting.MAX_CONNECTIONS.reloadable()).isTrue();
        assertThat(Setting.TLS_CERT.reloadable()).isTrue();
        assertThat(Setting.UPSTREAM.reloadable()).isTrue();
    }
}
