package io.jmpio.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The statistics tick: rolls the device's and the paths' windows, and moves paths whose error rate, failure
 * count or latency is far worse than their peers' to the marginal group (and back on probation).
 */
final class MarginalDetector {

    private final MultipathDevice d;

    MarginalDetector(MultipathDevice device) {
        this.d = device;
    }

    // ------------------------------------------------------------------------------------------------
    // Statistics and marginal paths

    void statsTick() {
        long now = d.ticker.nanos();
        d.stats.roll(now);
        for (Path p : d.paths) {
            p.stats.roll(now);
        }
        evaluateMarginal(now);
    }

    /**
     * Moves paths whose error rate, failure count or latency over the window is far worse than their peers'
     * to the marginal group, and puts marginal paths back on probation when their recheck time comes.
     */
    private void evaluateMarginal(long now) {
        boolean changed = false;
        synchronized (d.topologyLock) {
            for (Path p : d.paths) {
                if (p.marginal && now - p.marginalUntilNanos >= 0) {
                    p.marginal = false;
                    d.event("path " + p.id + " leaves the marginal group on probation");
                    changed = true;
                }
            }
            if (changed) {
                d.republishLocked();
            }
        }
        if (now - d.windowStartNanos < TimeUnit.MILLISECONDS.toNanos(d.config.marginalWindowMillis())) {
            return;
        }
        d.windowStartNanos = now;
        int n = d.paths.size();
        long[] ios = new long[n];
        long[] errors = new long[n];
        long[] mean = new long[n];
        int[] fails = new int[n];
        List<Long> means = new ArrayList<>();
        for (Path p : d.paths) {
            long i = p.stats.ios.sum();
            long e = p.stats.pathErrors.sum();
            long l = p.stats.latencySumNanos.sum();
            int f = p.failures.get();
            ios[p.index] = i - p.windowIos;
            errors[p.index] = e - p.windowErrors;
            fails[p.index] = f - p.windowFailures;
            mean[p.index] = ios[p.index] > 0 ? (l - p.windowLatencyNanos) / ios[p.index] : 0;
            p.windowIos = i;
            p.windowErrors = e;
            p.windowLatencyNanos = l;
            p.windowFailures = f;
            if (ios[p.index] >= d.config.marginalMinIos()) {
                means.add(mean[p.index]);
            }
        }
        changed = false;
        synchronized (d.topologyLock) {
            for (Path p : d.paths) {
                if (p.marginal || p.health == Path.Health.OFFLINE) {
                    continue;
                }
                int i = p.index;
                long attempts = ios[i] + errors[i];
                String why = null;
                if (d.config.marginalErrorRate() > 0 && attempts >= d.config.marginalMinIos()
                    && errors[i] >= d.config.marginalErrorRate() * attempts) {
                    why = String.format("%d errors in %d requests", errors[i], attempts);
                } else if (fails[i] >= 3) {
                    why = fails[i] + " failures";
                } else if (d.config.marginalLatencyFactor() > 0 && ios[i] >= d.config.marginalMinIos() && means.size() > 1) {
                    long peers = medianWithout(means, mean[i]);
                    if (peers > 0 && mean[i] > d.config.marginalLatencyFactor() * peers
                        && mean[i] > TimeUnit.MILLISECONDS.toNanos(d.config.marginalLatencyFloorMillis())) {
                        why = String.format("mean latency %.2f ms against %.2f ms on the other paths", mean[i] / 1e6, peers / 1e6);
                    }
                }
                if (why != null) {
                    p.marginal = true;
                    p.marginalStrikes++;
                    long recheck = TimeUnit.MILLISECONDS.toNanos(d.config.marginalRecheckMillis()) << Math.min(p.marginalStrikes - 1, 6);
                    p.marginalUntilNanos = now + recheck;
                    d.event("path " + p.id + " is marginal (" + why + " in " + d.config.marginalWindowMillis()
                        + " ms); recheck in " + TimeUnit.NANOSECONDS.toMillis(recheck) + " ms");
                    changed = true;
                } else if (attempts >= d.config.marginalMinIos() && errors[i] == 0 && fails[i] == 0) {
                    p.marginalStrikes = 0;
                }
            }
            if (changed) {
                d.republishLocked();
            }
        }
    }

    private static long medianWithout(List<Long> values, long own) {
        List<Long> others = new ArrayList<>(values);
        others.remove(Long.valueOf(own));
        if (others.isEmpty()) {
            return 0;
        }
        others.sort(null);
        return others.get(others.size() / 2);
    }

}
