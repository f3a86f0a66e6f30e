package io.jmpio.core;

import io.jmpio.api.BlockDevice;
import io.jmpio.api.BlockIoException;
import io.jmpio.api.IoCallback;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A mixed random read/write workload whose every block carries its block number, a sequence number and a
 * CRC32C. Each worker owns the blocks b with b % workers == worker and keeps one request in flight, so the
 * last acknowledged write of a block is exactly what a read must return. Errors and mismatches are counted,
 * never hidden; the longest gap between completions is the stall.
 */
public final class VerifiedWorkload implements AutoCloseable {
    public static final int BLOCK = BlockPattern.BLOCK;

    private final BlockDevice device;
    private final int workers;
    private final long blocks;
    private final long[] ackedSeq;
    private final AtomicLong seq = new AtomicLong();
    public final AtomicLong completed = new AtomicLong();
    public final AtomicLong errors = new AtomicLong();
    public final AtomicLong mismatches = new AtomicLong();
    private final List<String> problems = new ArrayList<>();
    private volatile boolean running = true;
    private volatile long lastCompletionNanos = System.nanoTime();
    private volatile long longestStallNanos;
    private final AtomicLong idle = new AtomicLong();
    private volatile org.HdrHistogram.ConcurrentHistogram latency = new org.HdrHistogram.ConcurrentHistogram(3_600_000_000_000L, 2);

    public VerifiedWorkload(BlockDevice device, int workers, long blocks) {
        this.device = device;
        this.workers = workers;
        this.blocks = blocks;
        this.ackedSeq = new long[(int) blocks];
        for (int w = 0; w < workers; w++) {
            SplittableRandom rnd = new SplittableRandom(w * 7919L + 1);
            next(w, rnd);
        }
    }

    static byte[] content(long block, long seq) {
        return BlockPattern.content(block, seq);
    }

    private void next(int worker, SplittableRandom rnd) {
        if (!running) {
            idle.incrementAndGet();
            return;
        }
        long perWorker = blocks / workers;
        long block = rnd.nextLong(perWorker) * workers + worker;
        long start = System.nanoTime();
        if (rnd.nextInt(100) < 50) {
            long s = seq.incrementAndGet();
            byte[] data = content(block, s);
            device.write(block * BLOCK, Unpooled.wrappedBuffer(data), false, new IoCallback() {
                @Override
                public void completed(ByteBuf ignored) {
                    ackedSeq[(int) block] = s;
                    done(start);
                    next(worker, rnd);
                }

                @Override
                public void failed(BlockIoException e) {
                    error("write of block " + block + ": " + e.getMessage());
                    next(worker, rnd);
                }
            });
        } else {
            long expected = ackedSeq[(int) block];
            device.read(block * BLOCK, BLOCK, new IoCallback() {
                @Override
                public void completed(ByteBuf data) {
                    try {
                        check(block, expected, data);
                    } finally {
                        data.release();
                    }
                    done(start);
                    next(worker, rnd);
                }

                @Override
                public void failed(BlockIoException e) {
                    error("read of block " + block + ": " + e.getMessage());
                    next(worker, rnd);
                }
            });
        }
    }

    private void check(long block, long expectedSeq, ByteBuf data) {
        byte[] got = new byte[BLOCK];
        data.getBytes(data.readerIndex(), got);
        byte[] want = expectedSeq == 0 ? new byte[BLOCK] : content(block, expectedSeq);
        if (!java.util.Arrays.equals(got, want)) {
            mismatches.incrementAndGet();
            synchronized (problems) {
                if (problems.size() < 20) {
                    problems.add(expectedSeq == 0 ? "block " + block + " does not hold zeroes (never written), holds write #"
                        + BlockPattern.sequence(got) : BlockPattern.mismatch(block, expectedSeq, got));
                }
            }
        }
    }

    private void done(long start) {
        long now = System.nanoTime();
        latency.recordValue(Math.max(0, now - start));
        long gap = now - lastCompletionNanos;
        if (gap > longestStallNanos) {
            longestStallNanos = gap;
        }
        lastCompletionNanos = now;
        completed.incrementAndGet();
    }

    private void error(String what) {
        errors.incrementAndGet();
        synchronized (problems) {
            if (problems.size() < 20) {
                problems.add(what);
            }
        }
    }

    public long longestStallMillis() {
        return longestStallNanos / 1_000_000;
    }

    /** Starts a new observation window: the longest stall and the latency percentiles restart. */
    public void resetStall() {
        lastCompletionNanos = System.nanoTime();
        longestStallNanos = 0;
        latency = new org.HdrHistogram.ConcurrentHistogram(3_600_000_000_000L, 2);
    }

    /** A latency percentile of the requests completed in the current window, in milliseconds. */
    public double latencyMillis(double percentile) {
        return latency.getValueAtPercentile(percentile) / 1e6;
    }

    public List<String> problems() {
        synchronized (problems) {
            return new ArrayList<>(problems);
        }
    }

    /** Stops issuing and waits until every worker's last request completed. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        long deadline = System.currentTimeMillis() + 30_000;
        while (idle.get() < workers && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        if (idle.get() < workers) {
            throw new IllegalStateException((workers - idle.get()) + " workers still have a request in flight");
        }
    }

    /** Reads every block back and counts those that do not hold their last acknowledged write. */
    public long verifyAll() throws java.io.IOException {
        long bad = 0;
        for (long b = 0; b < blocks; b++) {
            byte[] got = Fixture.read(device, b * BLOCK, BLOCK);
            byte[] want = ackedSeq[(int) b] == 0 ? new byte[BLOCK] : content(b, ackedSeq[(int) b]);
            if (!java.util.Arrays.equals(got, want)) {
                bad++;
            }
        }
        return bad;
    }
}
