package io.warren.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProvidersTest {
    private final ClassLoader loader = ProvidersTest.class.getClassLoader();

    @Test
    void loadsTheProviderWithTheGivenName() {
        assertThat(Providers.load(TestSpis.Greeter.class, "alpha", loader)).isInstanceOf(TestSpis.AlphaGreeter.class);
        assertThat(Providers.load(TestSpis.Greeter.class, "beta-two", loader))
                .isInstanceOf(TestSpis.BetaGreeter.class);
    }

    @Test
    void eachLoadReturnsANewInstance() {
        assertThat(Providers.load(TestSpis.Greeter.class, "alpha", loader))
                .isNotSameAs(Providers.load(TestSpis.Greeter.class, "alpha", loader));
    }

    @Test
    void namesAreSortedAndUnmodifiable() {
        var names = Providers.names(TestSpis.Greeter.class, loader);
        assertThat(names).containsExactly("alpha", "beta-two");
        assertThatThrownBy(() -> names.add("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void unknownNameListsTheNamesFoundAndTheSpi() {
        assertThatThrownBy(() -> Providers.load(TestSpis.Greeter.class, "gamma", loader))
                .isInstanceOf(ProviderLookupException.class)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'gamma'")
                .hasMessageContaining("alpha, beta-two")
                .hasMessageContaining(TestSpis.Greeter.class.getName());
    }

    @Test
    void namesAreMatchedExactly() {
        assertThatThrownBy(() -> Providers.load(TestSpis.Greeter.class, "Alpha", loader))
                .isInstanceOf(ProviderLookupException.class);
        assertThatThrownBy(() -> Providers.load(TestSpis.Greeter.class, " alpha", loader))
                .isInstanceOf(ProviderLookupException.class);
    }

    @Test
    void anSpiWithoutProvidersSaysSo() {
        assertThat(Providers.names(TestSpis.UnusedService.class, loader)).isEmpty();
        assertThatThrownBy(() -> Providers.load(TestSpis.UnusedService.class, "any", loader))
                .isInstanceOf(ProviderLookupException.class)
                .hasMessageContaining("found none")
                .hasMessageContaining(TestSpis.UnusedService.class.getName());
    }

    @Test
    void twoProvidersWithOneNameIsAnErrorNamingBothClasses() {
        assertThatThrownBy(() -> Providers.load(TestSpis.ClashingService.class, "same", loader))
                .isInstanceOf(ProviderLookupException.class)
                .hasMessageContaining("'same'")
                .hasMessageContaining(TestSpis.FirstClash.class.getName())
                .hasMessageContaining(TestSpis.SecondClash.class.getName());
        assertThatThrownBy(() -> Providers.names(TestSpis.ClashingService.class, loader))
                .isInstanceOf(ProviderLookupException.class);
    }

    @Test
    void aProviderWhoseConstructorThrowsIsAnErrorNamingTheClass() {
        assertThatThrownBy(() -> Providers.load(TestSpis.ExplodingService.class, "calm", loader))
                .isInstanceOf(ProviderLookupException.class)
                .hasMessageContaining(TestSpis.ExplodingProvider.class.getName())
                .hasMessageContaining("boom")
                .hasRootCauseInstanceOf(IllegalStateException.class);
    }

    @Test
    void aProviderWithAnInvalidNameIsAnErrorNamingTheClass() {
        assertThatThrownBy(() -> Providers.names(TestSpis.BadNameService.class, loader))
                .isInstanceOf(ProviderLookupException.class)
                .hasMessageContaining(TestSpis.BadNameProvider.class.getName())
                .hasMessageContaining("'Bad_Name'");
        assertThatThrownBy(() -> Providers.names(TestSpis.NullNameService.class, loader))
                .isInstanceOf(ProviderLookupException.class)
                .hasMessageContaining(TestSpis.NullNameProvider.class.getName())
                .hasMessageContaining("null");
    }

    @Test
    void aListedClassThatDoesNotExistIsAnErrorNamingIt() {
        assertThatThrownBy(() -> Providers.names(TestSpis.MissingClassService.class, loader))
                .isInstanceOf(ProviderLookupException.class)
                .hasMessageContaining("DoesNotExist")
                .hasMessageContaining(TestSpis.MissingClassService.class.getName());
    }

    @Test
    void looksOnlyWhereTheGivenLoaderLooks() throws IOException {
        try (var isolated = new URLClassLoader(new URL[0], ClassLoader.getPlatformClassLoader())) {
            assertThat(Providers.names(TestSpis.Greeter.class, isolated)).isEmpty();
        }
    }

    @Test
    void findsProvidersThatOnlyAChildLoaderRegisters(@TempDir Path dir) throws IOException {
        Path services = Files.createDirectories(dir.resolve("META-INF/services"));
        Files.writeString(services.resolve(TestSpis.Greeter.class.getName()),
                TestSpis.GammaGreeter.class.getName() + "\n", StandardCharsets.UTF_8);
        try (var plugins = new URLClassLoader(new URL[] {dir.toUri().toURL()}, loader)) {
            assertThat(Providers.names(TestSpis.Greeter.class, plugins)).containsExactly("alpha", "beta-two", "gamma");
            assertThat(Providers.load(TestSpis.Greeter.class, "gamma", plugins))
                    .isInstanceOf(TestSpis.GammaGreeter.class);
        }
        assertThat(Providers.names(TestSpis.Greeter.class, loader)).containsExactly("alpha", "beta-two");
    }

    @Test
    void aDuplicateInAChildLoaderIsCaughtToo(@TempDir Path dir) throws IOException {
        Path services = Files.createDirectories(dir.resolve("META-INF/services"));
        // A plugin jar that brings a second provider called "alpha".
        Files.writeString(services.resolve(TestSpis.Greeter.class.getName()),
                TestSpis.GammaGreeter.class.getName() + "\n" + AlphaImpostor.class.getName() + "\n",
                StandardCharsets.UTF_8);
        try (var plugins = new URLClassLoader(new URL[] {dir.toUri().toURL()}, loader)) {
            assertThatThrownBy(() -> Providers.load(TestSpis.Greeter.class, "gamma", plugins))
                    .isInstanceOf(ProviderLookupException.class)
                    .hasMessageContaining(TestSpis.AlphaGreeter.class.getName())
                    .hasMessageContaining(AlphaImpostor.class.getName());
        }
    }

    /** Registered only by {@link #aDuplicateInAChildLoaderIsCaughtToo}. */
    public static final class AlphaImpostor implements TestSpis.Greeter {
        @Override
        public String name() {
            return "alpha";
        }
    }
}
