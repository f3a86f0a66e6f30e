package io.jmpio.emu.controller;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayMetadata;
import io.jmpio.emu.array.LunRecord;
import io.jmpio.emu.array.LunRecords;
import io.jmpio.emu.array.LunReservation;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.store.BackingStores;
import io.jmpio.emu.store.LunStorage;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * LUN management on one controller: create, delete, resize, masking, reservations, moves. Every change goes
 * to the array metadata first (under its cross-process lock) only after the backing store agreed, then both
 * controllers re-read it.
 */
final class LunAdmin {
    private final Controller c;

    LunAdmin(Controller controller) {
        this.c = controller;
    }

    Lun byName(String name) {
        for (Lun l : c.luns.values()) {
            if (l.name().equals(name)) {
                return l;
            }
        }
        return null;
    }

    /** The named LUN, or null; one the partner has just created is found too. */
    Lun find(String name) throws IOException {
        Lun l = byName(name);
        if (l == null && c.state == Controller.State.RUNNING) {
            // the partner's notice of a change may not have arrived yet: the metadata file decides
            c.reloadMetadata();
            l = byName(name);
        }
        return l;
    }

    private Lun require(String name) throws IOException {
        Lun l = find(name);
        if (l == null) {
            throw new NoSuchFileException("no LUN named '" + name + "'");
        }
        return l;
    }

    LunRecord create(LunSpec spec) throws IOException {
        c.requireRunning();
        BackingStores.checkKind(spec.backend());
        if (!ArrayConfig.PAIR.contains(spec.owner())) {
            throw new IllegalArgumentException("unknown owner '" + spec.owner() + "' (A or B)");
        }
        if (c.metadata.load().byName(spec.name()) != null) {
            throw new IllegalArgumentException("a LUN named '" + spec.name() + "' already exists");
        }
        LunStorage.provision(spec, c.dataDir, c.cfg.maxLunBytes());
        LunRecord[] created = new LunRecord[1];
        try {
            c.metadata.update(m -> {
                if (m.byName(spec.name()) != null) {
                    throw new IllegalArgumentException("a LUN named '" + spec.name() + "' already exists");
                }
                created[0] = LunRecords.create(m, m.nextId(), spec);
                return m.with(created[0]);
            });
        } catch (IOException | RuntimeException e) {
            if (created[0] == null || c.metadata.load().byName(spec.name()) == null) {
                BackingStores.destroy(spec.backend(), c.dataDir, spec.name()); // no record: no drive either
            }
            throw e;
        }
        changed();
        return created[0];
    }

    void delete(String name) throws IOException {
        c.requireRunning();
        LunRecord r = require(name).record;
        c.metadata.update(m -> m.without(r.id()));
        changed();
        BackingStores.destroy(r.backend(), c.dataDir, r.name());
    }

    void resize(String name, long bytes) throws IOException {
        c.requireRunning();
        Lun l = require(name);
        if (bytes <= 0 || bytes % l.record.blockSize() != 0) {
            throw new IllegalArgumentException("new size must be a positive multiple of " + l.record.blockSize()
                + " bytes, got " + bytes);
        }
        LunStorage.checkSize(bytes, c.cfg.maxLunBytes());
        int lunId = l.id();
        if (l.owned()) {
            c.destager.destageLun(l);
        }
        // growing: the drive first (it may not have room), then the record; shrinking: the record first, so no
        // crash between the two leaves a record longer than its drive (such a drive is refused at start)
        boolean shrinking = bytes < l.record.bytes();
        if (!shrinking) {
            l.store.resize(bytes);
        }
        c.metadata.update(m -> m.with(m.byId(lunId).withBytes(bytes)));
        if (shrinking) {
            l.store.resize(bytes);
        }
        c.blockCache.invalidateLun(lunId);
        changed();
    }

    void setAllowedHosts(String name, List<String> hosts) throws IOException {
        c.requireRunning();
        int lunId = require(name).id();
        if (hosts.size() > 256) {
            throw new IllegalArgumentException(hosts.size() + " allowed hosts; at most 256");
        }
        for (String h : hosts) {
            if (h == null || h.isEmpty() || h.length() > 223 || !h.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)) {
                throw new IllegalArgumentException("'" + h + "' is not a host id (1-223 printable characters)");
            }
        }
        c.metadata.update(m -> m.with(m.byId(lunId).withAllowedHosts(hosts)));
        changed();
    }

    /** See {@link Controller#updateReservation}. */
    <T> T updateReservation(int lunId, Function<LunReservation, Map.Entry<T, LunReservation>> change) throws IOException {
        c.requireRunning();
        Object[] outcome = new Object[1];
        boolean[] updated = new boolean[1];
        c.metadata.update(m -> {
            LunRecord cur = m.byId(lunId);
            if (cur == null) {
                throw new IllegalArgumentException("no LUN " + lunId);
            }
            Map.Entry<T, LunReservation> e = change.apply(cur.reservation());
            outcome[0] = e.getKey();
            updated[0] = e.getValue() != cur.reservation();
            return updated[0] ? m.with(cur.withReservation(e.getValue())) : m;
        });
        if (updated[0]) {
            changed();
        }
        @SuppressWarnings("unchecked")
        T t = (T) outcome[0];
        return t;
    }

    /**
     * The array comes up after both controllers were down: reservations and registrations whose hosts did not
     * ask for them to persist through a power loss (PTPL) are gone, as the NVMe specification says.
     */
    void powerLost() throws IOException {
        List<String> cleared = new java.util.ArrayList<>();
        c.metadata.update(m -> {
            ArrayMetadata out = m;
            for (LunRecord r : m.luns()) {
                LunReservation rv = r.reservation();
                if (!rv.ptpl() && (rv.reserved() || !rv.registrants().isEmpty())) {
                    out = out.with(r.withReservation(new LunReservation(rv.generation() + 1, null, 0, false, List.of())));
                    cleared.add(r.name());
                }
            }
            return out;
        });
        if (!cleared.isEmpty()) {
            org.slf4j.LoggerFactory.getLogger(LunAdmin.class).info("controller {}: the array was powered off; "
                + "reservations not kept through a power loss are cleared on {}", c.id, cleared);
        }
    }

    /** Moves ownership; only the owner can (the admin endpoint forwards to it). Waits for the move. */
    void move(String name, String target) throws IOException {
        c.requireRunning();
        if (!ArrayConfig.PAIR.contains(target)) {
            throw new IllegalArgumentException("unknown controller '" + target + "' (A or B)");
        }
        Lun l = require(name);
        if (target.equals(l.record.owner())) {
            return;
        }
        if (!l.owned()) {
            throw new Controller.NotOwnerException(name, l.record.owner());
        }
        if (!l.moving.compareAndSet(false, true)) {
            throw new IOException("LUN " + name + " is already moving");
        }
        try {
            c.ops.submit(() -> {
                c.ownership.move(l, target);
                return null;
            }).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException ? (IOException) e.getCause() : new IOException(e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("move of " + name + " did not finish in 30 s");
        } finally {
            l.moving.set(false);
        }
    }

    private void changed() throws IOException {
        c.reloadMetadata();
        c.ownership.notifyPeerMetadata();
    }
}
