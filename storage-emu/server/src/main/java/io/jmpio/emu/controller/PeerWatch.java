package io.jmpio.emu.controller;

import io.jmpio.emu.controller.PeerMonitor.PeerState;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A controller's timer round, every heartbeat interval: its own freeze detected (and ownership re-read after
 * one), heartbeats on the link and in the mailbox, the verdict on the peer and what follows a change of it
 * (resync, takeover, re-reading the metadata), stale transitions ended, failback and auto-transfer checked.
 * Runs on the {@code timer} thread and never blocks on disk: slow work goes to {@code ops}.
 */
final class PeerWatch {
    private static final Logger LOG = LoggerFactory.getLogger(PeerWatch.class);
    /** Longest a peer's transition of a LUN is believed without a metadata change ending it. */
    static final long TRANSITION_LIMIT_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final Controller c;
    /** A takeover of LUNs that appeared owned by the dead peer is queued on {@code ops} and not yet done. */
    private final AtomicBoolean lateTakeoverQueued = new AtomicBoolean();

    PeerWatch(Controller controller) {
        this.c = controller;
    }

    /**
     * A transition the peer began and never ended (it died mid-move, or its abort was lost) ends here: a move
     * drains for at most a few seconds, so a LUN transitioning for much longer would otherwise stay
     * unusable until the next metadata change.
     */
    private void expireTransitions(long now) {
        for (Lun l : c.luns.values()) {
            if (l.transitioning && !l.owned() && now - l.transitionSinceNanos > TRANSITION_LIMIT_NANOS) {
                LOG.warn("controller {}: {} has been transitioning for more than {} s on {}'s word; ending it", c.id,
                    l.name(), TimeUnit.NANOSECONDS.toSeconds(TRANSITION_LIMIT_NANOS), c.peerId);
                l.transitioning = false;
                c.access.recompute();
            }
        }
    }

    void tick() {
        try {
            if (c.state != Controller.State.RUNNING) {
                return;
            }
            long now = c.clock.nanos();
            if (c.timersStalled(now)) {
                // This process was frozen (docker pause, SIGSTOP, a VM stall) or starved for longer than the
                // peer waits: the peer may have taken our LUNs meanwhile. Re-read ownership before serving,
                // and give the peer's mailbox a fresh grace period (our view of it is stale, not the peer dead).
                Set<Integer> ownedBefore = ownedLunIds();
                c.reloadMetadata();
                c.monitor.graceAfterStall(now);
                boolean fencedOut = !ownedLunIds().containsAll(ownedBefore);
                LOG.warn("controller {}: timers stalled {} ms; ownership re-read: {}", c.id,
                    TimeUnit.NANOSECONDS.toMillis(now - c.lastTickNanos),
                    fencedOut ? "the peer took over meanwhile, this controller is fenced" : "unchanged");
                if (fencedOut) {
                    c.peerState = PeerState.PARTITIONED;
                    c.peerSynced = false;
                    c.monitor.restartObservation(now);
                }
                c.ownerFence.closeAfterGap("a stall of its timers");
                c.forgetPositions();
                c.lastTickNanos = now;
                c.access.recompute();
            }
            c.lastTickNanos = now;
            expireTransitions(now);
            c.streams.expire(now);
            c.mailbox.beat();
            c.link.heartbeat();
            c.localReads.report();
            c.link.maintain();
            Mailbox.PeerRecord peer = c.mailbox.peer();
            long peerCounter = peer == null ? -1 : peer.counter();
            c.monitor.mailbox(peerCounter, now);
            PeerState next = c.monitor.evaluate(now);
            if (next != c.peerState) {
                onPeerState(next, now);
            } else if (next == PeerState.DEAD) {
                takeOverLateArrivals();
            }
            // the peer learns from this whether it may serve its LUNs after a gap of its own (see OwnerFence)
            c.mailbox.peerCounterSeen(c.peerState != PeerState.DEAD && !c.ownership.takingOver() ? peerCounter : -1);
            c.ownerFence.check(peer, c.peerState);
            c.ownership.checkFailback(now);
            for (int lunId : c.balancer.evaluate(now)) {
                Lun l = c.luns.get(lunId);
                if (l != null && l.owned() && c.peerState == PeerState.ALIVE && c.peerSynced) {
                    LOG.info("controller {}: most I/O for {} arrives at {}; moving ownership (implicit ALUA)", c.id,
                        l.name(), c.peerId);
                    c.ownership.submitMove(l, c.peerId, "auto-transfer");
                }
            }
        } catch (Throwable t) {
            LOG.error("controller {}: timer tick failed", c.id, t);
        }
    }

    /**
     * A LUN can name the dead peer as its owner after the takeover ran (created for it meanwhile, or a metadata
     * change from before its death read late): nobody would serve it, and the peer, when it starts again, waits for
     * this controller to take over what it owned. So it is taken over as the others were.
     */
    private void takeOverLateArrivals() {
        boolean any = c.luns.values().stream().anyMatch(l -> c.peerId.equals(l.record.owner()) && !l.transitioning);
        if (any && lateTakeoverQueued.compareAndSet(false, true)) {
            c.ops.execute(() -> {
                try {
                    c.ownership.takeOver();
                } finally {
                    lateTakeoverQueued.set(false);
                }
            });
        }
    }

    private Set<Integer> ownedLunIds() {
        Set<Integer> ids = new HashSet<>();
        for (Lun l : c.luns.values()) {
            if (l.owned()) {
                ids.add(l.id());
            }
        }
        return ids;
    }

    private void onPeerState(PeerState next, long now) {
        PeerState previous = c.peerState;
        c.peerState = next;
        LOG.info("controller {}: peer {} {} -> {}", c.id, c.peerId, previous, next);
        switch (next) {
            case ALIVE:
                c.peerAliveSinceNanos = now;
                c.failedBackSinceAlive = false;
                c.ops.execute(this::reloadAfterSilence);
                c.ops.execute(c.ownership::resync);
                break;
            case PARTITIONED:
                c.peerSynced = false;
                c.forgetPositions();
                c.ops.execute(this::reloadAfterSilence);
                break;
            case DEAD:
                c.peerSynced = false;
                c.link.disconnectAll();
                c.ownership.takeoverDue();
                try {
                    // published before the takeover begins: a peer that was only frozen must learn of it before
                    // it serves its LUNs again
                    c.mailbox.peerFoundDead();
                } catch (IOException e) {
                    LOG.error("controller {}: cannot publish in the mailbox that {} was found dead ({}); taking "
                        + "over regardless", c.id, c.peerId, e.toString());
                }
                c.ops.execute(c.ownership::takeOver);
                break;
            default:
        }
        c.access.recompute();
    }

    /**
     * The peer's word did not reach us for a while (or just stopped coming): it may have committed an ownership
     * change whose notice was lost with the link — a move to this controller, say, that would otherwise leave
     * the LUN with no owner serving it until the next notice. The metadata says what holds.
     */
    private void reloadAfterSilence() {
        try {
            if (c.state == Controller.State.RUNNING) {
                c.reloadMetadata();
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("controller {}: cannot re-read the metadata after the peer's state changed: {}", c.id, e.toString());
        }
    }
}
