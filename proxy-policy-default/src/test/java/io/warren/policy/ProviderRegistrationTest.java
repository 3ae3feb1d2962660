package io.warren.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.api.ChannelReusePolicy;
import io.warren.api.CredentialKeyer;
import io.warren.api.Providers;
import org.junit.jupiter.api.Test;

/** The services files register what the configuration names. */
class ProviderRegistrationTest {
    private final ClassLoader loader = getClass().getClassLoader();

    @Test
    void reusePoliciesAreFoundByName() {
        assertThat(Providers.names(ChannelReusePolicy.class, loader)).containsExactly("never", "publish-safe");
        assertThat(Providers.load(ChannelReusePolicy.class, "publish-safe", loader))
                .isInstanceOf(PublishSafePolicy.class);
        assertThat(Providers.load(ChannelReusePolicy.class, "never", loader)).isInstanceOf(NeverReusePolicy.class);
    }

    @Test
    void theKeyerIsFoundByName() {
        assertThat(Providers.names(CredentialKeyer.class, loader)).containsExactly("credentials");
        assertThat(Providers.load(CredentialKeyer.class, "credentials", loader)).isInstanceOf(CredentialsKeyer.class);
    }
}
