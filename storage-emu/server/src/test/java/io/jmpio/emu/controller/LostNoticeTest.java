package io.jmpio.emu.controller;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static io.jmpio.emu.controller.SyncedPair.await;

import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import java.nio.file.Path;
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
        try (ArrayServer array = SyncedPair.start(dir)) {
            Controller a = array.controller("A");
            Controller b = array.controller("B");
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
}
