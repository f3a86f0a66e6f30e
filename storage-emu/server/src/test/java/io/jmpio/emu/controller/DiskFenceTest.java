package io.jmpio.emu.controller;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.netty.buffer.Unpooled;
import java.nio.file.Path;
import java.util.Arrays;
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
        try (ArrayServer array = ArrayServer.start(new ArrayConfig().dataDir(dir).basePort(0).portsPerController(1)
            .destageIntervalMillis(3_600_000).lun(LunSpec.parse("lun0:16M:A", "A", "memory")))) {
            assertTrue(array.awaitLinked(30_000), "the controllers linked up");
            Controller a = array.controller("A");
            // mirroring on: until A is in sync with B, a write is written through rather than cached
            long until = System.nanoTime() + 30_000_000_000L;
            while (!a.peerSynced && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertTrue(a.peerSynced, "A is in sync with B");
            byte[] data = new byte[4096];
            Arrays.fill(data, (byte) 0x5a);
            IoResult w = a.hostIo(0, Opcode.WRITE, false, 0, data.length, Unpooled.wrappedBuffer(data), 0).get();
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
