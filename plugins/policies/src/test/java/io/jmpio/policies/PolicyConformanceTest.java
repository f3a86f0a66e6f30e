package io.jmpio.policies;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.api.BalancingPolicy;
import io.jmpio.api.BalancingPolicyProvider;
import io.jmpio.api.IoOp;
import io.jmpio.api.PathView;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * What every balancing policy must do, written once; each policy subclasses it with its provider and a
 * statement of how it spreads load (Netty testsuite style).
 */
abstract class PolicyConformanceTest {
    /** A path whose load the test sets; latency is what the simulated array answers with. */
    static final class TestPath implements PathView {
        final int index;
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicLong inFlightBytes = new AtomicLong();
        volatile long latencyNanos = 100_000;

        TestPath(int index) {
            this.index = index;
        }

        @Override public int index() { return index; }
        @Override public String id() { return (index < 2 ? "A" : "B") + index % 2; }
        @Override public String address() { return "127.0.0.1:" + (7402 + index); }
        @Override public String controller() { return index < 2 ? "A" : "B"; }
        @Override public int inFlight() { return inFlight.get(); }
        @Override public long inFlightBytes() { return inFlightBytes.get(); }

        @Override
        public String toString() {
            return id();
        }
    }

    abstract BalancingPolicyProvider provider();

    /** How the policy spreads load over the four offered paths, checked by each subclass. */
    abstract void spreadsLoadAsItClaims(List<TestPath> paths, int[] picks);

    BalancingPolicy create() {
        return provider().create(Map.of());
    }

    static List<TestPath> paths(int n) {
        List<TestPath> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(new TestPath(i));
        }
        return l;
    }

    /**
     * Runs {@code requests} through the policy against simulated paths with a closed loop of {@code depth}
     * requests: each completes after its path's latency (in virtual time), in order of completion.
     */
    static int[] simulate(BalancingPolicy policy, List<TestPath> paths, int requests, int depth) {
        int[] picks = new int[paths.size()];
        policy.pathsChanged(paths);
        long now = 0;
        java.util.PriorityQueue<long[]> inFlight = new java.util.PriorityQueue<>((a, b) -> Long.compare(a[0], b[0]));
        for (int i = 0; i < requests; i++) {
            if (inFlight.size() >= depth) {
                long[] done = inFlight.poll();
                now = Math.max(now, done[0]);
                TestPath p = paths.get((int) done[1]);
                p.inFlight.decrementAndGet();
                p.inFlightBytes.addAndGet(-4096);
                policy.completed(p, IoOp.READ, 4096, done[2], false);
            }
            PathView v = policy.select(paths, IoOp.READ, 0, 4096);
            TestPath p = (TestPath) v;
            picks[p.index]++;
            // Service queues behind what the path already holds: a slow or busy path takes longer.
            long latency = p.latencyNanos * (1 + p.inFlight.get() / 4);
            p.inFlight.incrementAndGet();
            p.inFlightBytes.addAndGet(4096);
            inFlight.add(new long[] {now + latency, p.index, latency});
        }
        return picks;
    }

    @Test
    void isInstalledAndDescribed() {
        boolean found = false;
        for (BalancingPolicyProvider p : ServiceLoader.load(BalancingPolicyProvider.class)) {
            found |= p.name().equals(provider().name());
        }
        assertTrue(found, provider().name() + " is listed in META-INF/services");
        assertTrue(provider().name().matches("[a-z]+(-[a-z]+)*"), provider().name());
        assertTrue(!provider().description().isBlank());
        assertNotNull(provider().options());
    }

    @Test
    void neverPicksAPathItWasNotOffered() {
        BalancingPolicy policy = create();
        List<TestPath> all = paths(6);
        SplittableRandom rnd = new SplittableRandom(42);
        for (int round = 0; round < 2000; round++) {
            List<TestPath> offered = new ArrayList<>();
            for (TestPath p : all) {
                if (rnd.nextBoolean()) {
                    offered.add(p);
                }
            }
            if (offered.isEmpty()) {
                offered.add(all.get(rnd.nextInt(all.size())));
            }
            if (round % 50 == 0) {
                policy.pathsChanged(offered);
            }
            PathView v = policy.select(offered, IoOp.WRITE, round * 4096L, 4096);
            assertTrue(offered.contains(v), "picked " + v + " from " + offered);
            policy.completed(v, IoOp.WRITE, 4096, 50_000 + rnd.nextInt(100_000), rnd.nextInt(20) == 0);
        }
    }

    @Test
    void handlesEmptyAndChangingPathSets() {
        BalancingPolicy policy = create();
        List<TestPath> all = paths(4);
        policy.pathsChanged(List.of());
        policy.pathsChanged(all);
        simulate(policy, all, 500, 8);
        List<TestPath> two = List.of(all.get(2), all.get(3));
        policy.pathsChanged(two);
        for (int i = 0; i < 100; i++) {
            assertTrue(two.contains(policy.select(two, IoOp.READ, 0, 4096)));
        }
        // A path with an index never seen before (discovered later) works at once.
        List<TestPath> grown = List.of(new TestPath(40), all.get(0));
        policy.pathsChanged(grown);
        for (int i = 0; i < 100; i++) {
            PathView v = policy.select(grown, IoOp.READ, 0, 4096);
            assertTrue(grown.contains(v));
            policy.completed(v, IoOp.READ, 4096, 10_000, false);
        }
        policy.pathsChanged(List.of());
    }

    @Test
    void isThreadSafeUnderConcurrentSubmitAndComplete() throws Exception {
        BalancingPolicy policy = create();
        List<TestPath> all = paths(4);
        policy.pathsChanged(all);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int seed = t;
            Thread th = new Thread(() -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                try {
                    for (int i = 0; i < 50_000; i++) {
                        List<TestPath> offered = i % 1000 < 500 ? all : all.subList(1, 3);
                        if (seed == 0 && i % 1000 == 0) {
                            policy.pathsChanged(offered);
                        }
                        TestPath p = (TestPath) policy.select(offered, IoOp.READ, 0, 4096);
                        if (!offered.contains(p)) {
                            throw new AssertionError("picked " + p + " from " + offered);
                        }
                        p.inFlight.incrementAndGet();
                        p.inFlightBytes.addAndGet(4096);
                        policy.completed(p, IoOp.READ, 4096, 20_000 + rnd.nextInt(50_000), false);
                        p.inFlight.decrementAndGet();
                        p.inFlightBytes.addAndGet(-4096);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        assertTrue(failures.isEmpty(), failures.toString());
    }

    @Test
    void spreadsLoad() {
        List<TestPath> all = paths(4);
        spreadsLoadAsItClaims(all, simulate(create(), all, 20_000, 32));
    }

    @Test
    void allocatesNothingPerRequest() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        BalancingPolicy policy = create();
        List<TestPath> all = paths(4);
        policy.pathsChanged(all);
        Runnable loop = () -> {
            for (int i = 0; i < 100_000; i++) {
                PathView p = policy.select(all, IoOp.READ, i * 4096L, 4096);
                policy.completed(p, IoOp.READ, 4096, 30_000 + (i & 1023), false);
            }
        };
        loop.run();
        long before = mx.getCurrentThreadAllocatedBytes();
        loop.run();
        long perRequest = (mx.getCurrentThreadAllocatedBytes() - before) / 100_000;
        assertEquals(0, perRequest, provider().name() + " allocates " + perRequest + " bytes per request");
    }

    static double share(int[] picks, int i) {
        int total = 0;
        for (int p : picks) {
            total += p;
        }
        return (double) picks[i] / total;
    }
}
