package io.warren.architecture;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Checks the layering of DESIGN.md on the production classes of every module (this module's test classpath holds
 * all of them). {@link LayeringRulesBiteTest} proves each rule can fail.
 */
@AnalyzeClasses(packages = LayeringRules.WARREN, importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {
    @ArchTest
    static final ArchRule codecDependsOnJdkOnly = LayeringRules.codecDependsOnJdkOnly(LayeringRules.WARREN);

    @ArchTest
    static final ArchRule apiDependsOnCodecAndJdkOnly =
            LayeringRules.apiDependsOnCodecAndJdkOnly(LayeringRules.WARREN);

    @ArchTest
    static final ArchRule coreUsesOnlyTheSpisOfPlugins =
            LayeringRules.coreUsesOnlyTheSpisOfPlugins(LayeringRules.WARREN);

    @ArchTest
    static final ArchRule tlsDependsOnApiAndJdkOnly = LayeringRules.tlsDependsOnApiAndJdkOnly(LayeringRules.WARREN);

    @ArchTest
    static final ArchRule transportDependsOnApiAndCodecOnly =
            LayeringRules.transportDependsOnApiAndCodecOnly(LayeringRules.WARREN);

    @ArchTest
    static final ArchRule policyDependsOnApiAndCodecOnly =
            LayeringRules.policyDependsOnApiAndCodecOnly(LayeringRules.WARREN);

    @ArchTest
    static final ArchRule launcherCompilesAgainstApiAndCoreOnly =
            LayeringRules.launcherCompilesAgainstApiAndCoreOnly(LayeringRules.WARREN);

    @ArchTest
    static final ArchRule nothingDependsOnTheLauncher = LayeringRules.nothingDependsOnTheLauncher(LayeringRules.WARREN);

    @ArchTest
    static final ArchRule nothingDependsOnTheBenchmarks =
            LayeringRules.nothingDependsOnTheBenchmarks(LayeringRules.WARREN);

    @ArchTest
    static final ArchRule modulesAreFreeOfCycles = LayeringRules.modulesAreFreeOfCycles(LayeringRules.WARREN);

    @ArchTest
    static final ArchRule internalPackagesArePrivateToTheirModule =
            LayeringRules.internalPackagesArePrivateToTheirModule(LayeringRules.WARREN);

    @ArchTest
    static final ArchRule apiHoldsOnlyInterfacesValuesAndFinalClasses =
            LayeringRules.apiHoldsOnlyInterfacesValuesAndFinalClasses(LayeringRules.WARREN);

    @ArchTest
    static final ArchRule enginePackagesAreFreeOfCycles =
            LayeringRules.enginePackagesAreFreeOfCycles(LayeringRules.WARREN);

    @ArchTest
    static final ArchRule engineLayersPointDown = LayeringRules.engineLayersPointDown(LayeringRules.WARREN);
}
