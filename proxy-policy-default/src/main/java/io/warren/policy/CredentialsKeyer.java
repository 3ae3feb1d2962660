package io.warren.policy;

import io.warren.api.ClientCredentials;
import io.warren.api.CredentialKeyer;
import io.warren.api.CredentialRejectedException;
import io.warren.api.KeyedCredentials;
import io.warren.api.PoolKey;
import io.warren.api.UpstreamCredentials;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The default keyer, {@code credentials}: clients share upstream connections only with clients that presented exactly
 * the same virtual host, user, SASL mechanism and secret, and each pool authenticates upstream with the clients' own
 * user, secret and virtual host.
 *
 * <p>The key id reads {@code vhost=/ user=guest mech=PLAIN secret=3f2a...} where the last part is the first 16 hex
 * digits (64 bits) of HMAC-SHA256 of the secret under a 16-byte salt drawn from {@link SecureRandom} once per process
 * and never written anywhere. Key ids appear in logs and metrics; without the salt nobody can test guesses against
 * them offline, and an online guess costs a connection attempt, so 64 bits are plenty, while the prefix still tells an
 * operator whether two pools differ only by password. Virtual host, user and mechanism are percent-encoded (space,
 * {@code =}, {@code %} and non-printable characters) so that two different credential sets can never spell the same
 * id: a user called {@code "x vhost=/"} cannot impersonate another pool.
 *
 * <p>Only the password mechanisms PLAIN and AMQPLAIN are accepted: Warren authenticates upstream with a password, so
 * any other mechanism (EXTERNAL, for instance) is refused with 403 ACCESS_REFUSED rather than passed upstream with an
 * empty password. Thread-safe and non-blocking.
 */
public final class CredentialsKeyer implements CredentialKeyer {
    /** The name to select this keyer in the configuration. */
    public static final String NAME = "credentials";

    private static final String HMAC = "HmacSHA256";
    private static final int SALT_BYTES = 16;
    private static final int SHOWN_HEX_DIGITS = 16;
    private static final Set<String> MECHANISMS = Set.of("PLAIN", "AMQPLAIN");
    private static final HexFormat HEX = HexFormat.of();
    private static final HexFormat HEX_UPPER = HexFormat.of().withUpperCase();

    /** The HMAC key; immutable after construction (a {@link SecretKeySpec} copies its input). */
    private final SecretKeySpec salt;

    /**
     * A {@link Mac} is stateful, so each thread keeps its own, keyed once with this instance's salt: the provider
     * lookup and init cost more than the digest itself, twice per client. {@code doFinal} leaves it keyed and reset.
     */
    private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);

    /** Uses the process-wide salt, so every instance in one process gives the same keys. */
    public CredentialsKeyer() {
        this(ProcessSalt.VALUE);
    }

    /** For tests: a fixed salt. */
    CredentialsKeyer(byte[] salt) {
        if (salt.length != SALT_BYTES) {
            throw new IllegalArgumentException("salt must be " + SALT_BYTES + " bytes, got " + salt.length);
        }
        this.salt = new SecretKeySpec(salt, HMAC);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public KeyedCredentials key(ClientCredentials presented) throws CredentialRejectedException {
        String mechanism = presented.mechanism();
        if (!MECHANISMS.contains(mechanism)) {
            throw new CredentialRejectedException("SASL mechanism " + encode(mechanism)
                    + " is not supported by this proxy; use PLAIN or AMQPLAIN");
        }
        byte[] secret = presented.secret();
        try {
            String digest = HEX.formatHex(hmac(secret)).substring(0, SHOWN_HEX_DIGITS);
            PoolKey key = new PoolKey("vhost=" + encode(presented.virtualHost())
                    + " user=" + encode(presented.username())
                    + " mech=" + encode(mechanism)
                    + " secret=" + digest);
            return new KeyedCredentials(key,
                    new UpstreamCredentials(presented.username(), secret, presented.virtualHost()));
        } finally {
            Arrays.fill(secret, (byte) 0); // our copy; UpstreamCredentials keeps its own
        }
    }

    private byte[] hmac(byte[] secret) {
        return macs.get().doFinal(secret);
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(salt);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(HMAC + " is required of every Java platform", e);
        }
    }

    /**
     * Percent-encodes space, {@code =}, {@code %} and every character outside printable ASCII (as UTF-8 bytes), so
     * that an encoded field contains no separator and the whole id decodes to one credential set only.
     */
    static String encode(String field) {
        StringBuilder out = new StringBuilder(field.length() + 8);
        byte[] utf8 = field.getBytes(StandardCharsets.UTF_8);
        for (byte b : utf8) {
            int c = b & 0xff;
            if (c > 0x20 && c < 0x7f && c != '=' && c != '%') {
                out.append((char) c);
            } else {
                out.append('%').append(HEX_UPPER.toHexDigits(b));
            }
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return "CredentialsKeyer[" + NAME + "]";
    }

    /** Drawn on first use, once per class loader (so once per process for the launcher). */
    private static final class ProcessSalt {
        static final byte[] VALUE = new byte[SALT_BYTES];

        static {
            new SecureRandom().nextBytes(VALUE);
        }
    }
}
