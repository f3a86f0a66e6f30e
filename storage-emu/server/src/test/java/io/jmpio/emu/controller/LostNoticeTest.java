package io.jmpio.emu.controller;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A move is committed in the metadata before the peer is told; when the notice is lost with the link (the soak
 * cut it right then), the new owner must still find out, or the LUN has no controller serving it. It re-reads the
 * metadata whenever its view of the peer changes.
 */
class LostNoticeTest {
    @TempDir
    Path dir;

    @Test
    void theNewOwnerFindsAMoveWhoseNoticeWasLost() throws Exception {
        try (ArrayServer array = ArrayServer.start(new ArrayConfig().dataDir(dir).basePort(0).portsPerController(1)
            .failback("manual").lun(LunSpec.parse("lun0:16M:A", "A", "memory")))) {
            assertTrue(array.awaitLinked(30_000), "the controllers linked up");
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            await(() -> a.peerSynced, "A is in sync with B");
            // the move's commit, without its notice (nothing is cached: no write was made)
            array.metadata().update(m -> m.with(m.byId(0).withOwner("B", false)));
            assertFalse(b.luns.get(0).owned(), "B has not heard of the move");

            a.partitionLink();
            b.partitionLink();
            await(() -> b.peerState() == PeerState.PARTITIONED, "B sees the link cut");
            await(() -> b.luns.get(0).owned(), "B found the move in the metadata once the peer went silent");
            await(() -> !a.luns.get(0).owned(), "A found it too");
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
