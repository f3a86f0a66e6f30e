package io.jmpio.emu.controller;

import io.jmpio.emu.array.ArrayMetadata;
import io.jmpio.emu.array.LunRecord;
import io.jmpio.emu.array.MetadataStore;
import io.jmpio.emu.cache.CacheJournal;
import io.jmpio.emu.cache.Extent;
import io.jmpio.emu.store.BackingStore;
import io.jmpio.emu.store.BackingStores;
import io.jmpio.netty.FailureText;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's battery-backed write-cache journal: hands out cache slots in write order, journals every
 * cached write of a file-backed LUN under its slot, rolls segments for destage, and at start replays what a
 * killed controller left behind.
 */
final class Nvram {
    private static final Logger LOG = LoggerFactory.getLogger(Nvram.class);

    private final String id;
    private final Path dir;
    private final Object lock = new Object();
    private CacheJournal journal;
    private boolean dirty;
    private long nextSlot;
    private final Clock clock;
    private final RepeatedFailure rejournalFailure;

    Nvram(String controllerId, Path dir, Clock clock) {
        this.id = controllerId;
        this.dir = dir;
        this.clock = clock;
        this.rejournalFailure = new RepeatedFailure(LOG, "controller " + controllerId
            + ": journaling cached extents again (old segments kept meanwhile)");
    }

    /** Replays what the journal holds for LUNs this controller still owns, then opens a fresh journal. */
    void open(MetadataStore metadata, Path dataDir) throws IOException {
        synchronized (lock) {
            nextSlot = System.currentTimeMillis() << 20;
            replay(metadata, dataDir);
            journal = new CacheJournal(dir);
            dirty = false;
        }
    }

    /** Present from start until a stop that emptied the cache: its presence at start means the last stop lost it. */
    private Path inUseMarker() {
        return dir.resolve("in-use");
    }

    /** Whether the last run ended without emptying its cache (killed, crashed): what it cached is gone from memory. */
    boolean lastStopLostCache() {
        return Files.exists(inUseMarker());
    }

    /** From now on a stop that does not empty the cache is seen at the next start. */
    void markInUse() throws IOException {
        Files.createDirectories(dir);
        Files.write(inUseMarker(), new byte[0]);
    }

    /** Everything cached reached the drives (a graceful stop). */
    void markEmptied() {
        try {
            Files.deleteIfExists(inUseMarker());
        } catch (IOException e) {
            LOG.warn("controller {}: cannot remove {}: {}; the next start treats this stop as a crash", id,
                inUseMarker(), FailureText.of(e));
        }
    }

    void close() throws IOException {
        synchronized (lock) {
            if (journal != null) {
                journal.close();
            }
        }
    }

    /**
     * Gives the write its slot and puts it into the LUN's cache, journaled first when the LUN is file-backed;
     * returns the slotted extent.
     */
    Extent admit(Lun l, long epoch, Extent unslotted) throws IOException {
        synchronized (lock) {
            long slot = nextSlot++;
            Extent e = new Extent(unslotted.offset(), unslotted.length(), unslotted.data(), unslotted.dataOffset(), slot);
            if (l.fileBacked()) {
                journal.append(l.id(), epoch, e);
                dirty = true;
            }
            l.cache.put(e);
            return e;
        }
    }

    /** The last slot handed out. */
    long lastSlot() {
        synchronized (lock) {
            return nextSlot - 1;
        }
    }

    /** The slots handed out so far end here, and the segments written until now, to delete once destaged. */
    record Rolled(long upToSlot, List<Path> segments) {
    }

    Rolled roll() throws IOException {
        synchronized (lock) {
            long upTo = nextSlot - 1;
            List<Path> old = dirty ? journal.roll() : List.of();
            dirty = false;
            return new Rolled(upTo, old);
        }
    }

    /** Old segments must stay: something they hold is not on disk yet (journaled again or not). */
    void keepDirty() {
        synchronized (lock) {
            dirty = true;
        }
    }

    /** Appends the LUN's still-cached extents to the current segment; false if that failed. */
    boolean rejournal(Lun l) {
        if (!l.fileBacked()) {
            return true;
        }
        try {
            synchronized (lock) {
                for (Extent e : l.cache.snapshot()) {
                    journal.append(l.id(), l.record.epoch(), e);
                }
                dirty = true;
            }
            rejournalFailure.worked();
            return true;
        } catch (IOException | RuntimeException e) {
            rejournalFailure.failed(clock.nanos(), l.name(), e);
            return false;
        }
    }

    /** Destage emptied the LUNs' caches again: the journaling that failed meanwhile is no longer needed. */
    void destageRecovered() {
        rejournalFailure.settled();
    }

    /** Replays cached writes the journal holds for LUNs this controller still owns at the same epoch. */
    private void replay(MetadataStore metadata, Path dataDir) throws IOException {
        List<CacheJournal.Record> records = CacheJournal.readAll(dir);
        if (records.isEmpty()) {
            return;
        }
        ArrayMetadata m = metadata.load();
        Map<Integer, BackingStore> stores = new HashMap<>();
        java.util.Set<Integer> unopened = new java.util.HashSet<>();
        int applied = 0;
        int failed = 0;
        try {
            for (CacheJournal.Record r : records) {
                LunRecord lun = m.byId(r.lun());
                if (lun == null || !id.equals(lun.owner()) || lun.epoch() != r.epoch()
                    || !BackingStores.FILE.equals(lun.backend())) {
                    continue;
                }
                Extent e = r.extent();
                if (e.offset() < 0 || e.length() <= 0 || e.offset() + e.length() > lun.bytes()
                    || e.offset() % lun.blockSize() != 0 || e.length() % lun.blockSize() != 0) {
                    LOG.warn("controller {}: journal record for {} at {}+{} does not fit the LUN ({} bytes); skipped",
                        id, lun.name(), e.offset(), e.length(), lun.bytes());
                    continue;
                }
                if (unopened.contains(lun.id())) {
                    failed++;
                    continue;
                }
                BackingStore s = stores.get(lun.id());
                if (s == null) {
                    try {
                        s = BackingStores.open(lun.backend(), dataDir, lun.name(), lun.bytes());
                    } catch (IOException | RuntimeException ex) {
                        // said once for the LUN, not once per record
                        unopened.add(lun.id());
                        failed++;
                        LOG.error("controller {}: the journaled writes of {} cannot be replayed: {}", id, lun.name(),
                            FailureText.of(ex));
                        continue;
                    }
                    stores.put(lun.id(), s);
                }
                try {
                    OwnerIo.writeToStore(s, e);
                    applied++;
                } catch (IOException | RuntimeException ex) {
                    failed++;
                    LOG.error("controller {}: replay of {} at {}+{} failed: {}", id, lun.name(), e.offset(), e.length(),
                        ex.toString());
                }
            }
            for (BackingStore s : stores.values()) {
                s.force();
            }
        } finally {
            for (BackingStore s : stores.values()) {
                try {
                    s.close();
                } catch (IOException e) {
                    LOG.warn("controller {}: closing a store after replay: {}", id, e.toString());
                }
            }
        }
        LOG.info("controller {}: replayed {} of {} cached write(s) from the NVRAM journal", id, applied, records.size());
        if (failed > 0) {
            // what could not reach its drive is kept, not replayed again at every start and not deleted
            Path kept = CacheJournal.quarantine(dir);
            LOG.error("controller {}: {} journal record(s) could not be written to their LUNs; the journal is kept in {}",
                id, failed, kept);
            return;
        }
        new CacheJournal(dir).reset();
    }
}
