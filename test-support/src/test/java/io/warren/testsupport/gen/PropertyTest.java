package io.warren.testsupport.gen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PropertyTest {

    @AfterEach
    void clearSeed() {
        System.clearProperty(Property.SEED_PROPERTY);
    }

    @Test
    void checksTheFixedCasesThenTheRunsCases() {
        List<Integer> seen = new ArrayList<>();
        Property.forAll(Generators.ints()).cases(30).runCases(7).check(seen::add);
        assertThat(seen).hasSize(37);
        List<Integer> again = new ArrayList<>();
        Property.forAll(Generators.ints()).cases(30).runCases(0).check(again::add);
        assertThat(again).as("the fixed cases are the same every time").isEqualTo(seen.subList(0, 30));
    }

    @Test
    void theFixedSeedAndTheNameChooseTheCases() {
        List<Integer> a = new ArrayList<>();
        Property.forAll(Generators.ints()).cases(20).runCases(0).seed(1).check(a::add);
        List<Integer> b = new ArrayList<>();
        Property.forAll(Generators.ints()).cases(20).runCases(0).seed(2).check(b::add);
        assertThat(a).isNotEqualTo(b);
        assertThat(otherName()).isNotEqualTo(a.subList(0, 20)).hasSize(20);
    }

    private static List<Integer> otherName() {
        List<Integer> c = new ArrayList<>();
        Property.forAll(Generators.ints()).cases(20).runCases(0).seed(1).check(c::add);
        return c;
    }

    @Test
    void aFailureNamesTheSeedThatReproducesItAndTheInput() {
        Generator<Integer> ints = Generators.ints(0, 1000);
        Property<Integer> p = Property.forAll(ints).cases(500).runCases(0);
        Throwable failure = catchFailure(() -> p.check(v -> assertThat(v).isLessThan(900)));
        assertThat(failure).isInstanceOf(AssertionError.class)
                .hasMessageContaining("PropertyTest#aFailureNamesTheSeedThatReproducesItAndTheInput failed on case ")
                .hasMessageContaining("of the fixed seed 20261202")
                .hasMessageContaining("Check only this case: -Dwarren.seed=");
        Matcher m = Pattern.compile("-Dwarren\\.seed=(-?\\d+)\\n  Input: (\\d+)").matcher(failure.getMessage());
        assertThat(m.find()).as(failure.getMessage()).isTrue();
        long seed = Long.parseLong(m.group(1));
        int input = Integer.parseInt(m.group(2));
        assertThat(input).isGreaterThanOrEqualTo(900);
        assertThat(ints.next(new SplittableRandom(seed))).isEqualTo(input);

        System.setProperty(Property.SEED_PROPERTY, Long.toString(seed));
        List<Integer> rerun = new ArrayList<>();
        assertThatThrownBy(() -> p.check(v -> {
            rerun.add(v);
            assertThat(v).isLessThan(900);
        })).hasMessageContaining("the case of -Dwarren.seed=" + seed);
        assertThat(rerun).containsExactly(input);
    }

    @Test
    void bytesAreShownInHex() {
        assertThat(Property.describe(new byte[] {0, 15, -1})).isEqualTo("[3 bytes] 000fff");
        assertThat(Property.describe(new int[] {1, 2})).isEqualTo("[1, 2]");
        assertThat(Property.describe("x".repeat(5000))).endsWith("... (5000 characters)").hasSize(4000 + "... (5000 characters)".length());
    }

    private static Throwable catchFailure(Runnable r) {
        try {
            r.run();
        } catch (Throwable t) {
            return t;
        }
        throw new AssertionError("the property did not fail");
    }
}
