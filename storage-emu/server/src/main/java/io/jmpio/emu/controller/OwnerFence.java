package io.jmpio.emu.controller;

import io.jmpio.emu.controller.PeerMonitor.PeerState;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this controller may act as the owner of its LUNs now. After a gap in its heartbeats (a pause, a freeze)
 * the peer may have found it dead and be taking its LUNs over, or be about to on what it saw before the gap ended:
 * re-reading the metadata at once is not enough, the takeover may commit a moment later. So the fence closes, and
 * the owner answers TRANSITIONING and writes nothing to the drives, until the peer's mailbox shows a heartbeat
 * written after the gap as seen while the peer neither found this controller dead nor was taking its LUNs over.
 * If the peer found it dead meanwhile, that echo comes only once the takeover is committed, and the metadata is
 * re-read before the fence opens: the LUNs taken are no longer served here. A peer this controller finds dead
 * takes nothing over, so that opens the fence too.
 *
 * <p>The peer's findings are read every timer round as well: one this controller had no gap to account for (its
 * heartbeats reached nobody, say) closes the fence at once, within a heartbeat interval of the finding.
 *
 * <p>The soak found why: an owner resumed half a second into a pause, served writes, and its peer, which had not
 * yet seen a heartbeat of the resumed owner, took over and replayed older mirrored copies over them.
 */
final class OwnerFence {
    private static final Logger LOG = LoggerFactory.getLogger(OwnerFence.class);

    private final Controller c;
    /** Read on every owner request: one volatile read while open. */
    private volatile boolean closed;
    /** The own heartbeat counter the peer must have seen before the fence opens. */
    private long awaitedCounter;
    /** How many times the peer had found this controller dead, as accounted for here. */
    private long knownPeerDeaths;
    /** The peer found this controller dead while the fence was closed: ownership is re-read before it opens. */
    private boolean reloadBeforeOpening;
    /** Counts closings, so that an opening decided before a new closing does not undo it. */
    private long closings;

    OwnerFence(Controller controller) {
        this.c = controller;
    }

    boolean closed() {
        return closed;
    }

    /** A new run of this controller: what the peer found of earlier runs is settled (see {@link PeerAtStart}). */
    synchronized void start(Mailbox.PeerRecord peer) {
        knownPeerDeaths = peer == null ? 0 : peer.deathsFound();
        reloadBeforeOpening = false;
        closed = false;
    }

    /**
     * A gap in this controller's heartbeats ends: it serves as owner again only once the peer has seen a beat
     * written from now on, which the next timer round writes.
     */
    void closeAfterGap(String gap) {
        boolean wasOpen;
        synchronized (this) {
            awaitedCounter = c.mailbox.counter() + 1;
            closings++;
            wasOpen = !closed;
            closed = true;
        }
        if (wasOpen) {
            LOG.info("controller {}: after {}, serving its LUNs again once {} has seen it alive", c.id, gap, c.peerId);
            c.access.recompute();
        }
    }

    /**
     * A timer round, after this controller's beat: the peer's latest record decides. Never holds this object's
     * lock while re-reading the metadata (the controller's lock, which {@code resume} holds when it closes this).
     */
    void check(Mailbox.PeerRecord peer, PeerState peerState) throws IOException {
        boolean foundDead = false;
        boolean reload;
        long closing;
        synchronized (this) {
            // any change counts (a mailbox recreated by hand starts again from 0): re-reading once costs little
            if (peer != null && peer.deathsFound() != knownPeerDeaths) {
                knownPeerDeaths = peer.deathsFound();
                reloadBeforeOpening = true;
                foundDead = true;
                if (!closed) {
                    awaitedCounter = c.mailbox.counter() + 1;
                    closings++;
                    closed = true;
                }
            }
            if (!closed) {
                return;
            }
            boolean seen = peer != null && peer.counterSeen() >= awaitedCounter;
            reload = reloadBeforeOpening;
            closing = closings;
            if (!seen && peerState != PeerState.DEAD) {
                closing = -1;
            }
        }
        if (foundDead) {
            LOG.warn("controller {}: {} found it dead; not serving as owner until {} has taken over what it owned "
                + "and seen it alive again", c.id, c.peerId, c.peerId);
            c.access.recompute();
        }
        if (closing < 0) {
            return;
        }
        if (reload) {
            // the peer echoes again only once its takeover is committed: the metadata says which LUNs it took
            c.reloadMetadata();
        }
        synchronized (this) {
            if (closing != closings) {
                return; // closed again meanwhile (a new gap): that closing waits for its own beat to be seen
            }
            if (reload) {
                reloadBeforeOpening = false;
            }
            closed = false;
        }
        LOG.info("controller {}: {}; serving as owner again", c.id,
            peerState == PeerState.DEAD ? c.peerId + " is dead" : c.peerId + " has seen it alive");
        c.access.recompute();
        if (c.peerState == PeerState.ALIVE && !c.peerSynced) {
            c.ops.execute(c.ownership::resync); // one the fence put off
        }
    }
}
