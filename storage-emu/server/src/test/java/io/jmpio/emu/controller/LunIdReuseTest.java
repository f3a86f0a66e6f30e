package io.jmpio.emu.controller;

import static io.jmpio.emu.controller.SyncedPair.await;
import static io.jmpio.emu.controller.SyncedPair.block;
import static io.jmpio.emu.controller.SyncedPair.read;
import static io.jmpio.emu.controller.SyncedPair.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunRecord;
import io.jmpio.emu.array.LunRecords;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.array.MetadataStore;
import io.jmpio.emu.cache.CacheJournal;
import io.jmpio.emu.cache.Extent;
import io.jmpio.emu.store.BackingStore;
import io.jmpio.emu.store.BackingStores;
import io.jmpio.emu.store.LunStorage;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LUN ids are reused (an NVMe namespace id is the LUN id + 1, within the namespaces a controller offers), so
 * nothing kept under a deleted LUN's id may be taken for a LUN created later under it: not a killed
 * controller's journal of the old LUN's writes, replayed when it starts again.
 */
class LunIdReuseTest {
    @TempDir
    Path dir;

    @Test
    void aLunCreatedForADeadOwnerIsTakenOverAndHoldsNothingOfTheDeletedOneUnderItsId() throws Exception {
        try (ArrayServer array = SyncedPair.start(new ArrayConfig().dataDir(dir).basePort(0).portsPerController(1)
                .destageIntervalMillis(3_600_000).failback("manual").lun(LunSpec.parse("old:16M:A", "A", "file")))) {
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            LunRecord old = a.lunRecord(0);
            assertEquals(Status.GOOD, write(a, 0, block((byte) 0x7A)).status(), "cached and journaled at A");
            a.kill(); // the journal keeps the write; B takes the LUN over from its mirror
            await(() -> b.luns.get(0) != null && b.luns.get(0).owned(), "B took the LUN over");
            long lastEpoch = b.lunRecord(0).epoch();
            assertTrue(lastEpoch > old.epoch(), "the takeover is a new epoch");
            b.deleteLun("old");
            LunRecord fresh = b.createLun(LunSpec.parse("new:16M:A", "A", "file"));
            assertEquals(old.id(), fresh.id(), "the new LUN takes the freed id");
            assertTrue(fresh.epoch() > lastEpoch, "its epochs start above every epoch the deleted LUN had");
            await(() -> b.luns.get(0).owned(), "B takes over the LUN created for its dead peer, as it took the others");
            assertArrayEquals(new byte[4096], read(b, 0), "the new LUN holds nothing of the deleted one");
            a.start(); // its peer has taken over what it owns: it starts, and replays nothing into the new LUN
            await(() -> a.peerState == PeerMonitor.PeerState.ALIVE, "A is back");
            assertArrayEquals(new byte[4096], read(a, 0));
        }
    }

    @Test
    void journalRecordsOfADeletedLunAreNotReplayedIntoTheLunCreatedUnderItsId() throws Exception {
        MetadataStore metadata = new MetadataStore(dir);
        LunSpec oldSpec = LunSpec.parse("old:1M:A", "A", "file");
        LunStorage.provision(oldSpec, dir, 1L << 30);
        metadata.update(m -> m.with(LunRecords.create(m, m.nextId(), oldSpec)));
        long oldEpoch = metadata.load().byId(0).epoch();
        Path journalDir = dir.resolve("nvram").resolve("A");
        java.nio.file.Files.createDirectories(journalDir);
        try (CacheJournal journal = new CacheJournal(journalDir)) { // what a killed A left of the old LUN
            journal.append(0, oldEpoch, Extent.data(0, block((byte) 0x7B), 0, 4096, 1));
        }
        metadata.update(m -> m.without(0));
        BackingStores.destroy(oldSpec.backend(), dir, oldSpec.name());
        LunSpec newSpec = LunSpec.parse("new:1M:A", "A", "file");
        LunStorage.provision(newSpec, dir, 1L << 30);
        metadata.update(m -> m.with(LunRecords.create(m, m.nextId(), newSpec)));
        assertEquals(0, metadata.load().byName("new").id());

        Nvram nvram = new Nvram("A", journalDir, Clock.SYSTEM);
        nvram.open(metadata, dir);
        nvram.close();
        try (BackingStore s = BackingStores.open("file", dir, "new", 1L << 20)) {
            byte[] got = new byte[4096];
            s.read(0, got, 0, 4096);
            assertArrayEquals(new byte[4096], got, "the deleted LUN's journaled write stayed out of the new LUN");
        }
    }
}
