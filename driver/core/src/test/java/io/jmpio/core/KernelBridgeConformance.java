package io.jmpio.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.api.KernelBridge;
import io.jmpio.emu.array.ArrayServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one conformance suite every kernel bridge runs (as the policies have theirs): a multipath device over
 * NVMe/TCP to the emulated pair, exposed by the bridge, driven from the kernel side of it (an NBD client, a block
 * device opened with O_DIRECT). Checksummed random I/O at several sizes and alignments; FUA, flush, discard and
 * write-zeroes semantics; a controller killed mid-write; detach with a request in flight (it is answered).
 * A subclass says how to start its bridge and how to reach it.
 */
public abstract class KernelBridgeConformance {
    protected static final long SIZE = 64L << 20;

    /** Block I/O through the kernel side of a bridge. */
    public interface BlockTarget extends AutoCloseable {
        void write(long offset, byte[] data, boolean fua) throws IOException;

        byte[] read(long offset, int length) throws IOException;

        void flush() throws IOException;

        void discard(long offset, long length) throws IOException;

        void writeZeroes(long offset, long length) throws IOException;

        @Override
        void close() throws IOException;
    }

    @TempDir
    protected Path dir;
    protected ArrayServer array;
    protected MultipathDevice device;
    protected KernelBridge bridge;

    /** Starts this bridge over {@code device} (its files, if any, under {@code dir}). */
    protected abstract KernelBridge startBridge(MultipathDevice device, Path dir) throws Exception;

    /** A new connection or open of the bridge's kernel side. */
    protected abstract BlockTarget open(KernelBridge bridge) throws Exception;

    @BeforeEach
    void startArrayDeviceAndBridge() throws Exception {
        array = Fixture.linkedArray(dir.resolve("array"), "lun0:" + (SIZE >> 20) + "M:A", "memory");
        device = Fixture.deviceOnFourPaths(array, "nqn.2014-08.io.jmpio:conformance", NoPathRetry.QUEUE);
        bridge = startBridge(device, dir);
    }

    @AfterEach
    void stopEverything() {
        Fixture.closeAll(bridge, device, array);
    }

    /** {@code length} bytes whose every 512-byte sector carries its own offset, a tag and a CRC of the rest. */
    protected static byte[] stamped(long offset, int length, long tag) {
        byte[] b = new byte[length];
        SplittableRandom r = new SplittableRandom(offset * 31 + tag);
        for (int s = 0; s < length; s += 512) {
            ByteBuffer sector = ByteBuffer.wrap(b, s, 512).slice();
            sector.putLong(offset + s).putLong(tag);
            for (int i = 16; i < 508; i++) {
                sector.put(i, (byte) r.nextInt());
            }
            CRC32C crc = new CRC32C();
            crc.update(b, s, 508);
            sector.putInt(508, (int) crc.getValue());
        }
        return b;
    }

    @Test
    void randomIoAtSeveralSizesAndAlignmentsReadsBackWhatWasWritten() throws Exception {
        int[] sizes = {512, 4096, 4096 + 512, 65536, 1 << 20};
        SplittableRandom r = new SplittableRandom(11);
        List<long[]> writes = new ArrayList<>();
        try (BlockTarget t = open(bridge)) {
            for (int i = 0; i < 40; i++) {
                int len = sizes[i % sizes.length];
                // 512-aligned (sector) and 4 KiB-aligned offsets alike, in disjoint slots
                long slot = (long) i * (3L << 19); // 1.5 MiB each: 40 of them within the 64 MiB LUN
                long off = slot + (r.nextBoolean() ? r.nextInt(1024) * 512L : r.nextInt(128) * 4096L);
                t.write(off, stamped(off, len, i), false);
                writes.add(new long[] {off, len, i});
            }
            for (long[] w : writes) {
                assertArrayEquals(stamped(w[0], (int) w[1], w[2]), t.read(w[0], (int) w[1]), "at " + w[0] + "+" + w[1]);
            }
        }
        try (BlockTarget again = open(bridge)) {
            long[] w = writes.get(7);
            assertArrayEquals(stamped(w[0], (int) w[1], w[2]), again.read(w[0], (int) w[1]), "through a new connection");
        }
    }

    @Test
    void fuaFlushDiscardAndWriteZeroesDoWhatTheySay() throws Exception {
        try (BlockTarget t = open(bridge)) {
            byte[] fua = stamped(1 << 20, 8192, 1);
            t.write(1 << 20, fua, true);
            assertArrayEquals(fua, t.read(1 << 20, 8192), "a FUA write");
            t.flush();
            t.write(4 << 20, stamped(4 << 20, 65536, 2), false);
            t.discard(4 << 20, 32768);
            assertArrayEquals(new byte[32768], t.read(4 << 20, 32768), "a discarded range reads back as zeroes");
            assertArrayEquals(java.util.Arrays.copyOfRange(stamped(4 << 20, 65536, 2), 32768, 65536),
                t.read((4 << 20) + 32768, 32768), "what follows a discarded range is untouched");
            t.write(8 << 20, stamped(8 << 20, 16384, 3), false);
            t.writeZeroes(8 << 20, 16384);
            assertArrayEquals(new byte[16384], t.read(8 << 20, 16384), "written zeroes");
            t.flush();
        }
        // the FUA write reads back through a new connection too
        try (BlockTarget t = open(bridge)) {
            assertArrayEquals(stamped(1 << 20, 8192, 1), t.read(1 << 20, 8192));
        }
    }

    @Test
    void writesCarryOnAndStayIntactWhenTheOwnerIsKilledMidWrite() throws Exception {
        AtomicLong done = new AtomicLong();
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (BlockTarget t = open(bridge)) {
                for (int i = 0; i < 600; i++) {
                    long off = (long) (i % 300) * 65536;
                    t.write(off, stamped(off, 65536, i), false);
                    done.incrementAndGet();
                }
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        Fixture.await("writes under way", 15_000, () -> done.get() > 100);
        array.controller("A").kill();
        writer.get(Fixture.paced(90_000), TimeUnit.MILLISECONDS);
        assertEquals(600, done.get());
        try (BlockTarget t = open(bridge)) {
            for (int i = 300; i < 600; i++) {
                long off = (long) (i % 300) * 65536;
                assertArrayEquals(stamped(off, 65536, i), t.read(off, 65536), "block written as " + i);
            }
        }
        assertTrue(device.activeController().startsWith("P1") && device.activeController().length() == 3,
            "I/O moved to B's ports after A was killed: " + device.activeController());
    }

    @Test
    void detachAnswersARequestInFlight() throws Exception {
        BlockTarget t = open(bridge);
        try {
            t.write(0, stamped(0, 4096, 1), false);
            array.controller("A").pause();
            array.controller("B").pause();
            CompletableFuture<Object> stuck = CompletableFuture.supplyAsync(() -> {
                try {
                    t.write(65536, stamped(65536, 4096, 2), false);
                    return "written";
                } catch (Exception e) {
                    return e;
                }
            });
            Thread.sleep(1000);
            assertTrue(!stuck.isDone(), "the write waits for a path (no-path-retry queue)");
            long answerWithinMillis = Fixture.paced(15_000);
            long t0 = System.nanoTime();
            bridge.close();
            Object outcome = stuck.get(answerWithinMillis, TimeUnit.MILLISECONDS);
            assertTrue(outcome instanceof Exception, "a write the device could not finish fails: " + outcome);
            assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(answerWithinMillis));
        } finally {
            bridge = null;
            try {
                t.close();
            } catch (IOException ignored) {
                // the bridge is gone
            }
            array.controller("A").resume();
            array.controller("B").resume();
        }
    }
}
