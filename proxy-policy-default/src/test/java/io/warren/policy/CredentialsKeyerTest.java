package io.warren.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.warren.api.ClientCredentials;
import io.warren.api.CredentialRejectedException;
import io.warren.api.KeyedCredentials;
import io.warren.api.UpstreamCredentials;
import io.warren.testsupport.gen.Generator;
import io.warren.testsupport.gen.Generators;
import io.warren.testsupport.gen.Property;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class CredentialsKeyerTest {
    private static final byte[] SALT = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f");

    private final CredentialsKeyer keyer = new CredentialsKeyer(SALT);

    private static ClientCredentials creds(String mechanism, String user, String secret, String vhost) {
        return new ClientCredentials(mechanism, user, secret.getBytes(StandardCharsets.UTF_8), vhost,
                new InetSocketAddress("127.0.0.1", 40000), Optional.empty());
    }

    private static ClientCredentials guest() {
        return creds("PLAIN", "guest", "guest-password", "/");
    }

    private String id(ClientCredentials c) throws CredentialRejectedException {
        return keyer.key(c).key().id();
    }

    @Test
    void isNamedCredentials() {
        assertThat(keyer.name()).isEqualTo("credentials").isEqualTo(CredentialsKeyer.NAME);
    }

    @Test
    void theKeyIdNamesVhostUserMechanismAndAHashPrefix() throws Exception {
        assertThat(id(guest())).matches("vhost=/ user=guest mech=PLAIN secret=[0-9a-f]{16}");
    }

    @Test
    void sameCredentialsGiveTheSameKeyAndUpstreamCredentials() throws Exception {
        KeyedCredentials a = keyer.key(guest());
        KeyedCredentials b = keyer.key(creds("PLAIN", "guest", "guest-password", "/"));
        assertThat(a).isEqualTo(b);
        assertThat(a.key()).isEqualTo(b.key());
    }

    @Test
    void thePeerDoesNotChangeTheKey() throws Exception {
        ClientCredentials other = new ClientCredentials("PLAIN", "guest", "guest-password".getBytes(StandardCharsets.UTF_8),
                "/", new InetSocketAddress("127.0.0.1", 50000), Optional.empty());
        assertThat(keyer.key(other).key()).isEqualTo(keyer.key(guest()).key());
    }

    @Test
    void eachPartOfTheCredentialsChangesTheKey() throws Exception {
        String base = id(guest());
        assertThat(id(creds("PLAIN", "guest", "other-password", "/"))).isNotEqualTo(base);
        assertThat(id(creds("PLAIN", "guest", "guest-password", "/prod"))).isNotEqualTo(base);
        assertThat(id(creds("PLAIN", "admin", "guest-password", "/"))).isNotEqualTo(base);
        assertThat(id(creds("AMQPLAIN", "guest", "guest-password", "/"))).isNotEqualTo(base);
    }

    @Test
    void fieldsCannotBeForgedWithSeparators() throws Exception {
        // Without escaping, both would read "vhost=/ user=x user=y mech=PLAIN secret=...".
        String a = id(creds("PLAIN", "y", "pw", "/ user=x"));
        String b = id(creds("PLAIN", "x user=y", "pw", "/"));
        assertThat(a).isNotEqualTo(b);
        assertThat(a).isEqualTo("vhost=/%20user%3Dx user=y mech=PLAIN secret=" + a.substring(a.length() - 16));
        assertThat(id(creds("PLAIN", "line\nbreak", "pw", "/"))).contains("user=line%0Abreak ");
        assertThat(id(creds("PLAIN", "100%", "pw", "/"))).contains("user=100%25 ");
        assertThat(id(creds("PLAIN", "jürgen", "pw", "/"))).contains("user=j%C3%BCrgen ");
    }

    /** The shown digest as a fresh, freshly keyed Mac computes it: what the keyer's per-thread Mac must match. */
    private static String freshDigest(byte[] salt, String secret) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(salt, "HmacSHA256"));
        return HexFormat.of().formatHex(mac.doFinal(secret.getBytes(StandardCharsets.UTF_8))).substring(0, 16);
    }

    private static String shownDigest(CredentialsKeyer k, String secret) throws Exception {
        String id = k.key(creds("PLAIN", "guest", secret, "/")).key().id();
        return id.substring(id.length() - 16);
    }

    @Test
    void theDigestIsAFreshMacsOnEveryCallAndThread() throws Exception {
        byte[] otherSalt = SALT.clone();
        otherSalt[15] = 42;
        CredentialsKeyer other = new CredentialsKeyer(otherSalt);
        List<String> secrets = List.of("guest-password", "", "x", "guest-password", "jürgen-ü");
        Callable<Void> check = () -> {
            for (int round = 0; round < 3; round++) {
                for (String secret : secrets) { // the two keyers interleaved on one thread keep their own salts
                    assertThat(shownDigest(keyer, secret)).isEqualTo(freshDigest(SALT, secret));
                    assertThat(shownDigest(other, secret)).isEqualTo(freshDigest(otherSalt, secret));
                }
            }
            return null;
        };
        check.call();
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<Void>> runs = threads.invokeAll(List.of(check, check, check, check));
            for (Future<Void> run : runs) {
                run.get();
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void theSaltChangesTheHash() throws Exception {
        byte[] otherSalt = SALT.clone();
        otherSalt[0] = 1;
        assertThat(new CredentialsKeyer(otherSalt).key(guest()).key()).isNotEqualTo(keyer.key(guest()).key());
    }

    @Test
    void instancesInOneProcessShareTheSalt() throws Exception {
        assertThat(new CredentialsKeyer().key(guest())).isEqualTo(new CredentialsKeyer().key(guest()));
        assertThat(new CredentialsKeyer().key(guest()).key()).isNotEqualTo(keyer.key(guest()).key());
    }

    @Test
    void aSaltOfTheWrongSizeIsRefused() {
        assertThatThrownBy(() -> new CredentialsKeyer(new byte[8])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void upstreamCredentialsAreTheClientsOwn() throws Exception {
        UpstreamCredentials up = keyer.key(creds("AMQPLAIN", "svc", "s3cret", "/prod")).upstream();
        assertThat(up.username()).isEqualTo("svc");
        assertThat(up.password()).isEqualTo("s3cret".getBytes(StandardCharsets.UTF_8));
        assertThat(up.virtualHost()).isEqualTo("/prod");
    }

    @Test
    void anEmptySecretIsKeyedToo() throws Exception {
        assertThat(id(creds("PLAIN", "guest", "", "/"))).isNotEqualTo(id(guest()));
    }

    @Test
    void mechanismsOtherThanPasswordsAreRefusedWithoutTheSecret() {
        assertThatThrownBy(() -> keyer.key(creds("EXTERNAL", "CN=client", "hunter2-secret", "/")))
                .isInstanceOf(CredentialRejectedException.class)
                .hasMessageContaining("EXTERNAL")
                .hasMessageNotContaining("hunter2-secret");
        assertThatThrownBy(() -> keyer.key(creds("plain", "guest", "pw", "/")))
                .isInstanceOf(CredentialRejectedException.class);
    }

    private record Login(String secret, String user, String vhost) {}

    @Test
    void theKeyNeverContainsTheSecret() {
        Generator<String> secrets = Generators.unicodeStrings(6, 40);
        Generator<String> users = Generators.strings(Generators.charsOf(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), 0, 20);
        Generator<String> vhosts = Generators.unicodeStrings(0, 20);
        Generator<Login> logins = r -> new Login(secrets.next(r), users.next(r), vhosts.next(r));
        Property.forAll(logins.filter(l -> !l.user.contains(l.secret) && !l.vhost.contains(l.secret)))
                .cases(1000).check(l -> {
                    byte[] bytes = l.secret.getBytes(StandardCharsets.UTF_8);
                    KeyedCredentials keyed = keyer.key(creds("PLAIN", l.user, l.secret, l.vhost));
                    String shown = keyed.key().id() + " " + keyed.key() + " " + keyed + " " + keyed.upstream();
                    assertThat(shown)
                            .doesNotContain(l.secret)
                            .doesNotContainIgnoringCase(HexFormat.of().formatHex(bytes))
                            .doesNotContain(Base64.getEncoder().encodeToString(bytes))
                            .doesNotContain(CredentialsKeyer.encode(l.secret));
                    assertThat(keyed.upstream().password()).isEqualTo(bytes);
                });
    }

    @Test
    void differentSecretsGiveDifferentKeys() {
        Generator<String> secrets = Generators.unicodeStrings(0, 30);
        Generator<List<String>> pairs = secrets.list(2, 2);
        Property.forAll(pairs.filter(p -> !p.get(0).equals(p.get(1)))).cases(1000).check(p ->
                assertThat(id(creds("PLAIN", "guest", p.get(0), "/"))).isNotEqualTo(id(creds("PLAIN", "guest", p.get(1),
                        "/"))));
    }
}
