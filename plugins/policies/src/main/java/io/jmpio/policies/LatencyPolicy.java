package io.jmpio.policies;

import io.jmpio.api.BalancingPolicy;
import io.jmpio.api.BalancingPolicyProvider;
import io.jmpio.api.IoOp;
import io.jmpio.api.PathView;
import io.jmpio.api.PolicyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * VMware HPP LB-Latency: periodically samples every path (round-robin for a number of requests each),
 * then sends I/O to the path with the least latency-weighted load until the next evaluation.
 */
public final class LatencyPolicy implements BalancingPolicyProvider {
    @Override
    public String name() {
        return "latency";
    }

    @Override
    public String description() {
        return "samples each path's latency periodically, then prefers the fastest";
    }

    @Override
    public List<PolicyOption> options() {
        return List.of(new PolicyOption("interval-ms", "1000", "time between evaluations"),
            new PolicyOption("samples", "16", "requests sampled on each path per evaluation"));
    }

    @Override
    public BalancingPolicy create(Map<String, String> options) {
        return new Instance(Options.positiveLong(options, "interval-ms", 1000) * 1_000_000L,
            Options.positiveLong(options, "samples", 16), System::nanoTime);
    }

    static final class Instance implements BalancingPolicy {
        private final long intervalNanos;
        private final long samples;
        private final java.util.function.LongSupplier clock;
        private final PathTable sampleCount = new PathTable(0);
        private final PathTable sampleSum = new PathTable(0);
        private final PathTable averageNanos = new PathTable(-1);
        private final AtomicInteger rotor = new AtomicInteger();
        private volatile boolean sampling = true;
        private volatile long nextEvaluationNanos;

        Instance(long intervalNanos, long samples, java.util.function.LongSupplier clock) {
            this.intervalNanos = intervalNanos;
            this.samples = samples;
            this.clock = clock;
        }

        @Override
        public PathView select(List<? extends PathView> paths, IoOp op, long offset, int length) {
            int size = paths.size();
            if (!sampling && clock.getAsLong() - nextEvaluationNanos >= 0) {
                startSampling(paths);
            }
            int first = Math.floorMod(rotor.getAndIncrement(), size);
            if (sampling) {
                for (int i = 0; i < size; i++) {
                    PathView p = paths.get((first + i) % size);
                    if (sampleCount.get(p.index()) < samples) {
                        return p;
                    }
                }
                finishSampling(paths);
            }
            PathView best = null;
            double bestLoad = Double.MAX_VALUE;
            for (int i = 0; i < size; i++) {
                PathView p = paths.get((first + i) % size);
                long avg = averageNanos.get(p.index());
                double load = avg < 0 ? -1 : (double) avg * (p.inFlight() + 1);
                if (load < bestLoad) {
                    best = p;
                    bestLoad = load;
                }
            }
            return best;
        }

        private void startSampling(List<? extends PathView> paths) {
            for (int i = 0, n = paths.size(); i < n; i++) {
                sampleCount.set(paths.get(i).index(), 0);
                sampleSum.set(paths.get(i).index(), 0);
            }
            sampling = true;
        }

        private void finishSampling(List<? extends PathView> paths) {
            for (int i = 0, n = paths.size(); i < n; i++) {
                int idx = paths.get(i).index();
                long c = sampleCount.get(idx);
                if (c > 0) {
                    averageNanos.set(idx, sampleSum.get(idx) / c);
                }
            }
            nextEvaluationNanos = clock.getAsLong() + intervalNanos;
            sampling = false;
        }

        @Override
        public void completed(PathView path, IoOp op, int bytes, long latencyNanos, boolean failed) {
            if (sampling) {
                sampleCount.add(path.index(), 1);
                sampleSum.add(path.index(), failed ? latencyNanos * 10 : latencyNanos);
            } else {
                averageNanos.ewma(path.index(), failed ? latencyNanos * 10 : latencyNanos, 0.02);
            }
        }

        @Override
        public void pathsChanged(List<? extends PathView> paths) {
            if (!paths.isEmpty()) {
                startSampling(paths);
            }
        }
    }
}
