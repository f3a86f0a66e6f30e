package io.jmpio.emu.controller;

/**
 * Decides what this controller believes of its peer from two independent heartbeats: messages on the
 * link's management channel, and the counter the peer writes into its mailbox file in the shared data
 * directory (the array's quorum area). The rule that prevents split-brain:
 * <ul>
 *   <li>link heartbeats fresh: {@link PeerState#ALIVE};</li>
 *   <li>link silent, mailbox still advancing: {@link PeerState#PARTITIONED} — the peer is alive, only the
 *       link is cut, so nobody takes anything over;</li>
 *   <li>both silent for the timeout: {@link PeerState#DEAD} — only now may the survivor take over.</li>
 * </ul>
 * Pure logic over times passed in, so tests drive it without sleeping.
 */
public final class PeerMonitor {
    public enum PeerState { ALIVE, PARTITIONED, DEAD }

    private final long timeoutNanos;
    private long lastLinkHeartbeat;
    private long lastMailboxChange;
    private long lastMailboxCounter = Long.MIN_VALUE;

    /** Starts observing: the link counts as unheard, the mailbox gets one timeout of grace. */
    public PeerMonitor(long timeoutNanos, long now) {
        this.timeoutNanos = timeoutNanos;
        restartObservation(now);
    }

    /**
     * Starts observing afresh (at start, and on resume after a pause, when this controller's own timers did
     * not run): the peer is not ALIVE until the link brings a heartbeat, and not DEAD before its mailbox has
     * been silent for a whole timeout from now.
     */
    public synchronized void restartObservation(long now) {
        lastLinkHeartbeat = now - timeoutNanos - 1;
        lastMailboxChange = now;
    }

    /**
     * This controller's timers stalled (it was frozen or starved): what it last saw of the peer's mailbox is
     * stale, so the peer gets a whole timeout from now before it can be found DEAD.
     */
    public synchronized void graceAfterStall(long now) {
        lastMailboxChange = Math.max(lastMailboxChange, now);
    }

    public synchronized void linkHeartbeat(long now) {
        lastLinkHeartbeat = now;
    }

    /** Records the counter read from the peer's mailbox. */
    public synchronized void mailbox(long counter, long now) {
        if (counter != lastMailboxCounter) {
            lastMailboxCounter = counter;
            lastMailboxChange = now;
        }
    }

    public synchronized PeerState evaluate(long now) {
        if (now - lastLinkHeartbeat <= timeoutNanos) {
            return PeerState.ALIVE;
        }
        if (now - lastMailboxChange <= timeoutNanos) {
            return PeerState.PARTITIONED;
        }
        return PeerState.DEAD;
    }
}
