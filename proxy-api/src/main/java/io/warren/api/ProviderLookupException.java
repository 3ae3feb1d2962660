package io.warren.api;

/**
 * A configured implementation name could not be resolved to exactly one provider: the name is unknown, two providers
 * claim it, or a provider could not be created or reported an invalid name. It is a startup error; the message is
 * meant for the operator and names the SPI, the classes involved and, for an unknown name, the names found.
 */
public final class ProviderLookupException extends IllegalArgumentException {
    public ProviderLookupException(String message) {
        super(message);
    }

    public ProviderLookupException(String message, Throwable cause) {
        super(message, cause);
    }
}
