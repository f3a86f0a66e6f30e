package io.jmpio.emu.array;

import io.jmpio.netty.PeerText;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Checks array metadata as it is read (a hand-edited or damaged {@code array.json}) and before it is
 * written: every LUN's name (it becomes a file name in the data directory), size, block size, backend,
 * owners and identity. A record that fails is named with the reason, and the file is refused as a whole:
 * guessing at the array's configuration could hand hosts the wrong data.
 */
final class MetadataCheck {
    /** The largest ownership epoch: the link carries it as a u32. */
    static final long MAX_EPOCH = 0xFFFF_FFFFL;

    /** Block sizes a LUN may have. */
    private static final Set<Integer> BLOCK_SIZES = Set.of(512, 4096);
    /** Sizes above this are refused whatever the configured limit (2^62: offsets stay far from overflow). */
    static final long ABSOLUTE_MAX_BYTES = 1L << 62;

    private MetadataCheck() {
    }

    static void check(ArrayMetadata m, Path file) throws IOException {
        checkHosts(m, file);
        Set<Integer> ids = new HashSet<>();
        Set<String> names = new HashSet<>();
        for (LunRecord r : m.luns()) {
            if (r == null) {
                throw new IOException(file + ": an empty LUN record");
            }
            String what = file + ": LUN #" + r.id() + " '" + PeerText.printable(r.name()) + "'";
            try {
                LunSpec.checkName(r.name());
            } catch (IllegalArgumentException e) {
                throw new IOException(what + ": " + e.getMessage()
                    + " (a LUN name becomes a file name in the data directory; this one is refused)");
            }
            if (r.id() < 0 || !ids.add(r.id())) {
                throw new IOException(what + ": id " + r.id() + " is negative or used twice");
            }
            if (!names.add(r.name())) {
                throw new IOException(what + ": the name is used twice");
            }
            if (!BLOCK_SIZES.contains(r.blockSize())) {
                throw new IOException(what + ": block size " + r.blockSize() + " (512 or 4096)");
            }
            if (r.bytes() <= 0 || r.bytes() % r.blockSize() != 0 || r.bytes() > ABSOLUTE_MAX_BYTES) {
                throw new IOException(what + ": size " + r.bytes() + " bytes is not a positive multiple of "
                    + r.blockSize() + " up to 2^62");
            }
            try {
                io.jmpio.emu.store.BackingStores.checkKind(r.backend());
            } catch (IllegalArgumentException e) {
                throw new IOException(what + ": " + e.getMessage());
            }
            if (!controller(r.owner()) || !controller(r.preferredOwner())) {
                throw new IOException(what + ": owner '" + PeerText.printable(r.owner()) + "' / preferred owner '"
                    + PeerText.printable(r.preferredOwner()) + "' (A or B)");
            }
            if (r.epoch() < 0 || r.epoch() > MAX_EPOCH) {
                throw new IOException(what + ": ownership epoch " + r.epoch() + " outside 0.." + MAX_EPOCH
                    + " (the link carries it as a u32)");
            }
            if (r.wwid() == null || !r.wwid().matches("[0-9a-f]{32}")) {
                throw new IOException(what + ": wwid '" + PeerText.printable(r.wwid()) + "' is not 32 hex digits");
            }
            LunReservation rv = r.reservation();
            if (rv.type() < 0 || rv.type() > 6 || rv.registrants().size() > 256 || rv.generation() < 0) {
                throw new IOException(what + ": reservation type " + rv.type() + " or " + rv.registrants().size()
                    + " registrants out of range");
            }
            for (LunReservation.Registrant g : rv.registrants()) {
                if (g == null || g.hostId() == null || !g.hostId().matches("[0-9a-f]{32}")) {
                    throw new IOException(what + ": a reservation registrant without a 16-byte host identifier");
                }
            }
            if (rv.reserved() && rv.type() < 5 && rv.registrant(rv.holder() == null ? "" : rv.holder()) == null) {
                throw new IOException(what + ": the reservation holder is not registered");
            }
            for (String h : r.allowedHosts()) {
                if (h == null || h.isEmpty() || h.length() > 223 || !h.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                    throw new IOException(what + ": allowed host '" + PeerText.printable(h) + "' is not a host id");
                }
            }
        }
    }

    private static void checkHosts(ArrayMetadata m, Path file) throws IOException {
        if (m.hosts().size() > HostRecord.MAX_HOSTS) {
            throw new IOException(file + ": " + m.hosts().size() + " registered hosts; at most " + HostRecord.MAX_HOSTS);
        }
        Set<String> seen = new HashSet<>();
        for (HostRecord h : m.hosts()) {
            if (h == null || h.nqn() == null || h.nqn().isEmpty() || h.nqn().length() > 223
                || !h.nqn().chars().allMatch(c -> c > 0x20 && c < 0x7f) || !seen.add(h.nqn())) {
                throw new IOException(file + ": registered host '" + PeerText.printable(h == null ? null : h.nqn())
                    + "' is not a host NQN (1-223 printable characters, once)");
            }
            if (h.hostId() == null || !h.hostId().matches("[0-9a-f]{32}") || h.firstSeenMillis() < 0
                || h.lastSeenMillis() < h.firstSeenMillis()
                || h.lastController() != null && !controller(h.lastController())) {
                throw new IOException(file + ": registered host '" + PeerText.printable(h.nqn())
                    + "': host identifier, times or controller out of range");
            }
        }
    }

    /** "A" or "B" (null is neither: List.of's contains would throw on it). */
    private static boolean controller(String id) {
        return id != null && ArrayConfig.PAIR.contains(id);
    }
}
