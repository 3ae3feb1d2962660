package io.warren.api;

/**
 * Thrown by a {@link CredentialKeyer} that refuses a client outright (for example local credentials that do not
 * match). The client is closed with 403 ACCESS_REFUSED and this message as reply text, so the message must not
 * contain a secret.
 */
public final class CredentialRejectedException extends Exception {
    public CredentialRejectedException(String message) {
        super(message);
    }
}
