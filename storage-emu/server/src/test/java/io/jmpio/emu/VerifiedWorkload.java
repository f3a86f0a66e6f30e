package io.jmpio.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A legitimate host beside the attackers: writes 4 KiB blocks (each stamped with its offset and a sequence
 * number) to the first blocks of lun0 through one port, remembers every acknowledged one, and reads them
 * all back at the end. Path statuses are retried as a multipath host would.
 */
final class VerifiedWorkload implements AutoCloseable {
    static final int BLOCK = 4096;
    static final int BLOCKS = 256;

    private final Harness.Host host;
    private final Map<Long, byte[]> acked = new ConcurrentHashMap<>();
    private final AtomicInteger writes = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean stop;

    VerifiedWorkload(io.jmpio.emu.array.ArrayServer array, String port) throws Exception {
        host = new Harness.Host(array, port, "verifier");
        thread = new Thread(this::run, "verified-workload");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        Random r = new Random(42);
        long seq = 0;
        try {
            while (!stop) {
                long offset = (long) r.nextInt(BLOCKS) * BLOCK;
                byte[] data = new byte[BLOCK];
                r.nextBytes(data);
                ByteBuffer.wrap(data).putLong(offset).putLong(++seq);
                host.writeRetrying(offset, data);
                acked.put(offset, data);
                writes.incrementAndGet();
            }
        } catch (Throwable t) {
            failure.set(t);
        }
    }

    int writes() {
        return writes.get();
    }

    /** Stops writing, then reads back every acknowledged block through {@code reader}. */
    void verify(Harness.Host reader) throws Exception {
        stop = true;
        thread.join(30_000);
        if (failure.get() != null) {
            throw new AssertionError("the legitimate host failed while under attack", failure.get());
        }
        assertTrue(writes.get() > 0, "the legitimate host got writes through");
        for (Map.Entry<Long, byte[]> e : acked.entrySet()) {
            assertArrayEquals(e.getValue(), reader.read(e.getKey(), BLOCK), "acknowledged block at " + e.getKey());
        }
    }

    void verify() throws Exception {
        verify(host);
    }

    @Override
    public void close() throws java.io.IOException {
        stop = true;
        host.close();
    }
}
