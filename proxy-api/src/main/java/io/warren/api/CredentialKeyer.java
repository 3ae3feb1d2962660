package io.warren.api;

/**
 * Derives the upstream pool key and upstream credentials from what a client presented.
 *
 * <p>Warren calls {@link #key} once per client handshake, on an event-loop thread, so it must be fast, must not
 * block and must be thread-safe. The returned key decides which clients share upstream connections and channels:
 * a keyer must never give one key to clients whose upstream rights differ. The default keyer
 * ({@code credentials}) keys by virtual host, user, mechanism and a salted hash of the secret, and passes the
 * client's own credentials upstream. A keyer may instead authenticate clients locally and map them to a service
 * account upstream.
 *
 * <p>Implementations need a public no-argument constructor and a {@code META-INF/services/io.warren.api.CredentialKeyer}
 * entry.
 */
public interface CredentialKeyer extends Named {
    /**
     * @param presented what the client sent in connection.start-ok and connection.open
     * @return the pool key and upstream credentials for this client
     * @throws CredentialRejectedException to refuse the client with 403 ACCESS_REFUSED without asking the broker
     */
    KeyedCredentials key(ClientCredentials presented) throws CredentialRejectedException;
}
