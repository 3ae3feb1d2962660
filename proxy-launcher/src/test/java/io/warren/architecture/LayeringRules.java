package io.warren.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The module layering of DESIGN.md as ArchUnit rules, written once against a root package so that
 * {@link LayeringTest} checks them on {@code io.warren} and {@link LayeringRulesBiteTest} proves that each one fails
 * on fixture packages built to break it.
 *
 * <p>Modules map to top packages under the root: {@code codec}, {@code api}, {@code core}, {@code transport}
 * (proxy-transport-nio), {@code policy} (proxy-policy-default), {@code launcher}, {@code bench}. "The JDK" means the
 * packages {@code java..}, {@code javax..} and {@code jdk..}; plugin modules may also log through SLF4J. Every rule allows an empty selection, because some
 * modules are still skeletons; the bite test is what shows a rule is not vacuous.
 */
public final class LayeringRules {
    /** The real root. */
    public static final String WARREN = "io.warren";

    private static final String[] JDK = {"java..", "javax..", "jdk.."};

    /** The logging facade: allowed in the engine and plugins (the launcher binds it), never in codec or API. */
    private static final String LOGGING = "org.slf4j..";

    private LayeringRules() {}

    /** Every rule, by a stable name, for checking a whole code base at once. */
    public static Map<String, ArchRule> all(String root) {
        Map<String, ArchRule> rules = new LinkedHashMap<>();
        rules.put("codecDependsOnJdkOnly", codecDependsOnJdkOnly(root));
        rules.put("apiDependsOnCodecAndJdkOnly", apiDependsOnCodecAndJdkOnly(root));
        rules.put("coreUsesOnlyTheSpisOfPlugins", coreUsesOnlyTheSpisOfPlugins(root));
        rules.put("tlsDependsOnApiAndJdkOnly", tlsDependsOnApiAndJdkOnly(root));
        rules.put("transportDependsOnApiAndCodecOnly", transportDependsOnApiAndCodecOnly(root));
        rules.put("policyDependsOnApiAndCodecOnly", policyDependsOnApiAndCodecOnly(root));
        rules.put("launcherCompilesAgainstApiAndCoreOnly", launcherCompilesAgainstApiAndCoreOnly(root));
        rules.put("nothingDependsOnTheLauncher", nothingDependsOnTheLauncher(root));
        rules.put("nothingDependsOnTheBenchmarks", nothingDependsOnTheBenchmarks(root));
        rules.put("modulesAreFreeOfCycles", modulesAreFreeOfCycles(root));
        rules.put("internalPackagesArePrivateToTheirModule", internalPackagesArePrivateToTheirModule(root));
        rules.put("apiHoldsOnlyInterfacesValuesAndFinalClasses", apiHoldsOnlyInterfacesValuesAndFinalClasses(root));
        rules.put("enginePackagesAreFreeOfCycles", enginePackagesAreFreeOfCycles(root));
        rules.put("engineLayersPointDown", engineLayersPointDown(root));
        return rules;
    }

    /** proxy-codec: the wire format, JDK only. */
    public static ArchRule codecDependsOnJdkOnly(String root) {
        return classes().that().resideInAPackage(pkg(root, "codec"))
                .should().onlyDependOnClassesThat().resideInAnyPackage(with(JDK, pkg(root, "codec")))
                .because("the codec is the bottom layer and depends on the JDK only")
                .allowEmptyShould(true);
    }

    /** proxy-api: SPIs and value types over the codec. */
    public static ArchRule apiDependsOnCodecAndJdkOnly(String root) {
        return classes().that().resideInAPackage(pkg(root, "api"))
                .should().onlyDependOnClassesThat()
                .resideInAnyPackage(with(JDK, pkg(root, "api"), pkg(root, "codec")))
                .because("third parties implement the SPIs against proxy-api and proxy-codec alone")
                .allowEmptyShould(true);
    }

    /** proxy-core reaches transports and policies only through their SPIs, found by ServiceLoader. */
    public static ArchRule coreUsesOnlyTheSpisOfPlugins(String root) {
        return noClasses().that().resideInAPackage(pkg(root, "core"))
                .should().dependOnClassesThat().resideInAnyPackage(pkg(root, "transport"), pkg(root, "policy"))
                .because("the engine sees the default transport and policies exactly as it sees a third-party jar")
                .allowEmptyShould(true);
    }

