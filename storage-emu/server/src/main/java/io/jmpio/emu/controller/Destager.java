package io.jmpio.emu.controller;

import io.jmpio.emu.cache.CacheJournal;
import io.jmpio.emu.cache.Extent;
import io.jmpio.emu.link.LinkFrame;
import io.jmpio.netty.FailureText;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the owner's dirty cache to its drives: per LUN on demand (flush, move, resync, shutdown) and in the
 * background cycle that lets old journal segments go and tells the peer which mirrored slots it may drop.
 */
final class Destager {
    private static final Logger LOG = LoggerFactory.getLogger(Destager.class);

    /** Some extents of a LUN did not reach its drive; they stay in the cache. */
    static final class DestageException extends IOException {
        final int failures;

        DestageException(int failures, IOException first) {
            super(failures + " extent(s) kept in cache; first: " + FailureText.of(first), first);
            this.failures = failures;
        }
    }

    private final Controller c;

    Destager(Controller controller) {
        this.c = controller;
    }

    /**
     * Writes every dirty extent of the LUN to its store and fsyncs. An extent its store refuses stays cached
     * (and journaled, see {@link #cycle}) and is reported; the others still go. Throws when any failed,
     * after trying them all.
     */
    int destageLun(Lun l) throws IOException {
        l.diskLock.lock();
        try {
            if (c.ownerIo.fenced(l)) {
                throw new OwnerIo.FencedException(l.name());
            }
            List<Extent> dirty = l.cache.snapshot();
            if (dirty.isEmpty()) {
                return 0;
            }
            List<Extent> written = new ArrayList<>(dirty.size());
            IOException first = null;
            int failures = 0;
            for (Extent e : dirty) {
                if (c.ownerIo.fenced(l)) {
                    // killed, paused or frozen (docker pause, SIGSTOP) mid-destage, or the LUN was taken meanwhile:
                    // the rest stays cached and journaled (and in the peer's mirror). A frozen process resumes here
                    // with the snapshot it took before, and the peer may have written newer data to these blocks.
                    throw new OwnerIo.FencedException(l.name());
                }
                try {
                    OwnerIo.writeToStore(l.store, e);
                    written.add(e);
                    if (!e.isZeroes()) {
                        l.stats.destagedBytes.add(e.length());
                    }
                } catch (IOException | RuntimeException ex) {
                    failures++;
                    if (first == null) {
                        first = new IOException("destage of " + l.name() + " at " + e.offset() + "+" + e.length()
                            + " failed: " + FailureText.of(ex), ex);
                    }
                }
            }
            l.store.force();
            for (Extent e : written) {
                c.ownerIo.invalidateBlocks(l, e);
            }
            l.cache.removeAllIfCurrent(written);
            if (first != null) {
                throw new DestageException(failures, first);
            }
            return dirty.size();
        } finally {
            l.diskLock.unlock();
        }
    }

    /**
     * Background destage: everything the old journal segments hold reaches disk, then they are deleted and
     * the peer may drop its mirror of those slots. A LUN whose drive refuses an extent does not hold up the
     * others: its still-cached extents are journaled again in the new segment (so the old ones can go), and
     * it is tried again next cycle.
     */
    void cycle() {
        if (c.state != Controller.State.RUNNING || c.timersStalled(c.clock.nanos())) {
            return;
        }
        Nvram.Rolled rolled;
        try {
            rolled = c.nvram.roll();
        } catch (Throwable t) {
            LOG.error("controller {}: cannot roll the journal; destage waits", c.id, t);
            return;
        }
        long upTo = rolled.upToSlot();
        boolean keepOld = false;
        boolean allDestaged = true;
        for (Lun l : c.luns.values()) {
            if (!l.owned()) {
                continue;
            }
            try {
                destageLun(l);
                if (l.failingSinceNanos != 0) {
                    l.failingSinceNanos = 0;
                    LOG.warn("controller {}: destage of {} works again", c.id, l.name());
                    c.nvram.destageRecovered();
                }
                if (l.releasedUpTo < upTo && c.peerSynced) {
                    l.releasedUpTo = upTo;
                    c.link.send(LinkFrame.message(LinkFrame.CHANNEL_MIRROR, LinkFrame.MIRROR_RELEASE, 0, l.id(),
                        l.record.epoch(), 0, upTo, 0, null));
                }
            } catch (OwnerIo.FencedException e) {
                keepOld = true;
                allDestaged = false;
            } catch (DestageException e) {
                if (l.failingSinceNanos == 0) {
                    l.failingSinceNanos = c.clock.nanos();
                    LOG.error("controller {}: {}: {}; retrying every cycle", c.id, l.name(), FailureText.of(e));
                }
                keepOld |= !c.nvram.rejournal(l);
                allDestaged = false;
            } catch (Throwable t) {
                LOG.error("controller {}: destage of {} failed; will retry", c.id, l.name(), t);
                keepOld |= !c.nvram.rejournal(l);
                allDestaged = false;
            }
        }
        if (allDestaged) {
            try {
                c.destagedMark.destaged(upTo);
            } catch (Throwable t) {
                LOG.warn("controller {}: cannot raise the destaged mark: {}", c.id, t.toString());
            }
        }
        try {
            if (keepOld) {
                c.nvram.keepDirty();
            } else {
                CacheJournal.delete(rolled.segments());
            }
        } catch (Throwable t) {
            LOG.error("controller {}: cannot delete destaged journal segments", c.id, t);
        }
    }
}
