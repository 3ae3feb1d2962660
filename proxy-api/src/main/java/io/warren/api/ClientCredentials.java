package io.warren.api;

import java.net.SocketAddress;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * What a client presented to Warren during its handshake.
 *
 * @param mechanism the SASL mechanism the client chose, e.g. {@code PLAIN} or {@code AMQPLAIN}
 * @param username the user name from the SASL response
 * @param secret the password (or token) as bytes, exactly as presented; never log it
 * @param virtualHost the virtual host from connection.open
 * @param peer the client's address
 * @param clientCertificate the client's TLS certificate when it connected over TLS with one
 */
public record ClientCredentials(
        String mechanism,
        String username,
        byte[] secret,
        String virtualHost,
        SocketAddress peer,
        Optional<X509Certificate> clientCertificate) {

    public ClientCredentials {
        Objects.requireNonNull(mechanism, "mechanism");
        Objects.requireNonNull(username, "username");
        secret = secret.clone();
        Objects.requireNonNull(virtualHost, "virtualHost");
        Objects.requireNonNull(clientCertificate, "clientCertificate");
    }

    @Override
    public byte[] secret() {
        return secret.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClientCredentials c
                && mechanism.equals(c.mechanism)
                && username.equals(c.username)
                && Arrays.equals(secret, c.secret)
                && virtualHost.equals(c.virtualHost)
                && Objects.equals(peer, c.peer)
                && clientCertificate.equals(c.clientCertificate);
    }

    @Override
    public int hashCode() {
        return Objects.hash(mechanism, username, Arrays.hashCode(secret), virtualHost, peer);
    }

    /** Never prints the secret. */
    @Override
    public String toString() {
        return "ClientCredentials[mechanism=" + mechanism + ", username=" + username + ", virtualHost=" + virtualHost
                + ", peer=" + peer + ", secret=***]";
    }
}
