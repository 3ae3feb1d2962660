package io.warren.api;

/** Test-only SPIs and providers, registered in src/test/resources/META-INF/services. */
public final class TestSpis {
    private TestSpis() {}

    /** Two well-behaved providers (alpha, beta-two); {@link GammaGreeter} is registered only by a test class loader. */
    public interface Greeter extends Named {}

    public static final class AlphaGreeter implements Greeter {
        @Override
        public String name() {
            return "alpha";
        }
    }

    public static final class BetaGreeter implements Greeter {
        @Override
        public String name() {
            return "beta-two";
        }
    }

    public static final class GammaGreeter implements Greeter {
        @Override
        public String name() {
            return "gamma";
        }
    }

    /** Two providers that claim one name. */
    public interface ClashingService extends Named {}

    public static final class FirstClash implements ClashingService {
        @Override
        public String name() {
            return "same";
        }
    }

    public static final class SecondClash implements ClashingService {
        @Override
        public String name() {
            return "same";
        }
    }

    /** One provider whose constructor throws, one that works. */
    public interface ExplodingService extends Named {}

    public static final class ExplodingProvider implements ExplodingService {
        public ExplodingProvider() {
            throw new IllegalStateException("boom");
        }

        @Override
        public String name() {
            return "exploding";
        }
    }

    public static final class CalmProvider implements ExplodingService {
        @Override
        public String name() {
            return "calm";
        }
    }

    /** A provider whose name breaks {@link Named}'s rules. */
    public interface BadNameService extends Named {}

    public static final class BadNameProvider implements BadNameService {
        @Override
        public String name() {
            return "Bad_Name";
        }
    }

    /** A provider whose name() is null. */
    public interface NullNameService extends Named {}

    public static final class NullNameProvider implements NullNameService {
        @Override
        public String name() {
            return null;
        }
    }

    /** A services file that lists a class that does not exist. */
    public interface MissingClassService extends Named {}

    /** No provider at all. */
    public interface UnusedService extends Named {}
}
