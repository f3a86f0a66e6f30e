package io.jmpio.core;

import io.jmpio.api.PathView;
import io.jmpio.transport.AccessState;
import io.jmpio.transport.PathSession;
import io.jmpio.transport.PortInfo;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One port of the target as this host sees it: where it is, its access state (from the target), its
 * health (from this host's I/O and probes), and its statistics. I/O threads read the volatile fields; the
 * admin side writes them under the device's topology lock.
 */
final class Path implements PathView {
    enum Health { UP, FAILED, OFFLINE }

    final int index;
    final String id;
    final String address;
    final String controller;
    final int portId;
    final PathStats stats;
    final AtomicBoolean probing = new AtomicBoolean();

    /** The group the path is in: its controller's port group, or (NVMe) the group of its access state. */
    volatile int group;
    volatile AccessState access = AccessState.INACCESSIBLE;
    /** The access state came through this path's own session (not another port's report about it). */
    volatile boolean accessFromItself;
    volatile boolean preferred;
    volatile Health health = Health.FAILED;
    volatile String reason = "not yet checked";
    volatile boolean marginal;
    volatile boolean reported = true;
    /** Set when the path came back from FAILED; followover failback reads and clears it. */
    volatile boolean recovered;

    /** Times this path went from UP to FAILED. */
    final AtomicInteger failures = new AtomicInteger();
    volatile boolean everUp;

    // Marginal bookkeeping, touched only by the statistics tick.
    long windowIos;
    long windowErrors;
    long windowLatencyNanos;
    int windowFailures;
    long marginalUntilNanos;
    int marginalStrikes;

    /** What the policy instance of each I/O queue sees of this path. */
    private final QueuePathView[] byQueue;

    /** The path's control session (probes, states, notices; I/O queues join it). Touched only by probe tasks. */
    volatile PathSession session;

    /** A path of a device with one I/O queue (tests). */
    Path(int index, PortInfo port) {
        this(index, port, 1);
    }

    /** A path of a device with {@code queues} I/O queues: each records its statistics in a shard of its own. */
    Path(int index, PortInfo port, int queues) {
        this.index = index;
        this.stats = new PathStats(queues);
        this.byQueue = new QueuePathView[Math.max(1, queues)];
        for (int q = 0; q < byQueue.length; q++) {
            byQueue[q] = new QueuePathView(this, q);
        }
        this.id = port.id();
        this.address = port.address();
        this.controller = port.controller();
        this.portId = port.portId();
        this.group = port.group();
    }

    /** This path as I/O queue {@code queue}'s policy sees it. */
    QueuePathView viewFor(int queue) {
        return byQueue[queue % byQueue.length];
    }

    int queues() {
        return byQueue.length;
    }

    /** Eligible for I/O in its group: up, not taken offline, and in a state that serves I/O (or standby). */
    boolean usable() {
        return health == Health.UP && (access.servesIo() || access == AccessState.STANDBY);
    }

    @Override public int index() { return index; }
    @Override public String id() { return id; }
    @Override public String address() { return address; }
    @Override public String controller() { return controller; }
    @Override public int inFlight() { return (int) stats.inFlight.sum(); }
    @Override public long inFlightBytes() { return stats.inFlightBytes.sum(); }

    @Override
    public String toString() {
        return id + "(" + address + ")";
    }
}
