package io.jmpio.dist;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The arrows of docs/layout.md, checked on the main classes of every module on the launcher's class path: no module
 * but the emulator's own (io.jmpio.emu..: the server and its commands) depends on the emulator, the emulator's server
 * knows nothing of the driver, and the multipath core knows only the path-transport SPI (no wire protocol).
 */
class ModuleDependenciesTest {
    /** Main classes only: test classes and test jars may use the emulator as a peer. */
    private static final ImportOption MAIN_ONLY = location -> !location.contains("/test-classes/")
        && !location.contains("-tests.jar");

    private static final JavaClasses CLASSES = new ClassFileImporter().withImportOption(MAIN_ONLY)
        .importPackages("io.jmpio");

    @Test
    void noModuleButTheEmulatorsOwnDependsOnTheEmulator() {
        noClasses().that().resideOutsideOfPackage("io.jmpio.emu..")
            .should().dependOnClassesThat().resideInAPackage("io.jmpio.emu..")
            .because("hosts reach storage through the transport SPI; the emulator is only one target among others,"
                + " and its commands come to jmpio as a CommandPlugin")
            .check(CLASSES);
    }

    @Test
    void theArrayKnowsNothingOfTheDriver() {
        noClasses().that().resideInAnyPackage("io.jmpio.emu.array..", "io.jmpio.emu.controller..", "io.jmpio.emu.nvme..",
                "io.jmpio.emu.link..", "io.jmpio.emu.cache..", "io.jmpio.emu.admin..", "io.jmpio.emu.security..",
                "io.jmpio.emu.store..")
            .should().dependOnClassesThat().resideInAnyPackage("io.jmpio.core..", "io.jmpio.transport..",
                "io.jmpio.bridge..", "io.jmpio.cli..", "io.jmpio.api..")
            .because("the array and the driver meet on the NVMe/TCP wire only")
            .check(CLASSES);
    }

    @Test
    void theCoreKnowsNoWireProtocol() {
        noClasses().that().resideInAPackage("io.jmpio.core..")
            .should().dependOnClassesThat().resideInAnyPackage("io.jmpio.transport.nvme..")
            .because("transports are plugins found by ServiceLoader")
            .check(CLASSES);
    }

    @Test
    void theRulesSeeTheModulesTheyJudge() {
        // a rule over no classes passes vacuously: make sure the import found what it is about
        for (String pkg : new String[] {"io.jmpio.core", "io.jmpio.transport", "io.jmpio.transport.nvme",
                "io.jmpio.bridge.nbd", "io.jmpio.emu.controller", "io.jmpio.emu.nvme", "io.jmpio.emu.cli", "io.jmpio.cli"}) {
            if (CLASSES.stream().noneMatch(c -> c.getPackageName().equals(pkg))) {
                throw new AssertionError("no main classes of " + pkg + " on the class path");
            }
        }
    }
}
