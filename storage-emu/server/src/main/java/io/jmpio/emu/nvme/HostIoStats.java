package io.jmpio.emu.nvme;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** One host's I/O through one controller's NVMe/TCP ports, by host NQN (kept while the controller runs). */
final class HostIoStats {
    final LongAdder reads = new LongAdder();
    final LongAdder writes = new LongAdder();
    final LongAdder readBytes = new LongAdder();
    final LongAdder writeBytes = new LongAdder();
    final LongAdder otherOps = new LongAdder();
    final LongAdder errors = new LongAdder();

    void record(boolean read, boolean write, long bytes, boolean good) {
        if (read) {
            reads.increment();
            readBytes.add(bytes);
        } else if (write) {
            writes.increment();
            writeBytes.add(bytes);
        } else {
            otherOps.increment();
        }
        if (!good) {
            errors.increment();
        }
    }

    Map<String, Long> toMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("reads", reads.sum());
        m.put("writes", writes.sum());
        m.put("readBytes", readBytes.sum());
        m.put("writeBytes", writeBytes.sum());
        m.put("otherOps", otherOps.sum());
        m.put("errors", errors.sum());
        return m;
    }
}
