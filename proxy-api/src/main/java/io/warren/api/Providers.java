package io.warren.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Resolves the implementation names written in the configuration to providers found through {@link ServiceLoader}.
 *
 * <p>Every lookup creates every provider of the SPI that {@code loader} can see (a provider's name is only known
 * once it exists), so a provider's constructor must be cheap and free of side effects. A lookup fails as a whole,
 * with a {@link ProviderLookupException}, when any provider of the SPI is broken (its class cannot be loaded or its
 * constructor throws), reports a name that is not made of lower-case letters, digits and dashes, or shares its name
 * with another provider: a broken plugin jar is reported at startup even when another implementation is selected.
 *
 * <p>Thread-safe; each call does its own loading and returns new instances.
 */
public final class Providers {
    /** What {@link Named#name()} promises. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");

    private Providers() {}

    /**
     * Creates the provider of {@code spi} named {@code name}.
     *
     * @param spi the service interface, e.g. {@code ChannelReusePolicy.class}
     * @param name the name from the configuration, matched exactly (case-sensitive)
     * @param loader where to look for {@code META-INF/services/<spi name>} entries (and their classes)
     * @return a new instance of the one provider with that name
     * @throws ProviderLookupException when no provider has that name (the message lists the names found, sorted),
     *     or when the SPI's providers are broken or ambiguous as described in the class comment
     */
    public static <T extends Named> T load(Class<T> spi, String name, ClassLoader loader) {
        Objects.requireNonNull(name, "name");
        Map<String, T> byName = loadAll(spi, loader);
        T found = byName.get(name);
        if (found == null) {
            throw new ProviderLookupException("unknown " + spi.getSimpleName() + " '" + name + "'; found "
                    + (byName.isEmpty() ? "none" : String.join(", ", byName.keySet()))
                    + " (providers of " + spi.getName() + ")");
        }
        return found;
    }

    /**
     * The names of every provider of {@code spi} that {@code loader} can see, sorted.
     *
     * @throws ProviderLookupException when the SPI's providers are broken or ambiguous as described in the class
     *     comment
     */
    public static <T extends Named> List<String> names(Class<T> spi, ClassLoader loader) {
        return Collections.unmodifiableList(new ArrayList<>(loadAll(spi, loader).keySet()));
    }

    /** Every provider, by name, sorted by name. */
    private static <T extends Named> Map<String, T> loadAll(Class<T> spi, ClassLoader loader) {
        Objects.requireNonNull(spi, "spi");
        Objects.requireNonNull(loader, "loader");
        Map<String, T> byName = new TreeMap<>();
        List<ServiceLoader.Provider<T>> providers;
        try {
            providers = ServiceLoader.load(spi, loader).stream().toList();
        } catch (ServiceConfigurationError e) {
            // A listed class that is missing or does not implement the SPI; the JDK's message names it.
            throw new ProviderLookupException("cannot list providers of " + spi.getName() + ": " + e.getMessage(), e);
        }
        for (ServiceLoader.Provider<T> provider : providers) {
            T instance = create(spi, provider);
            String name = nameOf(spi, provider, instance);
            T previous = byName.putIfAbsent(name, instance);
            if (previous != null) {
                throw new ProviderLookupException("two providers of " + spi.getName() + " are named '" + name + "': "
                        + previous.getClass().getName() + " and " + instance.getClass().getName());
            }
        }
        return byName;
    }

    private static <T extends Named> T create(Class<T> spi, ServiceLoader.Provider<T> provider) {
        try {
            return provider.get();
        } catch (ServiceConfigurationError | RuntimeException | LinkageError e) {
            Throwable cause = e instanceof ServiceConfigurationError && e.getCause() != null ? e.getCause() : e;
            throw new ProviderLookupException("cannot create provider " + provider.type().getName() + " of "
                    + spi.getName() + ": " + cause, cause);
        }
    }

    private static <T extends Named> String nameOf(Class<T> spi, ServiceLoader.Provider<T> provider, T instance) {
        String name;
        try {
            name = instance.name();
        } catch (RuntimeException e) {
            throw new ProviderLookupException("provider " + provider.type().getName() + " of " + spi.getName()
                    + " failed to report its name: " + e, e);
        }
        if (name == null || !NAME.matcher(name).matches()) {
            throw new ProviderLookupException("provider " + provider.type().getName() + " of " + spi.getName()
                    + " has an invalid name " + (name == null ? "null" : "'" + name + "'")
                    + "; names are lower-case letters, digits and single dashes");
        }
        return name;
    }
}
