package io.jmpio.emu.controller;

import io.jmpio.emu.link.LinkFrame;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner's side of shipped-write positions. A shipped write's reply tells the non-owner the cache slot it
 * went to and that the slot is mirrored on the non-owner, which may then answer reads of that range from its
 * mirror for a short lease while destage is pending. That is only right while every newer write of the range
 * reaches the mirror too: before the owner acknowledges a write it could not mirror (peer unsynchronised,
 * mirror refused), it revokes what it granted — the peer drops those positions — or, when the peer cannot be
 * told, waits until the leases of everything granted have run out.
 *
 * <p>The same holds for read leases: a shipped read's reply may lease the peer the whole LUN's reads (see
 * {@link LocalReads}) while every write since the peer's mirror was last emptied (resync) was mirrored. The first
 * write that is not ends them: leases are revoked with the unmirrored write's slot, and none is granted again
 * until the next resync has emptied the peer's mirror (it may hold an older copy of what went to disk unmirrored).
 */
final class MirrorGrants {
    private static final Logger LOG = LoggerFactory.getLogger(MirrorGrants.class);

    /** Per-LUN grant state, guarded by itself. */
    static final class State {
        long grantedUpTo = Long.MIN_VALUE;
        long revokedUpTo = Long.MIN_VALUE;
        long lastGrantNanos;
        CompletableFuture<Void> revoking = CompletableFuture.completedFuture(null);
        /** Grows with every revocation: the peer refuses leases of an older generation arriving late. */
        long leaseGeneration;
        /** Every write is mirrored since the peer's mirror was emptied (set by resync, cleared by a revocation). */
        boolean leasesAllowed;
        /** A read lease was granted since the last revocation, the last one at {@code lastLeaseNanos}. */
        boolean leaseGranted;
        long lastLeaseNanos;
    }

    private final Controller c;
    private final long leaseNanos;

    MirrorGrants(Controller controller, long leaseNanos) {
        this.c = controller;
        this.leaseNanos = leaseNanos;
    }

    long leaseNanos() {
        return leaseNanos;
    }

    /** Whether the reply for the shipped write in {@code slot} may tell the peer to read it from its mirror. */
    boolean grant(Lun l, long slot) {
        State g = l.grants;
        synchronized (g) {
            if (slot <= g.revokedUpTo) {
                return false; // a newer unmirrored write may cover it
            }
            g.grantedUpTo = Math.max(g.grantedUpTo, slot);
            g.lastGrantNanos = c.clock.nanos();
            return true;
        }
    }

    /**
     * The flags of the reply to a shipped write with outcome {@code r}: {@link LinkFrame#FLAG_MIRROR_HERE} when the peer
     * is to keep the mirror copy itself, {@link LinkFrame#FLAG_MIRRORED} when it may also read the slot from there
     * (decided as the reply leaves: a write not mirrored since then was revoked first).
     */
    int shippedWriteReplyFlags(Lun l, IoResult r) {
        return (r.mirrorAtPeer() ? LinkFrame.FLAG_MIRROR_HERE : 0)
            | (r.mirrored() && grant(l, r.position()) ? LinkFrame.FLAG_MIRRORED : 0);
    }

    /**
     * The generation of a read lease the reply to a shipped read may carry, or -1 when none may be granted (a write
     * was not mirrored since the last resync, the peer is not in sync, or the LUN is changing hands).
     */
    long grantReadLease(Lun l) {
        if (!c.cfg.nonOwnerReadsLocal() || !c.peerSynced || c.peerState != PeerMonitor.PeerState.ALIVE
            || l.transitioning || !l.owned()) {
            return -1;
        }
        State g = l.grants;
        synchronized (g) {
            if (!g.leasesAllowed) {
                return -1;
            }
            g.leaseGranted = true;
            g.lastLeaseNanos = c.clock.nanos();
            return g.leaseGeneration;
        }
    }

    /**
     * A LUN opened at start: what an earlier run of this controller granted is unknown, so a lease is taken to be
     * outstanding for one lease from now (the first unmirrored write revokes it, or waits it out). Generations
     * start above any an earlier run used (wall-clock milliseconds, 2^20 generations each, as the journal's slots):
     * the peer, which may have stayed up, refuses leases below the last revocation it heard of.
     */
    void openedAt(Lun l, long nowNanos) {
        synchronized (l.grants) {
            l.grants.leaseGranted = true;
            l.grants.lastLeaseNanos = nowNanos;
            l.grants.leaseGeneration = System.currentTimeMillis() << 20;
        }
    }

