package io.jmpio.emu.nvme;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One host association with this array controller: created by a Connect on an admin queue, found again by
 * CNTLID for the host's I/O queues. Holds the controller registers (CC, CSTS), the negotiated features, the
 * outstanding Asynchronous Event Requests and the keep-alive clock. Its state is touched only from the event
 * loop of its admin queue.
 */
final class NvmeController {
    private static final Logger LOG = LoggerFactory.getLogger(NvmeController.class);
    /** AERs a host may keep outstanding (AERL 3, 0-based). */
    static final int AER_LIMIT = 4;
    /** The most I/O queues a controller grants. */
    static final int MAX_IO_QUEUES = 16;

    final int cntlid;
    final String hostNqn;
    final byte[] hostId;
    /** The host ID as reservations name it, worked out once rather than per command. */
    final String hostIdHex;
    final boolean discovery;
    final EventLoop loop;
    final List<Channel> queues = new CopyOnWriteArrayList<>();
    volatile int cc;
    volatile int csts;
    volatile long katoMillis;
    volatile int aec;
    /** I/O queues granted: all of them until the host sets Number of Queues (as nvmet does). */
    volatile int ioQueues = MAX_IO_QUEUES;
    /** The connected I/O queues by QID: each QID joins an association once. */
    final Map<Integer, Channel> ioQueueByQid = new ConcurrentHashMap<>();
    volatile long lastCommandNanos = System.nanoTime();
    final long connectedAtMillis = System.currentTimeMillis();
    private final ArrayDeque<Integer> aers = new ArrayDeque<>();
    private boolean anaEventPending;
    private boolean nsEventPending;
    private boolean discoveryEventPending;
    private Set<Integer> knownNsids = new TreeSet<>();
    private final Set<Integer> changedNsids = new TreeSet<>();
    long anaChangeCount = 1;
    private ScheduledFuture<?> keepAlive;

    NvmeController(int cntlid, String hostNqn, byte[] hostId, boolean discovery, long katoMillis, EventLoop loop) {
        this.cntlid = cntlid;
        this.hostNqn = hostNqn;
        this.hostId = hostId;
        this.hostIdHex = ReservationRules.hex(hostId);
        this.discovery = discovery;
        this.katoMillis = katoMillis;
        this.loop = loop;
    }

    /**
     * Watches the keep-alive clock: a host that sends no command for twice its KATO (a slow host is not a
     * dead one, so the spec's KATO gets as much grace again) loses the association and its queues.
     */
    void startKeepAlive(Runnable expire) {
        if (katoMillis <= 0) {
            return;
        }
        long every = Math.max(100, katoMillis / 2);
        keepAlive = loop.scheduleAtFixedRate(() -> {
            long silent = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastCommandNanos);
            if (silent > 2 * katoMillis) {
                LOG.warn("NVMe controller {} of {}: no command for {} ms (KATO {} ms); ending the association",
                    cntlid, hostNqn, silent, katoMillis);
                expire.run();
            }
        }, every, every, TimeUnit.MILLISECONDS);
    }

    void stop() {
        if (keepAlive != null) {
            keepAlive.cancel(false);
        }
        for (Channel q : queues) {
            q.close();
        }
    }

    void touched() {
        lastCommandNanos = System.nanoTime();
    }

    /** An AER arrived: false when too many are outstanding. */
    boolean addAer(int cid) {
        if (aers.size() >= AER_LIMIT) {
            return false;
        }
        aers.add(cid);
        return true;
    }

    /**
     * The namespaces or their access changed: records the notices due and completes outstanding AERs
     * through {@code complete} (called with CID then DW0 via {@link #deliver}).
     */
    void accessChanged(Set<Integer> nsidsNow) {
        if (!nsidsNow.equals(knownNsids)) {
            for (int n : nsidsNow) {
                if (!knownNsids.contains(n)) {
                    changedNsids.add(n); // added
                }
            }
            for (int n : knownNsids) {
                if (!nsidsNow.contains(n)) {
                    changedNsids.add(n); // removed
                }
            }
            knownNsids = new TreeSet<>(nsidsNow);
            if ((aec & (1 << 8)) != 0) {
                nsEventPending = true;
            }
        }
        anaChangeCount++;
        if ((aec & (1 << 11)) != 0) {
            anaEventPending = true;
        }
    }

    /** Discovery controller: the discovery log's entries changed (a port came, went, or moved). */
    void discoveryChanged() {
        if ((aec & (1 << 31)) != 0) {
            discoveryEventPending = true;
        }
    }

    void knownNsids(Set<Integer> nsids) {
        knownNsids = new TreeSet<>(nsids);
    }

    /** Completes outstanding AERs for pending notices: {@code complete.accept(cid)} after {@code dw0[0]} is set. */
    void deliver(AerSink sink) {
        while (!aers.isEmpty() && (nsEventPending || anaEventPending || discoveryEventPending)) {
            int dw0;
            if (discoveryEventPending) {
                discoveryEventPending = false;
                dw0 = 0x02 | 0xF0 << 8 | 0x70 << 16; // notice: discovery log page change, log 0x70
            } else if (nsEventPending) {
                nsEventPending = false;
                dw0 = 0x02 | 0x00 << 8 | 0x04 << 16; // notice: namespace attribute changed, log 0x04
            } else {
                anaEventPending = false;
                dw0 = 0x02 | 0x03 << 8 | 0x0C << 16; // notice: ANA change, log 0x0C
            }
            sink.complete(aers.poll(), dw0);
        }
    }

    /** The changed-namespace list, cleared by reading it. */
    int[] takeChangedNsids() {
        int[] out = changedNsids.stream().mapToInt(Integer::intValue).limit(1024).toArray();
        changedNsids.clear();
        return out;
    }

    /** Fails every outstanding AER (association ending). */
    void failAers(IntConsumer fail) {
        Integer cid;
        while ((cid = aers.poll()) != null) {
            fail.accept(cid);
        }
    }

    interface AerSink {
        void complete(int cid, int dw0);
    }
}
