package io.warren.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * The credentials Warren presents to the upstream broker for one pool key. Warren authenticates upstream with
 * SASL PLAIN.
 *
 * @param username upstream user name
 * @param password upstream password as bytes; never log it
 * @param virtualHost upstream virtual host
 */
public record UpstreamCredentials(String username, byte[] password, String virtualHost) {

    public UpstreamCredentials {
        Objects.requireNonNull(username, "username");
        password = password.clone();
        Objects.requireNonNull(virtualHost, "virtualHost");
    }

    @Override
    public byte[] password() {
        return password.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UpstreamCredentials c
                && username.equals(c.username)
                && Arrays.equals(password, c.password)
                && virtualHost.equals(c.virtualHost);
    }

    @Override
    public int hashCode() {
        return Objects.hash(username, Arrays.hashCode(password), virtualHost);
    }

    /** Never prints the password. */
    @Override
    public String toString() {
        return "UpstreamCredentials[username=" + username + ", virtualHost=" + virtualHost + ", password=***]";
    }
}
