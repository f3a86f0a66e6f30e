package io.jmpio.emu.controller;

import io.jmpio.emu.array.ArrayMetadata;
import io.jmpio.emu.array.LunRecord;
import io.jmpio.emu.store.BackingStore;
import io.jmpio.emu.store.BackingStores;
import io.jmpio.netty.FailureText;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LUNs a controller has open, kept in step with the array metadata (the one record both controllers share):
 * each re-read opens the LUNs created since, retires those deleted (or deleted and created again under their id),
 * fences those taken from this controller and readies those it was given. Called with the controller's lock held.
 */
final class MetadataFollower {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataFollower.class);

    private final Controller c;

    MetadataFollower(Controller controller) {
        this.c = controller;
    }

    /** Re-reads the metadata: opens new LUNs, closes deleted ones, fences LUNs taken from this controller. */
    void reload() throws IOException {
        ArrayMetadata m = c.metadata.load();
        Map<Integer, LunRecord> seen = new HashMap<>();
        for (LunRecord r : m.luns()) {
            seen.put(r.id(), r);
            Lun l = c.luns.get(r.id());
            if (l != null && !sameLun(l.record, r)) {
                // deleted and created again under its id while this controller did not hear of it (paused, frozen,
                // partitioned): another LUN, whose drive, mirror and leases have nothing to do with the old one's
                LOG.warn("controller {}: LUN {} was deleted and {} created under its id {} meanwhile", c.id,
                    l.record.name(), r.name(), r.id());
                retire(l);
                l = null;
            }
            if (l == null) {
                BackingStore store;
                try {
                    store = BackingStores.open(r.backend(), c.dataDir, r.name(), r.bytes());
                } catch (IOException | RuntimeException e) {
                    // one LUN whose drive cannot be opened stays offline; the others are served
                    LOG.error("controller {}: LUN {} is offline: its {} store cannot be opened: {}", c.id, r.name(),
                        r.backend(), FailureText.of(e));
                    continue;
                }
                Lun opened = new Lun(c.id, r, store);
                c.grants.openedAt(opened, c.clock.nanos());
                c.luns.put(r.id(), opened);
                continue;
            }
            LunRecord old = l.record;
            if (c.id.equals(old.owner()) && !c.id.equals(r.owner())) {
                // fenced: the LUN was moved or taken over; whatever is cached here is already on disk or replayed
                l.cache.clear();
                c.blockCache.invalidateLun(r.id());
            }
            if (!c.id.equals(old.owner()) && c.id.equals(r.owner())) {
                c.blockCache.invalidateLun(r.id());
                l.mirror.clear();
            }
            if (!Objects.equals(old.owner(), r.owner())) {
                c.shipper.forget(l);
                c.grants.forbidReadLeases(l);
                if (c.id.equals(r.owner())) {
                    // taken with nothing of it cached here and the peer's mirror of it empty (a move destaged all
                    // first, a takeover replayed the mirror): leases are good while every write from now on is
                    // mirrored (granted only with the peer in sync; a write that is not revokes them)
                    c.grants.allowReadLeases(l, c.grants.generation(l));
                }
            }
            l.transitioning = false;
            l.record = r;
        }
        for (Lun l : new ArrayList<>(c.luns.values())) {
            if (!seen.containsKey(l.id())) {
                retire(l);
            }
        }
        if (c.state == Controller.State.RUNNING) {
            c.access.recompute();
        }
    }

    /** The same LUN as before, perhaps changed (owner, size, hosts), not another one created under its id. */
    private static boolean sameLun(LunRecord before, LunRecord now) {
        return before.name().equals(now.name()) && before.backend().equals(now.backend())
            && Objects.equals(before.wwid(), now.wwid());
    }

    /** A LUN deleted from the metadata: closed here, with nothing of it kept in memory. */
    private void retire(Lun l) throws IOException {
        c.luns.remove(l.id());
        l.cache.clear();
        l.mirror.clear();
        c.shipper.forget(l);
        c.blockCache.invalidateLun(l.id());
        l.store.close();
    }

}
