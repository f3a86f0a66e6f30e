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
 * dm-multipath historical-service-time: predicts when a request would complete on each path from a decaying
 * average of its past service times and the requests already queued on it, and picks the earliest.
 */
public final class HistoricalServiceTimePolicy implements BalancingPolicyProvider {
    @Override
    public String name() {
        return "historical-service-time";
    }

    @Override
    public String description() {
        return "earliest predicted completion from a decaying history of service time";
    }

    @Override
    public List<PolicyOption> options() {
        return List.of(new PolicyOption("weight", "0.1", "weight of each new latency sample in the moving average"));
    }

    @Override
    public BalancingPolicy create(Map<String, String> options) {
        return new Instance(Options.fraction(options, "weight", 0.1));
    }

    static final class Instance implements BalancingPolicy {
        private final double weight;
        private final PathTable serviceNanos = new PathTable(-1);
        private final AtomicInteger start = new AtomicInteger();

        Instance(double weight) {
            this.weight = weight;
        }

        @Override
        public PathView select(List<? extends PathView> paths, IoOp op, long offset, int length) {
            int size = paths.size();
            int first = Math.floorMod(start.getAndIncrement(), size);
            PathView best = null;
            double bestEta = Double.MAX_VALUE;
            for (int i = 0; i < size; i++) {
                PathView p = paths.get((first + i) % size);
                long s = serviceNanos.get(p.index());
                // A path without history is tried first, so every path gets measured.
                double eta = s < 0 ? -1 : (double) s * (p.inFlight() + 1);
                if (eta < bestEta) {
                    best = p;
                    bestEta = eta;
                }
            }
            return best;
        }

        @Override
        public void completed(PathView path, IoOp op, int bytes, long latencyNanos, boolean failed) {
            if (!failed) {
                serviceNanos.ewma(path.index(), latencyNanos, weight);
            }
        }
    }
}
