package io.jmpio.emu.controller;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;

/** One controller's counters for one LUN. Shipping's added latency is the round trip over the link. */
final class LunStats {
    final LongAdder reads = new LongAdder();
    final LongAdder writes = new LongAdder();
    final LongAdder readBytes = new LongAdder();
    final LongAdder writeBytes = new LongAdder();
    final LongAdder otherOps = new LongAdder();
    final LongAdder errors = new LongAdder();
    final LongAdder shippedOut = new LongAdder();
    final LongAdder shippedOutBytes = new LongAdder();
    final LongAdder shippedIn = new LongAdder();
    /** Non-owner: reads answered here under the owner's read lease (media and mirror), not shipped. */
    final LongAdder localReads = new LongAdder();
    final LongAdder mirrorWrites = new LongAdder();
    final LongAdder writeThroughs = new LongAdder();
    final LongAdder destagedBytes = new LongAdder();
    /** Non-owner: reads answered from the mirror by shipped-write positions, without a round trip. */
    final LongAdder mirrorReads = new LongAdder();
    final LongAdder positionsRevoked = new LongAdder();
    /** Non-owner: writes whose data went to the owner chunk by chunk as the host sent it (R2T on its behalf). */
    final LongAdder streamedWrites = new LongAdder();
    /** Non-owner: shipped writes whose mirror copy it kept from the host's data, the owner sending none back. */
    final LongAdder mirrorCopiesKept = new LongAdder();
    /** Non-owner: shipped writes failed as transitioning because their copy came back after ownership changed. */
    final LongAdder mirrorCopiesRefused = new LongAdder();
    final ConcurrentHistogram shipLatencyNanos = new ConcurrentHistogram(TimeUnit.SECONDS.toNanos(60), 2);

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("reads", reads.sum());
        m.put("writes", writes.sum());
        m.put("readBytes", readBytes.sum());
        m.put("writeBytes", writeBytes.sum());
        m.put("otherOps", otherOps.sum());
        m.put("errors", errors.sum());
        m.put("shippedOut", shippedOut.sum());
        m.put("shippedOutBytes", shippedOutBytes.sum());
        m.put("shippedIn", shippedIn.sum());
        m.put("localReads", localReads.sum());
        m.put("mirrorWrites", mirrorWrites.sum());
        m.put("writeThroughs", writeThroughs.sum());
        m.put("destagedBytes", destagedBytes.sum());
        m.put("mirrorReads", mirrorReads.sum());
        m.put("positionsRevoked", positionsRevoked.sum());
        m.put("streamedWrites", streamedWrites.sum());
        m.put("mirrorCopiesKept", mirrorCopiesKept.sum());
        m.put("mirrorCopiesRefused", mirrorCopiesRefused.sum());
        m.put("shipAddedLatencyMeanMicros", shipLatencyNanos.getTotalCount() == 0 ? 0.0 : shipLatencyNanos.getMean() / 1000.0);
        m.put("shipAddedLatencyP50Micros", shipLatencyNanos.getValueAtPercentile(50) / 1000.0);
        m.put("shipAddedLatencyP99Micros", shipLatencyNanos.getValueAtPercentile(99) / 1000.0);
        return m;
    }
}
