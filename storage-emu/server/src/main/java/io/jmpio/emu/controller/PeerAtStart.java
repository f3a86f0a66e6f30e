package io.jmpio.emu.controller;

import io.jmpio.emu.array.LunRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A controller's first contact with its peer as it starts, read from the mailboxes alone (before any port, link
 * or heartbeat of its own): whether the peer runs, and — when this controller was killed with writes cached and
 * the peer ran through it — waiting, silent, until the peer has taken its LUNs over from the mirror.
 */
final class PeerAtStart {
    private static final Logger LOG = LoggerFactory.getLogger(PeerAtStart.class);

    private final Controller c;

    PeerAtStart(Controller controller) {
        this.c = controller;
    }

    /** True when the peer runs (after its takeover, if one was due); false when the whole array was down. */
    boolean joinPeer() throws IOException {
        if (peerNotRunning()) {
            return false;
        }
        if (c.nvram.lastStopLostCache() && peerRanBeforeOwnStop()) {
            awaitPeerTakeover();
        }
        return true;
    }

    /**
     * Whether the peer's current run began before this controller last beat: then the peer was there when this
     * controller stopped, and mirrored what it cached. A peer started later holds no mirror of it (the whole array
     * was down), and the journal replay is what restores the cache.
     */
    private boolean peerRanBeforeOwnStop() {
        long peerStarted = c.mailbox.peerStartedWallMillis();
        long ownLast = c.mailbox.previousBeatWallMillis();
        return peerStarted > 0 && ownLast > 0 && peerStarted < ownLast;
    }

    /**
     * This controller stopped without emptying its write cache (killed) and its peer runs: the acknowledged
     * writes it cached are now only in the peer's mirror, which the peer replays when it takes the LUNs over.
     * Until it has, this controller stays silent — no heartbeat on the link or in its mailbox, no journal
     * replay, no port — so the peer finds it dead even if it missed the stop (its own timers stalled, or the
     * restart was quicker than its timeout), and the two never write one LUN's drives at once.
     */
    private void awaitPeerTakeover() throws IOException {
        long limitMillis = Math.max(10_000, 20 * c.cfg.heartbeatTimeoutMillis());
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limitMillis);
        long counter = c.mailbox.peerCounter();
        long counterSince = System.nanoTime();
        boolean waited = false;
        while (true) {
            List<String> owned = new ArrayList<>();
            for (LunRecord r : c.metadata.load().luns()) {
                if (c.id.equals(r.owner())) {
                    owned.add(r.name());
                }
            }
            if (owned.isEmpty()) {
                if (waited) {
                    LOG.info("controller {}: {} has taken over; starting", c.id, c.peerId);
                }
                return;
            }
            if (!waited) {
                waited = true;
                LOG.info("controller {}: stopped last time with writes cached; waiting for {} to take over {}", c.id,
                    c.peerId, owned);
            }
            long now = System.nanoTime();
            long peerNow = c.mailbox.peerCounter();
            if (peerNow != counter) {
                counter = peerNow;
                counterSince = now;
            } else if (now - counterSince > TimeUnit.MILLISECONDS.toNanos(2 * c.cfg.heartbeatTimeoutMillis())) {
                // the peer stopped too: the whole array is down, which is a power loss to its hosts
                LOG.warn("controller {}: {} stopped while this controller waited for its takeover of {}; starting",
                    c.id, c.peerId, owned);
                return;
            }
            if (now > deadline) {
                throw new IOException("controller " + c.id + ": peer " + c.peerId + " runs but did not take over " + owned
                    + " within " + limitMillis + " ms; the writes this controller had cached are only in "
                    + c.peerId + "'s mirror, so it does not start serving them (start it again once " + c.peerId
                    + " has taken over, or stop " + c.peerId + ")");
            }
            try {
                Thread.sleep(Math.max(5, c.cfg.heartbeatIntervalMillis() / 2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while controller " + c.id + " waited for " + c.peerId + "'s takeover");
            }
        }
    }

    /**
     * Whether the peer is down as this controller starts: its mailbox is stale, or (written lately: it may
     * just have stopped) does not advance within a heartbeat timeout.
     */
    private boolean peerNotRunning() throws IOException {
        long wall = c.mailbox.peerWallMillis();
        if (wall < 0 || System.currentTimeMillis() - wall > Math.max(4 * c.cfg.heartbeatTimeoutMillis(), 2000)) {
            return true;
        }
        long counter = c.mailbox.peerCounter();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(c.cfg.heartbeatTimeoutMillis());
        while (System.nanoTime() < deadline) {
            try {
                Thread.sleep(Math.max(5, c.cfg.heartbeatIntervalMillis() / 4));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting controller " + c.id);
            }
            if (c.mailbox.peerCounter() != counter) {
                return false;
            }
        }
        return true;
    }
}
