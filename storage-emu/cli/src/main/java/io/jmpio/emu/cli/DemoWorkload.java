package io.jmpio.emu.cli;

import io.jmpio.core.BlockPattern;
import io.jmpio.netty.FailureText;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.HdrHistogram.ConcurrentHistogram;

/**
 * The demo's verified workload through the bridge: worker threads with one request each in flight, half
 * writes and half reads of 4 KiB blocks. Worker w owns the blocks b with b % workers == w, so the last
 * acknowledged write of a block is what a read must return; every read is checked. Counts errors the
 * application sees, mismatches, the longest gap between completions, and latency per phase.
 */
final class DemoWorkload {
    private final String location;
    private final int workers;
    private final long blocks;
    private final AtomicLongArray ackedSeq;
    private final AtomicLong seq = new AtomicLong();
    /** When each recent write was acknowledged (nanos, by sequence number modulo its size), to date a stale read. */
    private final AtomicLongArray ackedAtBySeq = new AtomicLongArray(1 << 20);
    final long startNanos = System.nanoTime();
    final AtomicLong ios = new AtomicLong();
    final AtomicLong verifiedReads = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong mismatches = new AtomicLong();
    final List<String> problems = new ArrayList<>();
    final ConcurrentHistogram[] phaseLatency;
    volatile int phase;
    private volatile boolean running = true;
    private volatile long lastCompletion = System.nanoTime();
    volatile long longestStallNanos;
    private final List<Thread> threads = new ArrayList<>();

    DemoWorkload(String location, int workers, long blocks, int phases) {
        this.location = location;
        this.workers = workers;
        this.blocks = blocks;
        this.ackedSeq = new AtomicLongArray((int) blocks);
        this.phaseLatency = new ConcurrentHistogram[phases];
        for (int i = 0; i < phases; i++) {
            phaseLatency[i] = new ConcurrentHistogram(3_600_000_000_000L, 2);
        }
    }

    void start() throws java.io.IOException {
        List<DemoTarget> targets = new ArrayList<>();
        try {
            for (int w = 0; w < workers; w++) {
                targets.add(DemoTarget.open(location));
            }
        } catch (java.io.IOException e) {
            for (DemoTarget t : targets) {
                try {
                    t.close();
                } catch (java.io.IOException ignored) {
                    // opening failed anyway
                }
            }
            throw e;
        }
        lastCompletion = System.nanoTime();
        for (int w = 0; w < workers; w++) {
            int worker = w;
            DemoTarget t = targets.get(w);
            Thread th = new Thread(() -> run(worker, t), "jmpio-demo-worker-" + w);
            th.setDaemon(true);
            threads.add(th);
            th.start();
        }
    }

    private void run(int worker, DemoTarget target) {
        SplittableRandom rnd = new SplittableRandom(worker * 7919L + 17);
        byte[] buf = new byte[BlockPattern.BLOCK];
        long perWorker = blocks / workers;
        try (target) {
            while (running) {
                long block = rnd.nextLong(perWorker) * workers + worker;
                long t0 = System.nanoTime();
                try {
                    if (rnd.nextBoolean()) {
                        long s = seq.incrementAndGet();
                        target.write(block * BlockPattern.BLOCK, BlockPattern.content(block, s));
                        ackedSeq.set((int) block, s);
                        ackedAtBySeq.set((int) (s & (ackedAtBySeq.length() - 1)), System.nanoTime());
                    } else {
                        long expected = ackedSeq.get((int) block);
                        target.read(block * BlockPattern.BLOCK, buf);
                        String bad = BlockPattern.mismatch(block, expected, buf);
                        if (bad != null) {
                            mismatches.incrementAndGet();
                            note(dated(bad, expected, buf));
                        } else {
                            verifiedReads.incrementAndGet();
                        }
                    }
                    completed(t0);
                } catch (java.io.IOException e) {
                    errors.incrementAndGet();
                    note("I/O error seen by the application: " + FailureText.of(e));
                }
            }
        } catch (java.io.IOException e) {
            note("closing: " + FailureText.of(e));
        }
    }

    /** A mismatch with the times (seconds since the start) of the read and of the writes it involves. */
    private String dated(String bad, long expected, byte[] got) {
        long gotSeq = BlockPattern.sequence(got);
        return String.format(java.util.Locale.ROOT, "%s at %.3f s (expected write acknowledged at %s, the one read at %s)",
            bad, (System.nanoTime() - startNanos) / 1e9, ackedAt(expected), ackedAt(gotSeq));
    }

    private String ackedAt(long s) {
        long current = seq.get();
        if (s <= 0 || s > current || current - s >= ackedAtBySeq.length()) {
            return "?";
        }
        long at = ackedAtBySeq.get((int) (s & (ackedAtBySeq.length() - 1)));
        return at == 0 ? "?" : String.format(java.util.Locale.ROOT, "%.3f s", (at - startNanos) / 1e9);
    }

    private void completed(long t0) {
        long now = System.nanoTime();
        phaseLatency[phase].recordValue(Math.max(0, now - t0));
        long gap = now - lastCompletion;
        if (gap > longestStallNanos) {
            longestStallNanos = gap;
        }
        lastCompletion = now;
        ios.incrementAndGet();
    }

    private void note(String what) {
        synchronized (problems) {
            if (problems.size() < 40) {
                problems.add(what);
            }
        }
    }

    void stop() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(30_000);
        }
    }

    /** Reads back every block through a fresh connection and counts those not holding their last write. */
    long verifyAll() throws java.io.IOException {
        long bad = 0;
        byte[] buf = new byte[BlockPattern.BLOCK];
        try (DemoTarget t = DemoTarget.open(location)) {
            for (long b = 0; b < blocks; b++) {
                t.read(b * BlockPattern.BLOCK, buf);
                String why = BlockPattern.mismatch(b, ackedSeq.get((int) b), buf);
                if (why != null) {
                    bad++;
                    note("final check: " + why);
                }
            }
        }
        return bad;
    }
}
