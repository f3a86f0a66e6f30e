package io.jmpio.emu.controller;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.store.BackingStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A controller that is paused (or killed) writes nothing more to the shared drives, not even the rest of a destage
 * it had begun: otherwise its older cached copy can land over what the peer wrote after taking over. The soak found
 * this (reads returning writes older than the last acknowledged one, right after a pause or kill of the owner
 * under load, with the controllers of one process sharing a memory LUN's store).
 */
class DiskFenceTest {
    @TempDir
    Path dir;

    @Test
    void aPausedOwnerDestagesNothing() throws Exception {
        // destage only when asked, so the write below is still dirty when the controller is paused
        try (ArrayServer array = SyncedPair.start(dir)) {
            Controller a = array.controller("A");
            byte[] data = SyncedPair.block((byte) 0x5a);
            IoResult w = SyncedPair.write(a, 0, data);
            assertEquals(Status.GOOD, w.status(), "the write is acknowledged (cached, mirrored)");
            Lun l = a.luns.get(0);
            assertEquals(1, l.cache.snapshot().size(), "the write is still dirty in A's cache");

            a.pause();
            assertThrows(OwnerIo.FencedException.class, () -> a.destager.destageLun(l));
            byte[] onDisk = new byte[4096];
            l.store.read(0, onDisk, 0, onDisk.length);
            assertArrayEquals(new byte[4096], onDisk, "a paused controller wrote to the shared drive");
            assertEquals(1, l.cache.snapshot().size(), "what was not destaged stays cached (and journaled)");

            a.resume();
            // a resumed owner writes its drives again once the peer has seen it alive (see OwnerFence)
            SyncedPair.await(() -> !a.ownerFence.closed(), "B has seen A alive again");
            a.destager.destageLun(l); // (the resync with B may have destaged it already)
            assertEquals(0, l.cache.snapshot().size(), "once resumed (and still the owner) it destages again");
            l.store.read(0, onDisk, 0, onDisk.length);
            assertArrayEquals(data, onDisk);
        }
    }

    /**
     * A frozen process (docker pause, SIGSTOP, a VM stall) is not paused by anyone: it stops wherever it was and goes on
     * from there when thawed, mid-destage included, with the snapshot of dirty extents it took before the freeze.
     * Meanwhile the peer took over and wrote newer data; every further extent must see that its timers stalled and stop.
     * The container test's docker pause found this (acknowledged writes read back older after the owner was thawed).
     */
    @Test
    void anOwnerFrozenMidDestageWritesNoFurtherExtent() throws Exception {
        try (ArrayServer array = SyncedPair.start(dir)) {
            Controller a = array.controller("A");
            Lun plain = a.luns.get(0);
            FreezingStore store = new FreezingStore(plain.store, a);
            Lun l = new Lun("A", plain.record, store);
            a.luns.put(0, l);
            byte[] first = SyncedPair.block((byte) 0x11);
            byte[] second = SyncedPair.block((byte) 0x22);
            assertEquals(Status.GOOD, SyncedPair.write(a, 0, first).status());
            assertEquals(Status.GOOD, SyncedPair.write(a, 1 << 20, second).status());
            assertEquals(2, l.cache.snapshot().size(), "two dirty extents");

            assertThrows(OwnerIo.FencedException.class, () -> a.destager.destageLun(l),
                "the destage stops at the first extent after the freeze");
            assertEquals(1, store.writes, "a thawed owner went on writing its old snapshot to the shared drive");
            assertEquals(2, l.cache.snapshot().size(), "both stay cached (and journaled) until the destage completes");
        }
    }

    /** Freezes controller {@code c} (its timers seen as stalled for 10 s) right after the first write reaches the drive. */
    private static final class FreezingStore implements BackingStore {
        private final BackingStore drive;
        private final Controller c;
        int writes;

        FreezingStore(BackingStore drive, Controller c) {
            this.drive = drive;
            this.c = c;
        }

        @Override
        public void write(long offset, byte[] src, int srcOffset, int length) throws IOException {
            drive.write(offset, src, srcOffset, length);
            if (writes++ == 0) {
                c.lastTickNanos = c.clock.nanos() - TimeUnit.SECONDS.toNanos(10);
            }
        }

        @Override
        public void read(long offset, byte[] dst, int dstOffset, int length) throws IOException {
            drive.read(offset, dst, dstOffset, length);
        }

        @Override
        public void writeZeroes(long offset, long length) throws IOException {
            drive.writeZeroes(offset, length);
        }

        @Override
        public void force() throws IOException {
            drive.force();
        }

        @Override
        public void resize(long bytes) throws IOException {
            drive.resize(bytes);
        }

        @Override
        public String kind() {
            return drive.kind();
        }

        @Override
        public boolean shared() {
            return drive.shared();
        }

        @Override
        public void close() {
            // the real drive belongs to the LUN the test replaced
        }
    }
}
