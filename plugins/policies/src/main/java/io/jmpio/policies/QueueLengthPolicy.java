package io.jmpio.policies;

import io.jmpio.api.BalancingPolicy;
import io.jmpio.api.BalancingPolicyProvider;
import io.jmpio.api.IoOp;
import io.jmpio.api.PathView;
import io.jmpio.api.PolicyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Sends each request to the path with the fewest requests outstanding (dm queue-length, NVMe queue-depth). */
public final class QueueLengthPolicy implements BalancingPolicyProvider {
    @Override
    public String name() {
        return "queue-length";
    }

    @Override
    public String description() {
        return "the path with the fewest requests in flight";
    }

    @Override
    public List<PolicyOption> options() {
        return List.of();
    }

    @Override
    public BalancingPolicy create(Map<String, String> options) {
        return new Instance();
    }

    static final class Instance implements BalancingPolicy {
        // Ties rotate from a moving start so equal paths share the load instead of the first one taking all.
        private final AtomicInteger start = new AtomicInteger();

        @Override
        public PathView select(List<? extends PathView> paths, IoOp op, long offset, int length) {
            int size = paths.size();
            int first = Math.floorMod(start.getAndIncrement(), size);
            PathView best = paths.get(first);
            int bestDepth = best.inFlight();
            for (int i = 1; i < size && bestDepth > 0; i++) {
                PathView p = paths.get((first + i) % size);
                int d = p.inFlight();
                if (d < bestDepth) {
                    best = p;
                    bestDepth = d;
                }
            }
            return best;
        }
    }
}
