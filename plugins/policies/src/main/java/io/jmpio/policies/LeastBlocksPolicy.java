package io.jmpio.policies;

import io.jmpio.api.BalancingPolicy;
import io.jmpio.api.BalancingPolicyProvider;
import io.jmpio.api.IoOp;
import io.jmpio.api.PathView;
import io.jmpio.api.PolicyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Sends each request to the path with the fewest bytes outstanding (PowerPath least-blocks). */
public final class LeastBlocksPolicy implements BalancingPolicyProvider {
    @Override
    public String name() {
        return "least-blocks";
    }

    @Override
    public String description() {
        return "the path with the fewest bytes in flight";
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
        private final AtomicInteger start = new AtomicInteger();

        @Override
        public PathView select(List<? extends PathView> paths, IoOp op, long offset, int length) {
            int size = paths.size();
            int first = Math.floorMod(start.getAndIncrement(), size);
            PathView best = paths.get(first);
            long bestBytes = best.inFlightBytes();
            for (int i = 1; i < size && bestBytes > 0; i++) {
                PathView p = paths.get((first + i) % size);
                long b = p.inFlightBytes();
                if (b < bestBytes) {
                    best = p;
                    bestBytes = b;
                }
            }
            return best;
        }
    }
}
