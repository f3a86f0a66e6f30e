package io.jmpio.emu.controller;

import static io.jmpio.emu.controller.SyncedPair.block;
import static io.jmpio.emu.controller.SyncedPair.owner;
import static io.jmpio.emu.controller.SyncedPair.read;
import static io.jmpio.emu.controller.SyncedPair.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jmpio.emu.array.ArrayServer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A killed owner started again before its peer has taken over (the peer's timers stalled on a loaded host, or
 * the restart was quicker than the peer's timeout) must not serve its LUNs with the write cache it lost: the
 * acknowledged writes in it are only in the peer's mirror. The soak's restart fault under load found this.
 */
class RestartTakeoverTest {
    @TempDir
    Path dir;

    @Test
    void aQuicklyRestartedOwnerWaitsForThePeersTakeover() throws Exception {
        try (ArrayServer array = SyncedPair.start(dir)) {
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            byte[] data = block((byte) 0x3c);
            assertEquals(Status.GOOD, write(a, 8192, data).status(), "the write is acknowledged (cached in A, mirrored in B)");

            a.kill();
            a.start(); // at once: B has not noticed yet, and has not taken lun0 over

            assertEquals("B", owner(array), "A started only once B had taken lun0 over from its mirror");
            assertArrayEquals(data, read(b, 8192), "the write A acknowledged before it was killed is there");
        }
    }
}
