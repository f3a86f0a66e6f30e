package io.jmpio.emu.controller;

import io.jmpio.emu.array.LunRecord;
import io.jmpio.emu.cache.Extent;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import io.jmpio.emu.link.LinkFrame;
import io.jmpio.netty.FailureText;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Changes of LUN ownership, all on the controller's {@code ops} thread: resynchronisation when the peer
 * comes (back), takeover from a dead peer, moves to the peer (manual, failback, auto-transfer).
 */
final class Ownership {
    private static final Logger LOG = LoggerFactory.getLogger(Ownership.class);

    private final Controller c;
    /** From finding the peer dead until the takeover that follows has run (its metadata committed). */
    private volatile boolean takeoverDue;

    Ownership(Controller controller) {
        this.c = controller;
    }

    /**
     * The peer came (back): nothing this controller caches may depend on a mirror the peer lost. Writes go
     * through to disk while the peer's mirror is emptied and everything cached is destaged; then mirroring resumes.
     */
    void resync() {
        if (c.state != Controller.State.RUNNING || c.peerState != PeerState.ALIVE) {
            return;
        }
        if (c.ownerFence.closed()) {
            return; // it writes the drives: run again when the fence opens (see OwnerFence)
        }
        c.peerSynced = false;
        try {
            for (Lun l : c.luns.values()) {
                if (l.owned()) {
                    long generation = c.grants.beginResync(l);
                    managementRequest(LinkFrame.OP_MIRROR_RESET, l.id(), c.nvram.lastSlot(), generation);
                    c.destager.destageLun(l);
                    l.store.force();
                }
            }
            // writes not mirrored until now were destaged or are written through before their acknowledgement, and
            // the mirror holds nothing newer of them; one not mirrored from here on (a failed mirror write) ends the
            // leases for good, so the generation is taken before the mirroring resumes
            java.util.Map<Lun, Long> generations = new java.util.HashMap<>();
            for (Lun l : c.luns.values()) {
                if (l.owned()) {
                    generations.put(l, c.grants.generation(l));
                }
            }
            c.peerSynced = c.peerState == PeerState.ALIVE;
            for (java.util.Map.Entry<Lun, Long> e : generations.entrySet()) {
                if (e.getKey().owned() && c.peerSynced) {
                    c.grants.allowReadLeases(e.getKey(), e.getValue());
                }
            }
            LOG.info("controller {}: in sync with peer {}; mirroring writes", c.id, c.peerId);
        } catch (IOException e) {
            LOG.warn("controller {}: resync with {} failed ({}); writing through", c.id, c.peerId, FailureText.of(e));
        }
    }

    /** The peer was found dead: a takeover is queued (see {@link #takingOver}). */
    void takeoverDue() {
        takeoverDue = true;
    }

    /**
     * Whether a takeover from the dead peer is due or under way: until it has committed, this controller does not
     * tell the peer it has seen it alive (a frozen peer would serve its LUNs again meanwhile; see OwnerFence).
     */
    boolean takingOver() {
        return takeoverDue;
    }

    /** The peer is dead: take its LUNs, replaying the mirror of its write cache first. */
    void takeOver() {
        try {
            takeOverFromDeadPeer();
        } finally {
            takeoverDue = false;
        }
    }

    private void takeOverFromDeadPeer() {
        if (c.state != Controller.State.RUNNING || c.peerState != PeerState.DEAD) {
            return;
        }
        for (Lun l : c.luns.values()) {
            if (!c.peerId.equals(l.record.owner())) {
                continue;
            }
            l.transitioning = true;
            c.access.recompute();
            try {
                l.diskLock.lock();
                try {
                    int missing = c.shipper.missingFromMirror(l);
                    // what the peer had destaged is on the drives, perhaps overwritten there since by writes
                    // the mirror never saw (written through while the link was down): only the rest is replayed
                    long destaged = c.mailbox.peerDestagedUpTo();
                    List<Extent> mirrored = new java.util.ArrayList<>();
                    for (Extent e : l.mirror.snapshot()) {
                        if (e.slot() > destaged) {
                            mirrored.add(e);
                        }
                    }
                    for (Extent e : mirrored) {
                        OwnerIo.writeToStore(l.store, e);
                    }
                    l.store.force();
                    l.mirror.clear();
                    LOG.warn("controller {}: took over {} from dead peer {}, replayed {} mirrored extent(s){}", c.id,
                        l.name(), c.peerId, mirrored.size(),
                        missing == 0 ? ", every shipped write among them" : "; " + missing + " shipped write(s) missing");
                } finally {
                    l.diskLock.unlock();
                }
                int lunId = l.id();
                c.metadata.update(m -> {
                    LunRecord cur = m.byId(lunId);
                    return cur == null ? m : m.with(cur.withOwner(c.id, true));
                });
                c.blockCache.invalidateLun(lunId);
                c.shipper.forget(l);
                c.reloadMetadata();
            } catch (IOException e) {
                LOG.error("controller {}: takeover of {} failed", c.id, l.name(), e);
            } finally {
                l.transitioning = false;
            }
        }
        c.access.recompute();
    }

    void checkFailback(long now) {
        if (!"auto".equals(c.cfg.failback()) || c.peerState != PeerState.ALIVE || !c.peerSynced || c.failedBackSinceAlive) {
            return;
        }
        if (now - c.peerAliveSinceNanos < TimeUnit.MILLISECONDS.toNanos(c.cfg.failbackDelayMillis())) {
            return;
        }
        c.failedBackSinceAlive = true;
        for (Lun l : c.luns.values()) {
            LunRecord r = l.record;
            if (l.owned() && r.failedOver() && c.peerId.equals(r.preferredOwner())) {
                LOG.info("controller {}: failing {} back to its preferred owner {}", c.id, r.name(), c.peerId);
                submitMove(l, c.peerId, "failback");
            }
        }
    }

