package io.jmpio.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** Each queue records into its own shard; readers and the statistics tick see the sum of all of them. */
class PathStatsTest {
    @Test
    void queuesRecordingAtOnceAddUpAndTheTickMergesTheirLatencies() throws Exception {
        int queues = 3;
        int perQueue = 200_000;
        PathStats s = new PathStats(queues);
        CountDownLatch start = new CountDownLatch(1);
        Thread[] threads = new Thread[queues];
        for (int q = 0; q < queues; q++) {
            int queue = q;
            threads[q] = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perQueue; i++) {
                    s.sent(queue, 4096);
                    // queue q's requests take (q + 1) ms: the merged percentiles must cover every queue's
                    s.record(queue, 4096, (queue + 1) * 1_000_000L, (i & 1) == 1);
                    s.answered(queue, 4096);
                }
                s.sent(queue, 512); // one left in flight per queue
            });
            threads[q].start();
        }
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        long n = (long) queues * perQueue;
        assertEquals(n, s.ios.sum());
        assertEquals(n * 4096, s.bytes.sum());
        assertEquals(n / 2, s.readIos.sum());
        assertEquals(n / 2, s.writeIos.sum());
        assertEquals((long) perQueue * (1 + 2 + 3) * 1_000_000L, s.latencySumNanos.sum());
        assertEquals(queues, s.inFlight.sum());
        assertEquals(queues * 512L, s.inFlightBytes.sum());

        s.roll(1_000_000_000L);
        assertEquals(n, s.totalCount(), "every queue's latencies reach the histogram");
        assertTrue(Math.abs(s.p50Nanos() - 2_000_000L) < 50_000, "median of 1, 2 and 3 ms: " + s.p50Nanos());
        assertTrue(Math.abs(s.p99Nanos() - 3_000_000L) < 50_000, "p99: " + s.p99Nanos());
        s.roll(2_000_000_000L);
        assertEquals(n, s.totalCount(), "an interval is counted once");
    }
}