    /** proxy-tls: PEM files and TLS contexts, over the API's TLS settings and the JDK. */
    public static ArchRule tlsDependsOnApiAndJdkOnly(String root) {
        return classes().that().resideInAPackage(pkg(root, "tls"))
                .should().onlyDependOnClassesThat().resideInAnyPackage(with(JDK, pkg(root, "tls"), pkg(root, "api")))
                .because("the transport and the launcher's config checks share it; it must not bring either along")
                .allowEmptyShould(true);
    }

    /** proxy-transport-nio implements the transport SPI and nothing else (its TLS contexts come from proxy-tls). */
    public static ArchRule transportDependsOnApiAndCodecOnly(String root) {
        return pluginDependsOnApiAndCodecOnly(root, "transport", pkg(root, "tls"));
    }

    /** proxy-policy-default implements the keyer and reuse SPIs and nothing else. */
    public static ArchRule policyDependsOnApiAndCodecOnly(String root) {
        return pluginDependsOnApiAndCodecOnly(root, "policy");
    }

    private static ArchRule pluginDependsOnApiAndCodecOnly(String root, String module, String... alsoAllowed) {
        return classes().that().resideInAPackage(pkg(root, module))
                .should().onlyDependOnClassesThat()
                .resideInAnyPackage(with(with(JDK, pkg(root, module), pkg(root, "api"), pkg(root, "codec"), LOGGING),
                        alsoAllowed))
                .because("a plugin module is built like a third-party jar: against proxy-api and proxy-codec only"
                        + " (and the logging facade), never the engine or another plugin")
                .allowEmptyShould(true);
    }

    /** proxy-launcher has transport-nio and policy-default at runtime scope only. */
    public static ArchRule launcherCompilesAgainstApiAndCoreOnly(String root) {
        return noClasses().that().resideInAPackage(pkg(root, "launcher"))
                .should().dependOnClassesThat().resideInAnyPackage(pkg(root, "transport"), pkg(root, "policy"),
                        pkg(root, "bench"))
                .because("the launcher finds the default transport and policies through ServiceLoader by name")
                .allowEmptyShould(true);
    }

    public static ArchRule nothingDependsOnTheLauncher(String root) {
        return noClasses().that().resideOutsideOfPackage(pkg(root, "launcher"))
                .should().dependOnClassesThat().resideInAPackage(pkg(root, "launcher"))
                .because("the launcher is the top of the graph")
                .allowEmptyShould(true);
    }

    public static ArchRule nothingDependsOnTheBenchmarks(String root) {
        return noClasses().that().resideOutsideOfPackage(pkg(root, "bench"))
                .should().dependOnClassesThat().resideInAPackage(pkg(root, "bench"))
                .because("benchmarks may use anything and nothing may use them")
                .allowEmptyShould(true);
    }

    /** No two modules (top packages under the root) depend on each other, directly or through others. */
    public static ArchRule modulesAreFreeOfCycles(String root) {
        return slices().matching(root + ".(*)..").namingSlices("module $1")
                .should().beFreeOfCycles()
                .allowEmptyShould(true);
    }

    /** {@code root.X..internal..} is used only from {@code root.X..}. */
    public static ArchRule internalPackagesArePrivateToTheirModule(String root) {
        return classes().that().resideInAPackage(root + "..")
                .should(stayOutOfOtherModulesInternals(root))
                .because("internal packages are implementation details of their module, not API")
                .allowEmptyShould(true);
    }

    /**
     * proxy-api's public types are interfaces, records, enums, annotations, exceptions or final classes: nothing a
     * third party could subclass and come to depend on.
     */
    public static ArchRule apiHoldsOnlyInterfacesValuesAndFinalClasses(String root) {
        return classes().that().resideInAPackage(pkg(root, "api")).and().arePublic()
                .should(beInterfaceRecordEnumExceptionOrFinal())
                .because("proxy-api holds SPIs and final value types only; implementations live elsewhere")
                .allowEmptyShould(true);
    }

