package io.jmpio.core;

import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Counters and a latency histogram of one path (or of the whole device). I/O threads record without
 * locks; the statistics tick ({@link #roll}) turns the interval into IOPS and percentiles that status
 * and the metrics endpoint read.
 */
final class PathStats {
    private static final long MAX_LATENCY_NANOS = 3_600_000_000_000L;

    final LongAdder ios = new LongAdder();
    final LongAdder bytes = new LongAdder();
    final LongAdder readIos = new LongAdder();
    final LongAdder writeIos = new LongAdder();
    /** Failures that are the path's fault: transport errors, timeouts, lost connections. */
    final LongAdder pathErrors = new LongAdder();
    /** Requests the array turned away for its state (not owner, transitioning, standby, busy): retried. */
    final LongAdder retries = new LongAdder();
    final LongAdder latencySumNanos = new LongAdder();
    private final Recorder recorder = new Recorder(MAX_LATENCY_NANOS, 2);
    private final Histogram total = new Histogram(MAX_LATENCY_NANOS, 2);
    private Histogram interval;

    private long lastIos;
    private long lastNanos;
    private volatile double iops;
    private volatile long p50Nanos;
    private volatile long p99Nanos;

    void record(int length, long latencyNanos, boolean write) {
        ios.increment();
        bytes.add(length);
        (write ? writeIos : readIos).increment();
        latencySumNanos.add(latencyNanos);
        recorder.recordValue(Math.min(Math.max(latencyNanos, 0), MAX_LATENCY_NANOS));
    }

    /** Closes the interval that began at the last roll. Called by one thread only. */
    synchronized void roll(long nowNanos) {
        interval = recorder.getIntervalHistogram(interval);
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
}
