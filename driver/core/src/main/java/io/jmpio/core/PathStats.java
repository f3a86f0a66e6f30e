package io.jmpio.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * Counters and a latency histogram of one path (or of the whole device). Each I/O queue records into a shard
 * of its own, written by that queue's thread alone (plain arithmetic, published with opaque stores: no shared
 * atomic per request); readers sum the shards, and the statistics tick ({@link #roll}) merges the shards'
 * latency intervals into IOPS and percentiles that status and the metrics endpoint read. Events that are not
 * per request (path errors, retries) are plain {@link LongAdder}s, recorded from any thread.
 */
final class PathStats {
    private static final long MAX_LATENCY_NANOS = 3_600_000_000_000L;

    // the counters of a shard, by index in its array
    private static final int IOS = 0;
    private static final int BYTES = 1;
    private static final int READ_IOS = 2;
    private static final int WRITE_IOS = 3;
    private static final int LATENCY_SUM = 4;
    private static final int IN_FLIGHT = 5;
    private static final int IN_FLIGHT_BYTES = 6;
    private static final int COUNTERS = 7;

    final Counter ios = new Counter(IOS);
    final Counter bytes = new Counter(BYTES);
    final Counter readIos = new Counter(READ_IOS);
    final Counter writeIos = new Counter(WRITE_IOS);
    final Counter latencySumNanos = new Counter(LATENCY_SUM);
    /** Requests (and their bytes) sent on the path and not yet answered. */
    final Counter inFlight = new Counter(IN_FLIGHT);
    final Counter inFlightBytes = new Counter(IN_FLIGHT_BYTES);
    /** Failures that are the path's fault: transport errors, timeouts, lost connections. */
    final LongAdder pathErrors = new LongAdder();
    /** Requests the array turned away for its state (not owner, transitioning, standby, busy): retried. */
    final LongAdder retries = new LongAdder();

    private final Shard[] shards;
    private final Histogram total = new Histogram(MAX_LATENCY_NANOS, 2);
    private final Histogram interval = new Histogram(MAX_LATENCY_NANOS, 2);

    private long lastIos;
    private long lastNanos;
    private volatile double iops;
    private volatile long p50Nanos;
    private volatile long p99Nanos;

    /** Statistics recorded by {@code queues} I/O queues, queue {@code q} into shard {@code q}. */
    PathStats(int queues) {
        shards = new Shard[Math.max(1, queues)];
        for (int i = 0; i < shards.length; i++) {
            shards[i] = new Shard();
        }
    }

    /** Queue {@code queue}'s thread: a request of {@code length} bytes completed in {@code latencyNanos}. */
    void record(int queue, int length, long latencyNanos, boolean write) {
        Shard s = shards[queue];
        s.add(IOS, 1);
        s.add(BYTES, length);
        s.add(write ? WRITE_IOS : READ_IOS, 1);
        s.add(LATENCY_SUM, latencyNanos);
        s.latency.recordValue(Math.min(Math.max(latencyNanos, 0), MAX_LATENCY_NANOS));
    }

    /** Queue {@code queue}'s thread: a request of {@code length} bytes went out on the path. */
    void sent(int queue, int length) {
        Shard s = shards[queue];
        s.add(IN_FLIGHT, 1);
        s.add(IN_FLIGHT_BYTES, length);
    }

    /** Queue {@code queue}'s thread: a request it sent is no longer on the path (answered, or handed back). */
    void answered(int queue, int length) {
        Shard s = shards[queue];
        s.add(IN_FLIGHT, -1);
        s.add(IN_FLIGHT_BYTES, -length);
    }

    /** Requests queue {@code queue} has in flight on the path (its own shard: cheap from its own thread). */
    long inFlightOf(int queue) {
        return shards[queue].get(IN_FLIGHT);
    }

    long inFlightBytesOf(int queue) {
        return shards[queue].get(IN_FLIGHT_BYTES);
    }

    /** Closes the interval that began at the last roll. Called by one thread only. */
    synchronized void roll(long nowNanos) {
        interval.reset();
        for (Shard s : shards) {
            s.interval = s.latency.getIntervalHistogram(s.interval);
            interval.add(s.interval);
        }
        total.add(interval);
        long n = ios.sum();
        if (lastNanos != 0 && nowNanos > lastNanos) {
            iops = (n - lastIos) * 1e9 / (nowNanos - lastNanos);
        }
        lastIos = n;
        lastNanos = nowNanos;
        if (interval.getTotalCount() > 0) {
            p50Nanos = interval.getValueAtPercentile(50);
            p99Nanos = interval.getValueAtPercentile(99);
        }
    }

    double iops() { return iops; }
    long p50Nanos() { return p50Nanos; }
    long p99Nanos() { return p99Nanos; }

    /** Latency at a percentile over the device's whole life (for the metrics endpoint). */
    synchronized long totalPercentile(double percentile) {
        return total.getTotalCount() == 0 ? 0 : total.getValueAtPercentile(percentile);
    }

    synchronized long totalCount() {
        return total.getTotalCount();
    }

    synchronized double totalSumSeconds() {
        return total.getMean() * total.getTotalCount() / 1e9;
    }

    /** One counter, summed over the shards when read (a moment's sum: each shard's latest published value). */
    final class Counter {
        private final int index;

        private Counter(int index) {
            this.index = index;
        }

        long sum() {
            long sum = 0;
            for (Shard s : shards) {
                sum += s.get(index);
            }
            return sum;
        }
    }

    /** One queue's counters and latency recorder; written by that queue's thread only. */
    private static final class Shard {
        private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);
        // padded on both sides: the shards of several queues sit side by side in memory
        private final long[] values = new long[COUNTERS + 16];
        final SingleWriterRecorder latency = new SingleWriterRecorder(MAX_LATENCY_NANOS, 2);
        /** The last interval taken from the recorder, reused by the next roll. */
        Histogram interval;

        /** The writer's add: its own plain read, an opaque store that other threads see promptly. */
        void add(int counter, long n) {
            int at = counter + 8;
            SLOT.setOpaque(values, at, values[at] + n);
        }

        long get(int counter) {
            return (long) SLOT.getOpaque(values, counter + 8);
        }
    }
}