    /** Inside proxy-core, no two packages depend on each other, directly or through others. */
    public static ArchRule enginePackagesAreFreeOfCycles(String root) {
        return slices().matching(root + ".core.(**)").namingSlices("engine package $1")
                .should().beFreeOfCycles()
                .allowEmptyShould(true);
    }

    /**
     * proxy-core's layers call down only (docs/architecture.md): the entry point ({@code core}, WarrenProxy) over
     * {@code client} (one client connection) over {@code pool} (the pools by key) over {@code upstream} (one broker
     * connection) over the leaves ({@code wire}, {@code limits}, {@code screen}, the stats, the config and the admin
     * views). A lower layer reaches a higher one only through interfaces it defines itself, which the higher one
     * implements.
     */
    public static ArchRule engineLayersPointDown(String root) {
        String core = root + ".core";
        String internal = core + ".internal";
        return layeredArchitecture().consideringOnlyDependenciesInLayers()
                .withOptionalLayers(true)
                .layer("entry").definedBy(core)
                .layer("client").definedBy(internal + ".client..")
                .layer("pool").definedBy(internal + ".pool..")
                .layer("upstream").definedBy(internal + ".upstream..")
                .layer("leaves").definedBy(internal + ".wire..", internal + ".limits..", internal + ".screen..",
                        internal + ".stats..", core + ".config..", core + ".stats..", core + ".admin..")
                .whereLayer("entry").mayNotBeAccessedByAnyLayer()
                .whereLayer("client").mayOnlyBeAccessedByLayers("entry")
                .whereLayer("pool").mayOnlyBeAccessedByLayers("entry", "client")
                .whereLayer("upstream").mayOnlyBeAccessedByLayers("entry", "client", "pool")
                .because("upstream and pool never import client, upstream never imports pool, and the leaves import"
                        + " none of the layers above them");
    }

    private static ArchCondition<JavaClass> beInterfaceRecordEnumExceptionOrFinal() {
        return new ArchCondition<>("be an interface, record, enum, annotation, exception or final class") {
            @Override
            public void check(JavaClass item, ConditionEvents events) {
                boolean ok = item.isInterface() || item.isRecord() || item.isEnum() || item.isAnnotation()
                        || item.isAssignableTo(Throwable.class) || item.getModifiers().contains(JavaModifier.FINAL);
                if (!ok) {
                    events.add(SimpleConditionEvent.violated(item,
                            item.getName() + " is a public class that is neither final nor an interface, record, enum,"
                                    + " annotation or exception"));
                }
            }
        };
    }

    private static ArchCondition<JavaClass> stayOutOfOtherModulesInternals(String root) {
        return new ArchCondition<>("use no internal package of another module") {
            @Override
            public void check(JavaClass item, ConditionEvents events) {
                Optional<String> from = module(root, item.getPackageName());
                for (Dependency dependency : item.getDirectDependenciesFromSelf()) {
                    String target = dependency.getTargetClass().getBaseComponentType().getPackageName();
                    Optional<String> to = module(root, target);
                    if (to.isPresent() && isInternal(target) && !to.equals(from)) {
                        events.add(SimpleConditionEvent.violated(item, dependency.getDescription()
                                + " reaches into module " + to.get() + "'s internal package " + target));
                    }
                }
            }
        };
    }

    /** The first package segment under the root, for a package inside it. */
    private static Optional<String> module(String root, String packageName) {
        String prefix = root + ".";
        if (!packageName.startsWith(prefix)) {
            return Optional.empty();
        }
        String rest = packageName.substring(prefix.length());
        int dot = rest.indexOf('.');
        return Optional.of(dot < 0 ? rest : rest.substring(0, dot));
    }

    private static boolean isInternal(String packageName) {
        return packageName.endsWith(".internal") || packageName.contains(".internal.");
    }

    private static String pkg(String root, String module) {
        return root + "." + module + "..";
    }

    private static String[] with(String[] base, String... more) {
        String[] out = new String[base.length + more.length];
        System.arraycopy(base, 0, out, 0, base.length);
        System.arraycopy(more, 0, out, base.length, more.length);
        return out;
    }
}
