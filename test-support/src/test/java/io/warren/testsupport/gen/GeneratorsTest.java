package io.warren.testsupport.gen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GeneratorsTest {
    private final SplittableRandom random = new SplittableRandom(42);

    private <T> List<T> draw(Generator<T> g, int n) {
        List<T> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(g.next(random));
        }
        return out;
    }

    @Test
    void theSameSeedGivesTheSameValues() {
        Generator<List<String>> g = Generators.unicodeStrings(0, 20).list(0, 10);
        assertThat(g.next(new SplittableRandom(7))).isEqualTo(g.next(new SplittableRandom(7)));
    }

    @Test
    void rangesHoldAndTheirEdgesComeUp() {
        List<Integer> ints = draw(Generators.ints(-3, 70_000), 2000);
        assertThat(ints).allMatch(v -> v >= -3 && v <= 70_000).contains(-3, 70_000, 0, 1, -1);
        List<Long> longs = draw(Generators.longs(0, 0xFFFF_FFFFL), 2000);
        assertThat(longs).allMatch(v -> v >= 0 && v <= 0xFFFF_FFFFL).contains(0L, 0xFFFF_FFFFL, 1L);
        assertThat(draw(Generators.longs(Long.MIN_VALUE, 0), 500)).allMatch(v -> v <= 0).contains(Long.MIN_VALUE);
        assertThat(draw(Generators.longs(), 500)).contains(Long.MIN_VALUE, Long.MAX_VALUE);
        assertThat(draw(Generators.ints(5, 5), 10)).containsOnly(5);
        assertThatThrownBy(() -> Generators.ints(2, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void floatsAndDoublesIncludeTheSpecialValues() {
        assertThat(draw(Generators.floats(), 2000)).anyMatch(f -> Float.isNaN(f))
                .contains(Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f);
        assertThat(draw(Generators.doubles(), 2000)).anyMatch(d -> Double.isNaN(d))
                .contains(Double.POSITIVE_INFINITY, Double.MIN_VALUE);
    }

    @Test
    void listsArraysAndStringsHaveTheirSizes() {
        assertThat(draw(Generators.booleans().list(2, 5), 500)).allMatch(l -> l.size() >= 2 && l.size() <= 5)
                .anyMatch(l -> l.size() == 2).anyMatch(l -> l.size() == 5);
        assertThat(draw(Generators.byteArrays(1, 3), 500)).allMatch(b -> b.length >= 1 && b.length <= 3);
        assertThat(draw(Generators.strings(Generators.charsOf("ab"), 255, 255), 10))
                .allMatch(s -> s.length() == 255 && s.chars().allMatch(c -> c == 'a' || c == 'b'));
    }

    @Test
    void unicodeStringsAreWholeCodePointsWithOneUtf8Form() {
        List<String> strings = draw(Generators.unicodeStrings(0, 30), 1000);
        assertThat(strings).allMatch(s -> s.codePointCount(0, s.length()) <= 30)
                .allMatch(s -> new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).equals(s))
                .anyMatch(s -> s.codePoints().anyMatch(c -> c > 0xFFFF))
                .anyMatch(s -> s.indexOf('\0') >= 0);
    }

    @Test
    void weightedChoicesFollowTheirOdds() {
        Map<String, Integer> counts = new HashMap<>();
        Generator<String> g = Generators.<String>weighted(6, Generators.constant("common"))
                .or(1, Generators.constant("rare"));
        draw(g, 7000).forEach(v -> counts.merge(v, 1, Integer::sum));
        assertThat(counts.get("common")).isBetween(5500, 6500);
        assertThat(counts.get("rare")).isBetween(700, 1300);
        assertThatThrownBy(() -> Generators.weighted(0, Generators.constant(1))).isInstanceOf(
                IllegalArgumentException.class);
    }

    @Test
    void mapsHaveDistinctKeysAndGiveUpWhenTheKeysRunOut() {
        assertThat(draw(Generators.maps(Generators.ints(0, 1000), Generators.booleans(), 3, 3), 100))
                .allMatch(m -> m.size() == 3);
        assertThat(draw(Generators.maps(Generators.elements("a", "b"), Generators.booleans(), 5, 5), 100))
                .allMatch(m -> m.size() == 2);
    }

    @Test
    void combinatorsComposeAndFiltersThatRejectEverythingSaySo() {
        Set<Object> values = new HashSet<>(draw(Generators.oneOf(Generators.constant("x"), Generators.ints(1, 2))
                .orNull(0.2), 500));
        assertThat(values).containsExactlyInAnyOrder("x", 1, 2, null);
        assertThat(draw(Generators.ints(0, 9).filter(v -> v % 2 == 0).map(v -> v * 10), 200))
                .allMatch(v -> v % 20 == 0);
        assertThat(draw(Generators.ints(1, 3).flatMap(n -> Generators.byteArrays(n, n)), 100))
                .allMatch(b -> b.length >= 1 && b.length <= 3);
        assertThat(Generators.sequence(List.of(Generators.constant(1), Generators.constant(2))).next(random))
                .containsExactly(1, 2);
        assertThatThrownBy(() -> Generators.ints().filter(v -> false).next(random))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("rejected 10,000");
    }
}
