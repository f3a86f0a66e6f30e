package io.jmpio.emu.controller;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import io.netty.buffer.Unpooled;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.BooleanSupplier;
import io.jmpio.emu.array.LunSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A takeover replays the dead owner's mirrored writes, but never one older than what the owner wrote to the
 * drives since: while the link was cut the owner wrote through, and the mirror kept its older copy of the range.
 * The soak found this (a partition, then a kill of the owner soon after: every write of the partition reverted).
 */
class MirrorReplayTest {
    @TempDir
    Path dir;

    @Test
    void aTakeoverDoesNotReplayAMirroredCopyOlderThanTheDrive() throws Exception {
        try (ArrayServer array = ArrayServer.start(new ArrayConfig().dataDir(dir).basePort(0).portsPerController(1)
            .destageIntervalMillis(3_600_000).failback("manual").lun(LunSpec.parse("lun0:16M:A", "A", "memory")))) {
            assertTrue(array.awaitLinked(30_000), "the controllers linked up");
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            await(() -> a.peerSynced, "A is in sync with B");
            byte[] older = block((byte) 0x11);
            assertEquals(Status.GOOD, write(a, older).status(), "the first write is acknowledged (mirrored in B)");
            assertEquals(1, b.luns.get(0).mirror.snapshot().size(), "B's mirror holds it");

            a.partitionLink();
            b.partitionLink();
            await(() -> a.peerState() == PeerState.PARTITIONED, "A sees the link cut");
            byte[] newer = block((byte) 0x22);
            assertEquals(Status.GOOD, write(a, newer).status(), "the second write is acknowledged (written through)");

            a.kill();
            await(() -> "B".equals(owner(array)), "B takes lun0 over");
            byte[] got = new byte[4096];
            IoResult r = b.hostIo(0, Opcode.READ, false, 0, got.length, null, 0).get();
            assertEquals(Status.GOOD, r.status());
            r.data().readBytes(got);
            r.releaseData();
            assertArrayEquals(newer, got, "the takeover replayed the mirror's older copy over the newer write");
        }
    }

    private static IoResult write(Controller c, byte[] data) throws Exception {
        return c.hostIo(0, Opcode.WRITE, false, 0, data.length, Unpooled.wrappedBuffer(data), 0).get();
    }

    private static byte[] block(byte fill) {
        byte[] b = new byte[4096];
        Arrays.fill(b, fill);
        return b;
    }

    private static String owner(ArrayServer array) {
        try {
            return array.metadata().load().byName("lun0").owner();
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long until = System.nanoTime() + 30_000_000_000L;
        while (!cond.getAsBoolean() && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertTrue(cond.getAsBoolean(), what);
    }
}
