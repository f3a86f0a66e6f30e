package io.jmpio.policies.bench;

import io.jmpio.api.BalancingPolicy;
import io.jmpio.api.BalancingPolicyProvider;
import io.jmpio.api.IoOp;
import io.jmpio.api.PathView;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a policy costs per request: one {@code select} and the matching {@code completed}, as the device
 * calls them, with 32 requests outstanding over four paths whose latencies differ (so the learning
 * policies have something to learn). {@code oneQueue} is one I/O thread; {@code twoQueues} is two I/O
 * threads sharing the policy, as a device with two queues does.
 *
 * <p>Run: {@code java -jar plugins/policies-bench/target/policies-bench.jar -f 1 -wi 3 -i 5}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PolicySelectionBenchmark {
    private static final int PATHS = 4;
    private static final int DEPTH = 32;
    private static final int BLOCK = 4096;

    /** A path with live in-flight counters, as the device's paths have. */
    static final class BenchPath implements PathView {
        final int index;
        final String id;
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicLong inFlightBytes = new AtomicLong();

        BenchPath(int index) {
            this.index = index;
            this.id = (index < 2 ? "A" : "B") + index;
        }

        @Override public int index() { return index; }
        @Override public String id() { return id; }
        @Override public String address() { return "127.0.0.1:" + (7000 + index); }
        @Override public String controller() { return index < 2 ? "A" : "B"; }
        @Override public int inFlight() { return inFlight.get(); }
        @Override public long inFlightBytes() { return inFlightBytes.get(); }
    }

    @State(Scope.Benchmark)
    public static class Device {
        @Param({"round-robin", "queue-length", "least-blocks", "service-time", "historical-service-time",
            "latency", "adaptive", "failover"})
        public String policy;

        BalancingPolicy balancing;
        List<BenchPath> paths;

        @Setup(Level.Trial)
        public void setUp() {
            BalancingPolicyProvider provider = null;
            for (BalancingPolicyProvider p : ServiceLoader.load(BalancingPolicyProvider.class)) {
                if (p.name().equals(policy)) {
                    provider = p;
                }
            }
            if (provider == null) {
                throw new IllegalStateException("policy " + policy + " is not installed");
            }
            balancing = provider.create(Map.of());
            BenchPath[] ps = new BenchPath[PATHS];
            for (int i = 0; i < PATHS; i++) {
                ps[i] = new BenchPath(i);
            }
            paths = List.of(ps);
            balancing.pathsChanged(paths);
        }
    }

    /** One I/O queue's outstanding requests: a ring of the paths they went on. */
    @State(Scope.Thread)
    public static class Queue {
        final BenchPath[] outstanding = new BenchPath[DEPTH];
        int next;
        long offset;
    }

    @Benchmark
    public PathView oneQueue(Device d, Queue q) {
        return request(d, q);
    }

    @Benchmark
    @Threads(2)
    public PathView twoQueues(Device d, Queue q) {
        return request(d, q);
    }

    private static PathView request(Device d, Queue q) {
        int slot = q.next;
        q.next = (slot + 1) & (DEPTH - 1);
        BenchPath done = q.outstanding[slot];
        if (done != null) {
            done.inFlight.decrementAndGet();
            done.inFlightBytes.addAndGet(-BLOCK);
            // Path i answers in (i + 1) * 100 us: a spread the latency-learning policies react to.
            d.balancing.completed(done, IoOp.READ, BLOCK, (done.index + 1) * 100_000L, false);
        }
        q.offset += BLOCK;
        BenchPath chosen = (BenchPath) d.balancing.select(d.paths, IoOp.READ, q.offset, BLOCK);
        chosen.inFlight.incrementAndGet();
        chosen.inFlightBytes.addAndGet(BLOCK);
        q.outstanding[slot] = chosen;
        return chosen;
    }
}
