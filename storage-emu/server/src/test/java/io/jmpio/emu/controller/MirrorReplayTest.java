package io.jmpio.emu.controller;

import static io.jmpio.emu.controller.SyncedPair.await;
import static io.jmpio.emu.controller.SyncedPair.block;
import static io.jmpio.emu.controller.SyncedPair.owner;
import static io.jmpio.emu.controller.SyncedPair.read;
import static io.jmpio.emu.controller.SyncedPair.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import java.nio.file.Path;
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
        try (ArrayServer array = SyncedPair.start(dir)) {
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            byte[] older = block((byte) 0x11);
            assertEquals(Status.GOOD, write(a, 0, older).status(), "the first write is acknowledged (mirrored in B)");
            assertEquals(1, b.luns.get(0).mirror.snapshot().size(), "B's mirror holds it");

            a.partitionLink();
            b.partitionLink();
            await(() -> a.peerState() == PeerState.PARTITIONED, "A sees the link cut");
            byte[] newer = block((byte) 0x22);
            assertEquals(Status.GOOD, write(a, 0, newer).status(), "the second write is acknowledged (written through)");

            a.kill();
            await(() -> "B".equals(owner(array)), "B takes lun0 over");
            assertArrayEquals(newer, read(b, 0), "the takeover replayed the mirror's older copy over the newer write");
        }
    }
}
