package io.jmpio.policies.bench;

import io.jmpio.api.BalancingPolicy;
import io.jmpio.api.BalancingPolicyProvider;
import io.jmpio.api.IoOp;
import io.jmpio.api.PathView;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * threads, each with the policy instance of its own queue, as a device with two queues runs them. The paths'
 * in-flight counters are kept as the device keeps them: one shard per queue, written by that queue's thread
 * alone; a queue's policy sees the paths through views that read its own shard.
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
    private static final int QUEUES = 2;
    /** Longs between two queues' shards: 128 bytes, so no two queues write one cache line (or its neighbour). */
    private static final int STRIDE = 16;
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    /** A path with in-flight counters sharded per queue, as the device's paths have. */
    static final class BenchPath {
        final int index;
        final String id;
        /** Queue q's in-flight count at q * STRIDE, its bytes at q * STRIDE + 1. */
        final long[] shards = new long[QUEUES * STRIDE + STRIDE];

        BenchPath(int index) {
            this.index = index;
            this.id = (index < 2 ? "A" : "B") + index;
        }

        void add(int queue, int requests, long bytes) {
            int at = STRIDE + queue * STRIDE;
            SLOT.setOpaque(shards, at, (long) SLOT.getOpaque(shards, at) + requests);
            SLOT.setOpaque(shards, at + 1, (long) SLOT.getOpaque(shards, at + 1) + bytes);
        }

        long get(int queue, int field) {
            return (long) SLOT.getOpaque(shards, STRIDE + queue * STRIDE + field);
        }
    }

    /** A path as one queue's policy sees it: its identity and that queue's own in-flight counts. */
    static final class QueueView implements PathView {
        final BenchPath path;
        final int queue;

        QueueView(BenchPath path, int queue) {
            this.path = path;
            this.queue = queue;
        }

        @Override public int index() { return path.index; }
        @Override public String id() { return path.id; }
        @Override public String address() { return "127.0.0.1:" + (7000 + path.index); }
        @Override public String controller() { return path.index < 2 ? "A" : "B"; }
        @Override public int inFlight() { return (int) path.get(queue, 0); }
        @Override public long inFlightBytes() { return path.get(queue, 1); }
    }

    @State(Scope.Benchmark)
    public static class Device {
        @Param({"round-robin", "queue-length", "least-blocks", "service-time", "historical-service-time",
            "latency", "adaptive", "failover"})
        public String policy;

        BalancingPolicyProvider provider;
        List<BenchPath> paths;
        final AtomicInteger queues = new AtomicInteger();

        @Setup(Level.Trial)
        public void setUp() {
            for (BalancingPolicyProvider p : ServiceLoader.load(BalancingPolicyProvider.class)) {
                if (p.name().equals(policy)) {
                    provider = p;
                }
            }
            if (provider == null) {
                throw new IllegalStateException("policy " + policy + " is not installed");
            }
            BenchPath[] ps = new BenchPath[PATHS];
            for (int i = 0; i < PATHS; i++) {
                ps[i] = new BenchPath(i);
            }
            paths = List.of(ps);
        }
    }

    /** One I/O queue: its policy instance and its outstanding requests (a ring of the paths they went on). */
    @State(Scope.Thread)
    public static class Queue {
        final QueueView[] outstanding = new QueueView[DEPTH];
        List<QueueView> views;
        BalancingPolicy balancing;
        int index;
        int next;
        long offset;

        @Setup(Level.Trial)
        public void setUp(Device d) {
            index = d.queues.getAndIncrement() % QUEUES;
            QueueView[] v = new QueueView[PATHS];
            for (int i = 0; i < PATHS; i++) {
                v[i] = new QueueView(d.paths.get(i), index);
            }
            views = List.of(v);
            balancing = d.provider.create(Map.of());
            balancing.pathsChanged(views);
        }
    }

    @Benchmark
    public PathView oneQueue(Device d, Queue q) {
        return request(d, q);
    }

    @Benchmark
    @Threads(QUEUES)
    public PathView twoQueues(Device d, Queue q) {
        return request(d, q);
    }

    private static PathView request(Device d, Queue q) {
        int slot = q.next;
        q.next = (slot + 1) & (DEPTH - 1);
        QueueView done = q.outstanding[slot];
        if (done != null) {
            done.path.add(q.index, -1, -BLOCK);
            // Path i answers in (i + 1) * 100 us: a spread the latency-learning policies react to.
            q.balancing.completed(done, IoOp.READ, BLOCK, (done.path.index + 1) * 100_000L, false);
        }
        q.offset += BLOCK;
        QueueView chosen = (QueueView) q.balancing.select(q.views, IoOp.READ, q.offset, BLOCK);
        chosen.path.add(q.index, 1, BLOCK);
        q.outstanding[slot] = chosen;
        return chosen;
    }
}
