package io.jmpio.bridge.fuse;

import io.jmpio.nativeio.NativeException;
import io.jmpio.nativeio.RingWake;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A FUSE io_uring queue served by a platform thread of its own, for device queues that are not io_uring event
 * loops: the thread waits on the ring, hands each request to the device queue's executor, and submits the
 * answers that other threads post to it (waking it through an eventfd read parked in the ring).
 */
final class FuseRingThread extends FuseRingQueue implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(FuseRingThread.class);
    private static final long WAKE = 1L << 40;

    private final Executor deviceQueue;
    private final CountDownLatch prepared;
    private final CountDownLatch go = new CountDownLatch(1);
    private final CountDownLatch left = new CountDownLatch(1);
    private final ConcurrentLinkedQueue<Entry> done = new ConcurrentLinkedQueue<>();
    private volatile boolean abandon;
    private volatile String failure;
    private RingWake wake;

    FuseRingThread(FuseRequests fuseRequests, int qid, int depth, int payloadSize, int fuseFd, Executor deviceQueue,
                   CountDownLatch prepared) {
        super(fuseRequests, qid, depth, payloadSize, fuseFd);
        this.deviceQueue = deviceQueue;
        this.prepared = prepared;
    }

    /** Starts the queue's thread, which prepares the ring and counts {@code prepared} down. */
    void start() {
        Thread t = new Thread(this, "jmpio-fuse-ring-" + qid);
        t.setDaemon(true);
        t.start();
    }

    @Override
    String failure() {
        return failure;
    }

    @Override
    void register() {
        go.countDown();
    }

    @Override
    void abandon() {
        abandon = true;
        go.countDown();
    }

    @Override
    void stopping() {
        stopping = true;
        RingWake w = wake;
        if (w != null) {
            w.wakeAlways();
        }
    }

    @Override
    void awaitStopped(long millis) throws InterruptedException {
        left.await(millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void run() {
        try {
            try {
                // every entry's command, plus the wake-up read, fit at once
                setUp(1, 0);
                wake = RingWake.create(WAKE);
            } catch (NativeException | RuntimeException e) {
                failure = "queue " + qid + ": " + e.getMessage();
                prepared.countDown();
                tearDown();
                return;
            }
            prepared.countDown();
            try {
                go.await();
                if (abandon) {
                    return;
                }
                for (Entry e : entries) {
                    e.submitRegister();
                }
                wake.rearm(ring);
                ring.submit();
                serve();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (NativeException | RuntimeException e) {
                LOG.error("FUSE io_uring queue {} stopped: {}", qid, e.toString());
            } finally {
                tearDown();
            }
        } finally {
            left.countDown();
        }
    }

    private void serve() throws NativeException {
        int idleTurns = 0;
        while (retired < depth) {
            ring.submitAndWait(1, stopping ? 100_000_000L : -1);
            ring.reap(this::completion);
            Entry e;
            while ((e = done.poll()) != null) {
                e.submitCommit();
            }
            if (stopping && ++idleTurns > 50) {
                LOG.warn("FUSE io_uring queue {}: {} entries never came back at shutdown; leaving", qid, depth - retired);
                return;
            }
        }
    }

    private void completion(long userData, int res, int flags) {
        if (userData == WAKE) {
            wake.rearm(ring);
        } else {
            completion(userData, res);
        }
    }

    @Override
    void deliver(Entry e) {
        deviceQueue.execute(e::dispatch);
    }

    @Override
    void answered(Entry e) {
        done.offer(e);
        wake.wake();
    }

    @Override
    void tearDown() {
        super.tearDown();
        if (wake != null) {
            wake.close();
        }
    }
}
