package io.jmpio.emu.controller;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * A killed owner started again before its peer has taken over (the peer's timers stalled on a loaded host, or
 * the restart was quicker than the peer's timeout) must not serve its LUNs with the write cache it lost: the
 * acknowledged writes in it are only in the peer's mirror. The soak's restart fault under load found this.
 */
class RestartTakeoverTest {
    @TempDir
    Path dir;

    @Test
    void aQuicklyRestartedOwnerWaitsForThePeersTakeover() throws Exception {
        try (ArrayServer array = ArrayServer.start(new ArrayConfig().dataDir(dir).basePort(0).portsPerController(1)
            .destageIntervalMillis(3_600_000).failback("manual").lun(LunSpec.parse("lun0:16M:A", "A", "memory")))) {
            assertTrue(array.awaitLinked(30_000), "the controllers linked up");
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            long until = System.nanoTime() + 30_000_000_000L;
            while (!a.peerSynced && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertTrue(a.peerSynced, "A is in sync with B");
            byte[] data = new byte[4096];
            Arrays.fill(data, (byte) 0x3c);
            IoResult w = a.hostIo(0, Opcode.WRITE, false, 8192, data.length, Unpooled.wrappedBuffer(data), 0).get();
            assertEquals(Status.GOOD, w.status(), "the write is acknowledged (cached in A, mirrored in B)");

            a.kill();
            a.start(); // at once: B has not noticed yet, and has not taken lun0 over

            assertEquals("B", array.metadata().load().byName("lun0").owner(),
                "A started only once B had taken lun0 over from its mirror");
            byte[] got = new byte[4096];
            IoResult r = b.hostIo(0, Opcode.READ, false, 8192, got.length, null, 0).get();
            assertEquals(Status.GOOD, r.status());
            r.data().readBytes(got);
            r.releaseData();
            assertArrayEquals(data, got, "the write A acknowledged before it was killed is there");
        }
    }
}
