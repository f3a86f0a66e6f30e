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
 * dm-multipath service-time: the path whose outstanding bytes plus this request, divided by its relative
 * throughput, are least (the path expected to finish this request first).
 */
public final class ServiceTimePolicy implements BalancingPolicyProvider {
    @Override
    public String name() {
        return "service-time";
    }

    @Override
    public String description() {
        return "least (bytes in flight + request) / relative throughput of the path";
    }

    @Override
    public List<PolicyOption> options() {
        return List.of(new PolicyOption("throughput", "",
            "relative throughput per path, e.g. A0=2,A1=1 (paths not named: 1)"));
    }

    @Override
    public BalancingPolicy create(Map<String, String> options) {
        Map<String, Long> weights = new java.util.HashMap<>();
        String spec = options.getOrDefault("throughput", "");
        for (String part : spec.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            String[] kv = part.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("option throughput must be PATH=N,..., got '" + spec + "'");
            }
            weights.put(kv[0].trim(), Options.positiveLong(Map.of("throughput", kv[1]), "throughput", 1));
        }
        return new Instance(weights);
    }

    static final class Instance implements BalancingPolicy {
        private final Map<String, Long> weights;
        private final AtomicInteger start = new AtomicInteger();

        Instance(Map<String, Long> weights) {
            this.weights = Map.copyOf(weights);
        }

        @Override
        public PathView select(List<? extends PathView> paths, IoOp op, long offset, int length) {
            int size = paths.size();
            int first = Math.floorMod(start.getAndIncrement(), size);
            PathView best = null;
            double bestCost = Double.MAX_VALUE;
            for (int i = 0; i < size; i++) {
                PathView p = paths.get((first + i) % size);
                Long w = weights.isEmpty() ? null : weights.get(p.id());
                double cost = (double) (p.inFlightBytes() + length) / (w == null ? 1 : w);
                if (cost < bestCost) {
                    best = p;
                    bestCost = cost;
                }
            }
            return best;
        }
    }
}
