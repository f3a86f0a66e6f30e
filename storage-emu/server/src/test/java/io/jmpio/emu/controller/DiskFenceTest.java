package io.jmpio.emu.controller;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jmpio.emu.array.ArrayServer;
import java.nio.file.Path;
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
            assertEquals(1, a.destager.destageLun(l), "once resumed (and still the owner) it destages again");
            l.store.read(0, onDisk, 0, onDisk.length);
            assertArrayEquals(data, onDisk);
        }
    }
}
