package io.jmpio.bridge.ublk;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.PrintWriter;
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
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
            .selectors(selectClass(UblkConformanceTest.class)).build();
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