    /**
     * Resync begins: the peer's mirror is about to be emptied while this LUN's cache still holds writes not on the
     * media, so no lease is granted any more. Returns the generation the reset carries: the peer drops its lease
     * and refuses any older one. A lease granted before still counts as outstanding: a write not mirrored before
     * the peer has the reset must still revoke it (or wait it out).
     */
    long beginResync(Lun l) {
        synchronized (l.grants) {
            l.grants.leasesAllowed = false;
            return ++l.grants.leaseGeneration;
        }
    }

    /** The current lease generation: it grows with every write that is not mirrored. */
    long generation(Lun l) {
        synchronized (l.grants) {
            return l.grants.leaseGeneration;
        }
    }

    /**
     * Resync emptied the peer's mirror and destaged this LUN: from now on every write is mirrored, unless one was
     * not since {@code generation} was read (just before mirroring resumed): then the next resync decides.
     */
    void allowReadLeases(Lun l, long generation) {
        synchronized (l.grants) {
            if (l.grants.leaseGeneration == generation) {
                l.grants.leasesAllowed = true;
            }
        }
    }

    /**
     * Ownership changed: no lease from the controller that lost the LUN until a resync (the one that took it allows
     * them again itself, see {@code Controller.reloadMetadata}). A lease granted under the old ownership names the
     * old epoch, which the peer checks.
     */
    void forbidReadLeases(Lun l) {
        synchronized (l.grants) {
            l.grants.leasesAllowed = false;
        }
    }

    /**
     * Completes when the peer no longer reads any position at or below {@code slot} (the slot of a write that
     * is not in its mirror) from its mirror; the write is acknowledged after that.
     */
    CompletableFuture<Void> revokeThrough(Lun l, long slot) {
        State g = l.grants;
        synchronized (g) {
            boolean outstanding = g.grantedUpTo > g.revokedUpTo || g.leaseGranted;
            g.revokedUpTo = Math.max(g.revokedUpTo, slot);
            // even with no lease out: a resync under way must not allow leases when it ends (see allowReadLeases)
            g.leasesAllowed = false;
            g.leaseGeneration++;
            if (!outstanding) {
                return g.revoking; // anything granted is covered by the revocation already under way
            }
            long leaseEnd = Math.max(g.lastGrantNanos, g.leaseGranted ? g.lastLeaseNanos : Long.MIN_VALUE) + leaseNanos;
            g.leaseGranted = false;
            LinkFrame m = LinkFrame.message(LinkFrame.CHANNEL_MANAGEMENT, LinkFrame.MANAGEMENT,
                LinkFrame.OP_MIRROR_REVOKE, l.id(), l.record.epoch(), 0, slot, g.leaseGeneration, null);
            CompletableFuture<Void> done = new CompletableFuture<>();
            // whichever comes first: the peer's confirmation, or the end of every lease it may hold (a paused or
            // dead peer's answer could take the link's whole request timeout, and is not needed by then)
            afterNanos(leaseEnd - c.clock.nanos(), () -> done.complete(null));
            c.link.request(m, 0).whenComplete((r, e) -> {
                boolean ok = r != null && r.status() == Status.GOOD;
                if (r != null) {
                    r.release();
                }
                if (ok) {
                    done.complete(null);
                    return;
                }
                if (!done.isDone()) {
                    LOG.warn("controller {}: the peer did not confirm dropping its read positions and lease of {} ({});"
                        + " acknowledging the unmirrored write after they end, in {} ms", c.id, l.name(),
                        e != null ? e.toString() : Status.name(r.status()),
                        Math.max(0, TimeUnit.NANOSECONDS.toMillis(leaseEnd - c.clock.nanos())));
                }
            });
            g.revoking = done;
            return done;
        }
    }

    private void afterNanos(long nanos, Runnable r) {
        if (nanos <= 0) {
            r.run();
            return;
        }
        try {
            c.timer.schedule(r, nanos, TimeUnit.NANOSECONDS);
        } catch (RuntimeException stopped) {
            r.run(); // the controller is stopping: nothing it acknowledges reaches a host anyway
        }
    }
}