    void submitMove(Lun l, String target, String why) {
        if (!l.moving.compareAndSet(false, true)) {
            return;
        }
        c.ops.execute(() -> {
            try {
                move(l, target);
            } catch (IOException e) {
                LOG.warn("controller {}: {} of {} to {} failed: {}", c.id, why, l.name(), target, FailureText.of(e));
            } finally {
                l.moving.set(false);
            }
        });
    }

    /** Moves ownership of an owned LUN to the peer: transitioning, drain, destage, metadata, peer reload. */
    void move(Lun l, String target) throws IOException {
        if (!l.owned()) {
            throw new Controller.NotOwnerException(l.name(), l.record.owner());
        }
        if (target.equals(c.id)) {
            return;
        }
        if (c.peerState != PeerState.ALIVE) {
            throw new IOException("peer " + c.peerId + " is " + c.peerState.name().toLowerCase() + "; cannot move "
                + l.name() + " to it");
        }
        int lunId = l.id();
        l.transitioning = true;
        c.access.recompute();
        boolean committed = false;
        try {
            managementRequest(LinkFrame.OP_TRANSITION_BEGIN, lunId, 0);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (l.inflight.get() > 0) {
                if (System.nanoTime() > deadline) {
                    logUndrained(l);
                    throw new IOException(l.inflight.get() + " request(s) on " + l.name() + " did not drain");
                }
                Thread.onSpinWait();
                Thread.yield();
            }
            c.destager.destageLun(l);
            l.store.force();
            c.metadata.update(m -> {
                LunRecord cur = m.byId(lunId);
                return cur == null ? m : m.with(cur.withOwner(target, false));
            });
            committed = true;
            l.cache.clear();
            c.blockCache.invalidateLun(lunId);
            c.shipper.forget(l);
            c.balancer.reset(lunId);
            c.reloadMetadata();
            try {
                managementRequest(LinkFrame.OP_METADATA_CHANGED, lunId, 0);
            } catch (IOException e) {
                LOG.warn("controller {}: peer did not confirm the move of {}: {}", c.id, l.name(), FailureText.of(e));
            }
            LOG.info("controller {}: ownership of {} moved to {}", c.id, l.name(), target);
        } finally {
            l.transitioning = false;
            if (!committed) {
                try {
                    managementRequest(LinkFrame.OP_TRANSITION_ABORT, lunId, 0);
                } catch (IOException ignored) {
                    // the peer clears its transitioning state when it next reloads metadata
                }
            }
            c.access.recompute();
        }
    }

    /** What a move that could not drain saw: the requests still in flight (when tracked) and the controller's threads. */
    private void logUndrained(Lun l) {
        MirrorGrants.State g = l.grants;
        StringBuilder b = new StringBuilder();
        synchronized (g) {
            b.append("grants: granted up to ").append(g.grantedUpTo).append(", revoked up to ").append(g.revokedUpTo)
                .append(", revocation ").append(g.revoking.isDone() ? "done" : "pending");
        }
        b.append("; peer ").append(c.peerState).append(c.peerSynced ? " synced" : " unsynced").append("; now ")
            .append(c.clock.nanos());
        if (l.inflightDebug != null) {
            l.inflightDebug.values().stream().limit(20).forEach(v -> b.append("\n  in flight: ").append(v));
        }
        for (var e : Thread.getAllStackTraces().entrySet()) {
            String name = e.getKey().getName();
            if (name.startsWith("jmpio-" + c.id + "-") || name.startsWith("jmpio-emu")) {
                b.append("\n  thread ").append(name).append(" ").append(e.getKey().getState());
                StackTraceElement[] st = e.getValue();
                for (int i = 0; i < Math.min(8, st.length); i++) {
                    b.append("\n    at ").append(st[i]);
                }
            }
        }
        LOG.warn("controller {}: {} request(s) on {} did not drain; {}", c.id, l.inflight.get(), l.name(), b);
    }

    /** One management request to the peer, answered GOOD within the link's patience, or an exception. */
    void managementRequest(int op, int lun, long source) throws IOException {
        managementRequest(op, lun, source, 0);
    }

    void managementRequest(int op, int lun, long source, long destination) throws IOException {
        LinkFrame m = LinkFrame.message(LinkFrame.CHANNEL_MANAGEMENT, LinkFrame.MANAGEMENT, op, lun, 0, 0, source,
            destination, Unpooled.EMPTY_BUFFER);
        try {
            LinkFrame r = c.link.request(m, 0).get(Math.max(2 * c.cfg.heartbeatTimeoutMillis(), 1000) + 500,
                TimeUnit.MILLISECONDS);
            r.release();
            if (r.status() != Status.GOOD) {
                throw new IOException("peer answered " + Status.name(r.status()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException ? (IOException) e.getCause() : new IOException(e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("peer did not answer in time");
        }
    }

    /** Tells the peer to re-read the metadata, if it is there to hear it. */
    void notifyPeerMetadata() {
        if (c.peerState == PeerState.ALIVE) {
            try {
                managementRequest(LinkFrame.OP_METADATA_CHANGED, 0, 0);
            } catch (IOException e) {
                LOG.warn("controller {}: peer did not confirm a metadata change: {}", c.id, FailureText.of(e));
            }
        }
    }
}
