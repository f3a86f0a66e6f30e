package io.jmpio.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The arrows of docs/layout.md, checked on the main classes of every module on the launcher's class path: the
 * multipath core knows only the path-transport SPI (no wire protocol, no emulator), and nothing that serves a
 * host (core, SPI, NVMe/TCP transport, bridges, policies, socket plumbing) depends on the emulator.
 */
class ModuleDependenciesTest {
    /** Main classes only: test classes and test jars may use the emulator as a peer. */
    private static final ImportOption MAIN_ONLY = location -> !location.contains("/test-classes/")
        && !location.contains("-tests.jar");

    private static final JavaClasses CLASSES = new ClassFileImporter().withImportOption(MAIN_ONLY)
        .importPackages("io.jmpio");

    @Test
    void nothingThatServesAHostDependsOnTheEmulator() {
        noClasses().that().resideInAnyPackage("io.jmpio.core..", "io.jmpio.api..", "io.jmpio.transport",
                "io.jmpio.transport.nvme..", "io.jmpio.bridge..", "io.jmpio.policies..", "io.jmpio.netty..")
            .should().dependOnClassesThat().resideInAPackage("io.jmpio.emu..")
            .because("hosts reach storage through the transport SPI; the emulator is only one target among others")
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
                "io.jmpio.bridge.nbd", "io.jmpio.emu.controller"}) {
            if (CLASSES.stream().noneMatch(c -> c.getPackageName().equals(pkg))) {
                throw new AssertionError("no main classes of " + pkg + " on the class path");
            }
        }
    }
}
