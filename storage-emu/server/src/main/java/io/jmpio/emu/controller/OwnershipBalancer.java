package io.jmpio.emu.controller;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Implicit ALUA transition (as NetApp E-Series' automatic volume transfer): the owner counts, per LUN and
 * window, the I/Os that reached it directly and those shipped from the peer. When the shipped share reaches
 * the threshold (default 75%) over a window with at least {@code minIos} I/Os, ownership should move to the peer.
 */
public final class OwnershipBalancer {
    private final double threshold;
    private final long windowNanos;
    private final long minIos;
    private final ConcurrentHashMap<Integer, LongAdder[]> counts = new ConcurrentHashMap<>();
    private long windowStart;

    public OwnershipBalancer(double threshold, long windowNanos, long minIos, long now) {
        if (threshold < 0 || threshold > 1) {
            throw new IllegalArgumentException("auto-transfer threshold must be within 0..1, got " + threshold);
        }
        this.threshold = threshold;
        this.windowNanos = windowNanos;
        this.minIos = minIos;
        this.windowStart = now;
    }

    public boolean enabled() {
        return threshold > 0;
    }

    private LongAdder[] of(int lun) {
        return counts.computeIfAbsent(lun, k -> new LongAdder[] {new LongAdder(), new LongAdder()});
    }

    public void recordLocal(int lun) {
        of(lun)[0].increment();
    }

    public void recordShipped(int lun) {
        of(lun)[1].increment();
    }

    /** {@code n} reads the peer answered itself under a read lease: they arrived there. */
    public void recordShipped(int lun, long n) {
        of(lun)[1].add(n);
    }

    /** Forgets a LUN's counts (after its ownership moved). */
    public void reset(int lun) {
        counts.remove(lun);
    }

    /** At the end of each window: the LUNs whose shipped share reached the threshold. */
    public synchronized List<Integer> evaluate(long now) {
        List<Integer> move = new ArrayList<>();
        if (now - windowStart < windowNanos) {
            return move;
        }
        windowStart = now;
        for (var e : counts.entrySet()) {
            long local = e.getValue()[0].sumThenReset();
            long shipped = e.getValue()[1].sumThenReset();
            long total = local + shipped;
            if (enabled() && total >= minIos && shipped >= threshold * total) {
                move.add(e.getKey());
            }
        }
        return move;
    }
}
