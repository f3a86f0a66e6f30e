package io.jmpio.emu.controller;

import io.jmpio.emu.cache.Extent;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import io.jmpio.emu.link.LinkFrame;
import io.jmpio.emu.store.BackingStores;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The non-owner's reads under a read lease: both controllers see the same media, and while the owner mirrors
 * every write here, the owner's view of a range is the media overlaid with its dirty cache, which is exactly this
 * controller's mirror. So a read needs no round trip to the owner: read the media, overlay the mirror.
 *
 * <p>Why that is right, step by step:
 * <ul>
 *   <li>a write is acknowledged only after its mirror copy is here, so a read that arrives after the
 *       acknowledgement finds it in the mirror (or, once destaged and released, on the media: the owner releases
 *       a slot only after the media has it and is synced, and the mirror is read before the media);
 *   <li>a write the owner could not mirror is acknowledged only after this controller dropped its lease (the
 *       owner's revocation) or the lease ran out; none is granted again until a resync empties the mirror, whose
 *       copies of those ranges may be older than the media now;
 *   <li>mirror copies at or below the last resync's slot (late ones, sent before it) are on the media since and
 *       never overlaid;
 *   <li>a lease counts from when the read that earned it was sent, so it ends here before the owner's record of
 *       it; it is also dropped when ownership, the peer's state or this controller's timers say it may be stale.
 * </ul>
 * The owner still sees these reads in its implicit-transfer share: they are reported to it each tick.
 */
final class LocalReads {
    /** A LUN's lease as this controller holds it; guarded by itself. */
    static final class Lease {
        boolean held;
        long untilNanos;
        long epoch = -1;
        /** Leases of a lower generation arriving now were granted before a revocation: refused. */
        long revokedGeneration;
        /** Mirror copies at or below this slot were sent before the last resync: on the media since. */
        long mirrorFloor = Long.MIN_VALUE;
        /** The LUN's {@code localReads} statistic at the last report to the owner (the report sends the rest). */
        long reported;
    }

    private final Controller c;

    LocalReads(Controller controller) {
        this.c = controller;
    }

    /** A shipped read's reply carried a lease of {@code generation}; {@code sentNanos} is when the read left. */
    void granted(Lun l, long generation, long epoch, long sentNanos) {
        Lease lease = l.lease;
        synchronized (lease) {
            if (generation < lease.revokedGeneration || epoch != l.record.epoch()) {
                return;
            }
            long until = sentNanos + c.grants.leaseNanos();
            lease.untilNanos = lease.held && lease.epoch == epoch && lease.untilNanos - until > 0 ? lease.untilNanos : until;
            lease.epoch = epoch;
            lease.held = true;
        }
    }

    /** The owner revoked the leases below {@code generation} (a write it could not mirror). */
    void revoked(Lun l, long generation) {
        Lease lease = l.lease;
        synchronized (lease) {
            lease.held = false;
            if (generation > lease.revokedGeneration) {
                lease.revokedGeneration = generation;
            }
        }
    }

    /**
     * The owner empties the mirror (resync): copies up to {@code lastSlot} were sent before and will be on the media
     * when leases of {@code generation} are granted, after the resync.
     */
    void mirrorReset(Lun l, long lastSlot, long generation) {
        Lease lease = l.lease;
        synchronized (lease) {
            lease.held = false;
            lease.mirrorFloor = lastSlot; // the owner's own slot count: it says where its resync began
            if (generation > lease.revokedGeneration) {
                lease.revokedGeneration = generation;
            }
        }
    }

    /** Ownership, the peer or this controller's view of time changed: the lease goes. */
    void drop(Lun l) {
        Lease lease = l.lease;
        synchronized (lease) {
            lease.held = false;
        }
    }

    /**
     * The range read here, into a pooled direct buffer the host's connection sends from (the caller's to send or
     * release), or null when it must be shipped (no valid lease, media not shared with the owner).
     */
    ByteBuf read(Lun l, long offset, int length) throws IOException {
        if (!c.cfg.nonOwnerReadsLocal() || c.peerState != PeerState.ALIVE || l.transitioning || !sharedMedia(l)) {
            return null;
        }
        long floor;
        Lease lease = l.lease;
        synchronized (lease) {
            if (!lease.held || lease.epoch != l.record.epoch() || c.clock.nanos() - lease.untilNanos >= 0) {
                return null;
            }
            floor = lease.mirrorFloor;
        }
        // the mirror first: a copy released meanwhile is on the media by the time it is released
        List<Extent> dirty = l.mirror.overlapping(offset, length);
        List<Extent> current = dirty;
        if (!dirty.isEmpty()) {
            current = new ArrayList<>(dirty.size());
            for (Extent e : dirty) {
                if (e.slot() > floor) {
                    current.add(e);
                }
            }
        }
        return OwnerIo.readOverlaid(l.store, offset, length, current);
    }

    /**
     * Whether the owner writes the very media read here: files and the null store always; a memory store only
     * when the owner runs in this process (else each controller has its own memory).
     */
    private boolean sharedMedia(Lun l) {
        return !BackingStores.MEMORY.equals(l.record.backend()) || c.peerInProcess;
    }

    /** Tells the owners how many reads of their LUNs were answered here since the last tick. */
    void report() {
        for (Lun l : c.luns.values()) {
            long answered = l.stats.localReads.sum();
            long n = answered - l.lease.reported;
            l.lease.reported = answered; // only the timer thread reports
            if (n > 0 && !l.owned()) {
                c.link.send(LinkFrame.message(LinkFrame.CHANNEL_MANAGEMENT, LinkFrame.MANAGEMENT,
                    LinkFrame.OP_LOCAL_READS, l.id(), l.record.epoch(), 0, n, 0, null));
            }
        }
    }
}
