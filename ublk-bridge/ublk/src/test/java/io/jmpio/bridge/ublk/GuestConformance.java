package io.jmpio.bridge.ublk;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.jmpio.core.Fixture;
import java.io.PrintWriter;
import java.util.concurrent.TimeUnit;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs {@link UblkConformanceTest} where there is a kernel with ublk but no Maven: the guest tier
 * (ublk-bridge/guest/conformance-tier.sh) starts it with the test classpath Maven wrote. Unlike a build, where
 * the suite is skipped without ublk, here a skipped, failed or missing test fails the run.
 */
public final class GuestConformance {
    private GuestConformance() {
    }

    public static void main(String[] args) {
        // The build's per-method limit (junit-platform.properties: 90 s) stretched like every other timer of the
        // suite: under TCG on a busy host one set-up alone (array, device, bridge, cold JIT) can pass 90 s.
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
            .selectors(selectClass(UblkConformanceTest.class))
            .configurationParameter("junit.jupiter.execution.timeout.default",
                Fixture.paced(TimeUnit.SECONDS.toMillis(90)) / 1000 + " s")
            .build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        launcher.execute(request, summary);
        TestExecutionSummary s = summary.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        s.printFailuresTo(out, 30);
        s.printTo(out);
        long passed = s.getTestsSucceededCount();
        boolean ok = s.getTotalFailureCount() == 0 && s.getTestsSkippedCount() == 0 && s.getTestsAbortedCount() == 0
            && passed > 0 && passed == s.getTestsFoundCount();
        out.println("ublk conformance: " + passed + " of " + s.getTestsFoundCount() + " passed"
            + (ok ? "" : " -- FAILED (aborted " + s.getTestsAbortedCount() + ", skipped " + s.getTestsSkippedCount()
            + ", failed " + s.getTotalFailureCount() + ")"));
        System.exit(ok ? 0 : 1);
    }
}
