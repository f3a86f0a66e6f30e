package io.jmpio.emu.controller;

import static io.jmpio.emu.controller.SyncedPair.block;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.array.LunRecords;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.array.MetadataStore;
import io.jmpio.emu.cache.CacheJournal;
import io.jmpio.emu.cache.Extent;
import io.jmpio.emu.store.BackingStore;
import io.jmpio.emu.store.BackingStores;
import io.jmpio.emu.store.LunStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A killed controller's journal holds acknowledged writes for a LUN whose drive file went missing before the
 * restart: they are neither replayed into a drive made anew nor thrown away, but kept for the operator, and the
 * replay of the other LUNs goes on.
 */
class JournalReplayDriveTest {
    @TempDir
    Path dir;

    @Test
    void writesForAMissingDriveAreKeptAndTheOthersReplayed() throws Exception {
        MetadataStore metadata = new MetadataStore(dir);
        for (String spec : List.of("gone:1M:A", "here:1M:A")) {
            LunSpec s = LunSpec.parse(spec, "A", "file");
            LunStorage.provision(s, dir, 1L << 30);
            metadata.update(m -> m.with(LunRecords.create(m, m.nextId(), s)));
        }
        int gone = metadata.load().byName("gone").id();
        int here = metadata.load().byName("here").id();
        Path journalDir = Files.createDirectories(dir.resolve("nvram").resolve("A"));
        try (CacheJournal journal = new CacheJournal(journalDir)) { // what a killed A left
            for (int i = 0; i < 100; i++) {
                journal.append(gone, metadata.load().byId(gone).epoch(), Extent.data(i * 4096L, block((byte) 1), 0, 4096, 1 + i));
            }
            journal.append(here, metadata.load().byId(here).epoch(), Extent.data(0, block((byte) 0x5C), 0, 4096, 200));
        }
        Path drive = BackingStores.filePath(dir, "gone");
        Files.delete(drive);

        Nvram nvram = new Nvram("A", journalDir, Clock.SYSTEM);
        nvram.open(metadata, dir);
        nvram.close();

        assertFalse(Files.exists(drive), "a missing drive was made anew to replay into");
        try (BackingStore s = BackingStores.open("file", dir, "here", 1L << 20)) {
            byte[] got = new byte[4096];
            s.read(0, got, 0, 4096);
            assertArrayEquals(block((byte) 0x5C), got, "the other LUN's journaled write was replayed");
        }
        try (Stream<Path> kept = Files.list(journalDir)) {
            List<Path> dirs = kept.filter(p -> p.getFileName().toString().startsWith("kept-")).toList();
            assertEquals(1, dirs.size(), "the journal is kept aside");
            try (Stream<Path> segments = Files.list(dirs.get(0))) {
                assertTrue(segments.anyMatch(p -> p.toString().endsWith(".log")), "with its records");
            }
        }
    }
}
