package io.jmpio.policies;

import io.jmpio.api.BalancingPolicy;
import io.jmpio.api.BalancingPolicyProvider;
import io.jmpio.api.IoOp;
import io.jmpio.api.PathView;
import io.jmpio.api.PolicyOption;
import java.util.List;
import java.util.Map;

/** All I/O on one path until it leaves the usable set, then on the next one, which it keeps (MRU). */
public final class FailoverPolicy implements BalancingPolicyProvider {
    @Override
    public String name() {
        return "failover";
    }

    @Override
    public String description() {
        return "one path until it fails, then the next (most recently used)";
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
        private volatile int current = -1;

        @Override
        public PathView select(List<? extends PathView> paths, IoOp op, long offset, int length) {
            int want = current;
            for (int i = 0, n = paths.size(); i < n; i++) {
                PathView p = paths.get(i);
                if (p.index() == want) {
                    return p;
                }
            }
            PathView p = paths.get(0);
            current = p.index();
            return p;
        }
    }
}
