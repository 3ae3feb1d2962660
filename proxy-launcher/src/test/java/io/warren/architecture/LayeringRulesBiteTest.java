package io.warren.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Proves that every rule of {@link LayeringRules} can fail: each is evaluated on a fixture code base made to break it
 * (and must report the offending class), and all of them pass on a fixture that uses every allowed dependency.
 */
class LayeringRulesBiteTest {
    private static final String FIXTURES = "io.warren.architecture.fixture";

    /** Rule name, fixture root that breaks it, simple name of the class the report must name. */
    static Stream<Arguments> breakages() {
        return Stream.of(
                Arguments.of("codecDependsOnJdkOnly", "codecimportsapi", "codec.Frame"),
                Arguments.of("codecDependsOnJdkOnly", "codecimportsthirdparty", "codec.Frame"),
                Arguments.of("apiDependsOnCodecAndJdkOnly", "apiimportscore", "api.Spi"),
                Arguments.of("apiDependsOnCodecAndJdkOnly", "apiimportsthirdparty", "api.Spi"),
                Arguments.of("coreUsesOnlyTheSpisOfPlugins", "coreimportstransport", "core.Engine"),
                Arguments.of("coreUsesOnlyTheSpisOfPlugins", "coreimportspolicy", "core.Engine"),
                Arguments.of("tlsDependsOnApiAndJdkOnly", "tlsimportscore", "tls.PemTls"),
                Arguments.of("transportDependsOnApiAndCodecOnly", "transportimportscore", "transport.nio.NioSpi"),
                Arguments.of("transportDependsOnApiAndCodecOnly", "transportimportsthirdparty", "transport.nio.NioSpi"),
                Arguments.of("policyDependsOnApiAndCodecOnly", "policyimportstransport", "policy.Policy"),
                Arguments.of("launcherCompilesAgainstApiAndCoreOnly", "launcherimportspolicy", "launcher.Main"),
                Arguments.of("nothingDependsOnTheLauncher", "coreimportslauncher", "core.Engine"),
                Arguments.of("nothingDependsOnTheBenchmarks", "launcherimportsbench", "launcher.Main"),
                Arguments.of("modulesAreFreeOfCycles", "cycle", "core.Engine"),
                Arguments.of("internalPackagesArePrivateToTheirModule", "foreigninternal", "launcher.Main"),
                Arguments.of("apiHoldsOnlyInterfacesValuesAndFinalClasses", "apiconcreteclass", "api.Helper"),
                Arguments.of("apiHoldsOnlyInterfacesValuesAndFinalClasses", "apiabstractclass", "api.Base"),
                Arguments.of("enginePackagesAreFreeOfCycles", "enginecycle", "core.internal.wire.Frames"),
                Arguments.of("engineLayersPointDown", "upstreamimportsclient", "core.internal.upstream.Connection"),
                Arguments.of("engineLayersPointDown", "poolimportsclient", "core.internal.pool.Pool"),
                Arguments.of("engineLayersPointDown", "upstreamimportspool", "core.internal.upstream.Connection"),
                Arguments.of("engineLayersPointDown", "leafimportsupstream", "core.internal.screen.Screen"),
                Arguments.of("engineLayersPointDown", "clientimportsentry", "core.internal.client.Session"));
    }

    @ParameterizedTest(name = "{0} fails on fixture {1}")
    @MethodSource("breakages")
    void eachRuleFailsOnAFixtureThatBreaksIt(String rule, String fixture, String offender) {
        String root = FIXTURES + "." + fixture;
        EvaluationResult result = rule(rule, root).evaluate(importFixture(root));
        assertThat(result.hasViolation()).as("%s on %s", rule, fixture).isTrue();
        assertThat(String.join("\n", result.getFailureReport().getDetails())).contains(root + "." + offender);
    }

    @Test
    void everyRuleHasAFixtureThatBreaksIt() {
        Set<String> broken = new TreeSet<>();
        breakages().map(a -> (String) a.get()[0]).forEach(broken::add);
        assertThat(broken).containsExactlyInAnyOrderElementsOf(LayeringRules.all("x").keySet());
    }

    @Test
    void everyRulePassesOnAFixtureWithEveryAllowedDependency() {
        String root = FIXTURES + ".good";
        JavaClasses classes = importFixture(root);
        assertThat(classes).hasSizeGreaterThanOrEqualTo(13);
        Map<String, EvaluationResult> results = evaluateAll(root, rule -> rule.evaluate(classes));
        results.forEach((name, result) -> assertThat(result.hasViolation())
                .as("%s on the good fixture: %s", name, result.getFailureReport().getDetails())
                .isFalse());
    }

    @Test
    void everyRuleIsCheckedOnTheRealCode() {
        // LayeringTest must hold one @ArchTest field per rule; a rule added to LayeringRules.all() alone would not run.
        Set<String> fields = new TreeSet<>();
        for (var field : LayeringTest.class.getDeclaredFields()) {
            fields.add(field.getName());
        }
        assertThat(fields).containsAll(LayeringRules.all(LayeringRules.WARREN).keySet());
    }

    private static ArchRule rule(String name, String root) {
        ArchRule rule = LayeringRules.all(root).get(name);
        assertThat(rule).as("rule %s", name).isNotNull();
        return rule;
    }

    private static Map<String, EvaluationResult> evaluateAll(String root, Function<ArchRule, EvaluationResult> eval) {
        Map<String, EvaluationResult> out = new java.util.LinkedHashMap<>();
        LayeringRules.all(root).forEach((name, rule) -> out.put(name, eval.apply(rule)));
        return out;
    }

    private static JavaClasses importFixture(String root) {
        return new ClassFileImporter().importPackages(root);
    }
}
