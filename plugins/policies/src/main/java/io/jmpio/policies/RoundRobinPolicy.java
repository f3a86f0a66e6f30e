package io.jmpio.policies;

import io.jmpio.api.BalancingPolicy;
import io.jmpio.api.BalancingPolicyProvider;
import io.jmpio.api.IoOp;
import io.jmpio.api.PathView;
import io.jmpio.api.PolicyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Takes the paths in turn, moving on after {@code ios} requests (dm-multipath's rr_min_io, NVMe round-robin). */
public final class RoundRobinPolicy implements BalancingPolicyProvider {
    @Override
    public String name() {
        return "round-robin";
    }

    @Override
    public String description() {
        return "takes the paths in turn, switching after a number of requests";
    }

    @Override
    public List<PolicyOption> options() {
        return List.of(new PolicyOption("ios", "1", "requests sent on a path before moving to the next"));
    }

    @Override
    public BalancingPolicy create(Map<String, String> options) {
        return new Instance(Options.positiveLong(options, "ios", 1));
    }

    static final class Instance implements BalancingPolicy {
        private final long iosPerPath;
        private final AtomicLong counter = new AtomicLong();

        Instance(long iosPerPath) {
            this.iosPerPath = iosPerPath;
        }

        @Override
        public PathView select(List<? extends PathView> paths, IoOp op, long offset, int length) {
            long n = counter.getAndIncrement() / iosPerPath;
            return paths.get((int) (n % paths.size()));
        }
    }
}
