package io.warren.api;

/** An implementation that the configuration selects by a stable name. */
public interface Named {
    /**
     * The name an operator writes in the configuration to select this implementation, for example
     * {@code publish-safe}. It must be constant for the life of the class, unique among providers of the same SPI,
     * and made of words of lower-case letters and digits joined by single dashes ({@code [a-z0-9]+(-[a-z0-9]+)*}).
     * {@link Providers} refuses a provider that breaks any of these rules. Called once per lookup; it must not
     * throw.
     */
    String name();
}
