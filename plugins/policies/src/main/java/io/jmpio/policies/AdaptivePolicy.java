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
 * PowerPath-like adaptive: weighs each path by what it has shown (a moving average of latency per request
 * and of time per byte) and by what it holds now (requests and bytes in flight), and picks the lightest.
 */
public final class AdaptivePolicy implements BalancingPolicyProvider {
    @Override
    public String name() {
        return "adaptive";
    }

    @Override
    public String description() {
        return "weights paths by observed latency and queue depth together";
    }

    @Override
    public List<PolicyOption> options() {
        return List.of(new PolicyOption("weight", "0.05", "weight of each new sample in the moving averages"));
    }

    @Override
    public BalancingPolicy create(Map<String, String> options) {
        return new Instance(Options.fraction(options, "weight", 0.05));
    }

    static final class Instance implements BalancingPolicy {
        private final double weight;
        private final PathTable latencyNanos = new PathTable(-1);
        private final PathTable picosPerByte = new PathTable(-1);
        private final AtomicInteger start = new AtomicInteger();

        Instance(double weight) {
            this.weight = weight;
        }

        @Override
        public PathView select(List<? extends PathView> paths, IoOp op, long offset, int length) {
            int size = paths.size();
            int first = Math.floorMod(start.getAndIncrement(), size);
            PathView best = null;
            double bestLoad = Double.MAX_VALUE;
            for (int i = 0; i < size; i++) {
                PathView p = paths.get((first + i) % size);
                long lat = latencyNanos.get(p.index());
                long ppb = picosPerByte.get(p.index());
                double load = lat < 0 ? -1
                    : (double) lat * (p.inFlight() + 1) + Math.max(ppb, 0) * 1e-3 * (p.inFlightBytes() + length);
                if (load < bestLoad) {
                    best = p;
                    bestLoad = load;
                }
            }
            return best;
        }

        @Override
        public void completed(PathView path, IoOp op, int bytes, long latency, boolean failed) {
            // A failure counts as a very slow request, so an erring path sheds load without being excluded.
            long sample = failed ? Math.max(latency, 1_000_000L) * 10 : latency;
            latencyNanos.ewma(path.index(), sample, weight);
            if (bytes > 0 && !failed) {
                picosPerByte.ewma(path.index(), latency * 1000 / bytes, weight);
            }
        }
    }
}
