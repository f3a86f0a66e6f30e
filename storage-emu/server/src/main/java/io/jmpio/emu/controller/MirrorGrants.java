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
 */
final class MirrorGrants {
    private static final Logger LOG = LoggerFactory.getLogger(MirrorGrants.class);

    /** Per-LUN grant state, guarded by itself. */
    static final class State {
        long grantedUpTo = Long.MIN_VALUE;
        long revokedUpTo = Long.MIN_VALUE;
        long lastGrantNanos;
        CompletableFuture<Void> revoking = CompletableFuture.completedFuture(null);
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
     * Completes when the peer no longer reads any position at or below {@code slot} (the slot of a write that
     * is not in its mirror) from its mirror; the write is acknowledged after that.
     */
    CompletableFuture<Void> revokeThrough(Lun l, long slot) {
        State g = l.grants;
        synchronized (g) {
            boolean outstanding = g.grantedUpTo > g.revokedUpTo;
            g.revokedUpTo = Math.max(g.revokedUpTo, slot);
            if (!outstanding) {
                return g.revoking; // anything granted is covered by the revocation already under way
            }
            long leaseEnd = g.lastGrantNanos + leaseNanos;
            LinkFrame m = LinkFrame.message(LinkFrame.CHANNEL_MANAGEMENT, LinkFrame.MANAGEMENT,
                LinkFrame.OP_MIRROR_REVOKE, l.id(), l.record.epoch(), 0, slot, 0, null);
            CompletableFuture<Void> done = new CompletableFuture<>();
            c.link.request(m, 0).whenComplete((r, e) -> {
                boolean ok = r != null && r.status() == Status.GOOD;
                if (r != null) {
                    r.release();
                }
                if (ok) {
                    done.complete(null);
                    return;
                }
                long wait = leaseEnd - c.clock.nanos();
                LOG.warn("controller {}: the peer did not confirm dropping its read positions of {} ({}); acknowledging"
                    + " the unmirrored write after its leases end, in {} ms", c.id, l.name(),
                    e != null ? e.toString() : Status.name(r.status()), Math.max(0, TimeUnit.NANOSECONDS.toMillis(wait)));
                afterNanos(wait, () -> done.complete(null));
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
