package io.jmpio.policies;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.api.BalancingPolicy;
import io.jmpio.api.BalancingPolicyProvider;
import io.jmpio.api.IoOp;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Every built-in policy through the conformance suite, each with its own claim about spreading load. */
class PoliciesConformanceTests {
    /** One path made five times slower than the others gets clearly less than its even share. */
    static void avoidsTheSlowPath(List<PolicyConformanceTest.TestPath> paths, BalancingPolicy policy, String name) {
        paths.get(2).latencyNanos *= 5;
        int[] picks = PolicyConformanceTest.simulate(policy, paths, 40_000, 32);
        double slow = PolicyConformanceTest.share(picks, 2);
        assertTrue(slow < 0.15, name + " sent " + Math.round(slow * 100) + "% to the 5x slower path");
    }

    /** With one path already holding many requests, new ones go elsewhere. */
    static void avoidsTheBusiestPath(BalancingPolicy policy) {
        List<PolicyConformanceTest.TestPath> paths = PolicyConformanceTest.paths(3);
        paths.get(1).inFlight.set(50);
        paths.get(1).inFlightBytes.set(50 * 4096);
        for (PolicyConformanceTest.TestPath p : paths) {
            policy.completed(p, IoOp.READ, 4096, 100_000, false);
        }
        for (int i = 0; i < 30; i++) {
            assertTrue(policy.select(paths, IoOp.READ, 0, 4096) != paths.get(1));
        }
    }

    static void even(int[] picks, double tolerance) {
        for (int i = 0; i < picks.length; i++) {
            double s = PolicyConformanceTest.share(picks, i);
            assertTrue(Math.abs(s - 1.0 / picks.length) < tolerance, "share of path " + i + ": " + s);
        }
    }

    @Nested
    class RoundRobin extends PolicyConformanceTest {
        @Override
        BalancingPolicyProvider provider() {
            return new RoundRobinPolicy();
        }

        @Override
        void spreadsLoadAsItClaims(List<TestPath> paths, int[] picks) {
            for (int p : picks) {
                assertEquals(5000, p, 1);
            }
        }

        @Test
        void switchesAfterTheConfiguredNumberOfRequests() {
            BalancingPolicy rr = provider().create(Map.of("ios", "3"));
            List<TestPath> paths = paths(2);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 8; i++) {
                sb.append(rr.select(paths, IoOp.READ, 0, 4096).index());
            }
            assertEquals("00011100", sb.toString());
            assertThrows(IllegalArgumentException.class, () -> provider().create(Map.of("ios", "0")));
        }
    }

    @Nested
    class QueueLength extends PolicyConformanceTest {
        @Override
        BalancingPolicyProvider provider() {
            return new QueueLengthPolicy();
        }

        @Override
        void spreadsLoadAsItClaims(List<TestPath> paths, int[] picks) {
            even(picks, 0.05);
            avoidsTheBusiestPath(create());
        }
    }

    @Nested
    class LeastBlocks extends PolicyConformanceTest {
        @Override
        BalancingPolicyProvider provider() {
            return new LeastBlocksPolicy();
        }

        @Override
        void spreadsLoadAsItClaims(List<TestPath> paths, int[] picks) {
            even(picks, 0.05);
            avoidsTheBusiestPath(create());
        }
    }

    @Nested
    class ServiceTime extends PolicyConformanceTest {
        @Override
        BalancingPolicyProvider provider() {
            return new ServiceTimePolicy();
        }

        @Override
        void spreadsLoadAsItClaims(List<TestPath> paths, int[] picks) {
            even(picks, 0.05);
            avoidsTheBusiestPath(create());
        }

        @Test
        void favoursPathsWithMoreThroughput() {
            List<TestPath> paths = paths(2);
            BalancingPolicy st = provider().create(Map.of("throughput", "A0=3,A1=1"));
            paths.get(0).inFlightBytes.set(2 * 4096);
            paths.get(1).inFlightBytes.set(4096);
            for (int i = 0; i < 10; i++) {
                assertEquals(0, st.select(paths, IoOp.READ, 0, 4096).index(), "3x the throughput: twice the bytes is cheaper");
            }
            paths.get(0).inFlightBytes.set(8 * 4096);
            assertEquals(1, st.select(paths, IoOp.READ, 0, 4096).index());
            assertThrows(IllegalArgumentException.class, () -> provider().create(Map.of("throughput", "A0")));
        }
    }

    @Nested
    class HistoricalServiceTime extends PolicyConformanceTest {
        @Override
        BalancingPolicyProvider provider() {
            return new HistoricalServiceTimePolicy();
        }

        @Override
        void spreadsLoadAsItClaims(List<TestPath> paths, int[] picks) {
            even(picks, 0.08);
            avoidsTheSlowPath(PolicyConformanceTest.paths(4), create(), provider().name());
            avoidsTheBusiestPath(create());
        }
    }

    @Nested
    class Latency extends PolicyConformanceTest {
        @Override
        BalancingPolicyProvider provider() {
            return new LatencyPolicy();
        }

        @Override
        void spreadsLoadAsItClaims(List<TestPath> paths, int[] picks) {
            even(picks, 0.08);
            avoidsTheSlowPath(PolicyConformanceTest.paths(4), create(), provider().name());
        }
    }

    @Nested
    class Adaptive extends PolicyConformanceTest {
        @Override
        BalancingPolicyProvider provider() {
            return new AdaptivePolicy();
        }

        @Override
        void spreadsLoadAsItClaims(List<TestPath> paths, int[] picks) {
            even(picks, 0.08);
            avoidsTheSlowPath(PolicyConformanceTest.paths(4), create(), provider().name());
            avoidsTheBusiestPath(create());
        }
    }

    @Nested
    class Failover extends PolicyConformanceTest {
        @Override
        BalancingPolicyProvider provider() {
            return new FailoverPolicy();
        }

        @Override
        void spreadsLoadAsItClaims(List<TestPath> paths, int[] picks) {
            assertEquals(20_000, picks[0], "all I/O on the first path");
            BalancingPolicy f = create();
            assertEquals(0, f.select(paths, IoOp.READ, 0, 4096).index());
            List<TestPath> without0 = paths.subList(1, 4);
            assertEquals(1, f.select(without0, IoOp.READ, 0, 4096).index());
            assertEquals(1, f.select(paths, IoOp.READ, 0, 4096).index(), "stays on the most recently used path");
        }
    }
}
