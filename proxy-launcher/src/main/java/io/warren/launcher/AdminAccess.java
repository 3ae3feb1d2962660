package io.warren.launcher;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Optional;

/**
 * Who may use the admin API. With an {@code admin-token-file}, every request needs {@code Authorization: Bearer
 * TOKEN}; without one, only an HTTP endpoint on a loopback address answers (anyone who can reach a loopback port is
 * on the host already), and elsewhere the admin API is off. Metrics and health never ask. The token is replaced whole
 * by a reload.
 */
final class AdminAccess {
    /** The bearer token; never printed. */
    record Token(String value) {
        @Override
        public String toString() {
            return "Token[***]";
        }
    }

    private final boolean loopback;
    private final String where;
    private volatile byte[] token; // null: none configured

    AdminAccess(InetSocketAddress http, Optional<Token> token) {
        this.loopback = http.getAddress() != null && http.getAddress().isLoopbackAddress();
        this.where = Values.formatAddress(http);
        update(token);
    }

    void update(Optional<Token> next) {
        token = next.map(t -> t.value().getBytes(StandardCharsets.UTF_8)).orElse(null);
    }

    /** Whether the admin API answers at all (for the start-up log line). */
    boolean enabled() {
        return token != null || loopback;
    }

    /** @throws AdminApi.Refusal 401 without a token, 403 with a wrong one or while the admin API is off */
    void check(String authorization) throws AdminApi.Refusal {
        byte[] expected = token;
        if (expected == null) {
            if (loopback) {
                return;
            }
            throw new AdminApi.Refusal(403, "the admin API is off: HTTP listens on " + where + ", which is not a"
                    + " loopback address, and no admin-token-file is set");
        }
        if (authorization == null || authorization.isBlank()) {
            throw new AdminApi.Refusal(401, "this admin API needs 'Authorization: Bearer TOKEN' (the token of"
                    + " admin-token-file)", Map.of("WWW-Authenticate", "Bearer realm=\"warren-admin\""));
        }
        String presented = authorization.strip();
        if (!presented.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new AdminApi.Refusal(401, "the Authorization header must be 'Bearer TOKEN'",
                    Map.of("WWW-Authenticate", "Bearer realm=\"warren-admin\""));
        }
        // Constant time: a wrong token tells nothing of how much of it was right.
        if (!MessageDigest.isEqual(expected, presented.substring(7).strip().getBytes(StandardCharsets.UTF_8))) {
            throw new AdminApi.Refusal(403, "wrong admin token");
        }
    }
}
