package io.jmpio.bridge.fuse;

import static io.jmpio.nativeio.IoUringLayout.SETUP_COOP_TASKRUN;

import io.jmpio.nativeio.IoUring;
import io.jmpio.nativeio.Native;
import io.jmpio.nativeio.NativeException;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoOps;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A FUSE io_uring queue served by the io_uring event loop of the device queue it feeds, with no thread of its
 * own: the loop's ring polls this queue's ring (a multishot POLL_ADD on its fd), the loop reaps each request and
 * hands it to the device on the spot, and the answers, which come back on the same loop, are submitted as
 * COMMIT_AND_FETCH once per loop round. A request thus costs no thread hand-off and no wake-up of another thread
 * either way (the thread-per-queue design paid an eventfd write and two context switches per batch).
 */
final class FuseLoopQueue extends FuseRingQueue implements IoUringIoHandle {
    private static final Logger LOG = LoggerFactory.getLogger(FuseLoopQueue.class);
    /** io_uring opcodes, flags and poll bits (include/uapi/linux/io_uring.h, poll.h). */
    private static final byte OP_POLL_ADD = 6;
    private static final byte OP_ASYNC_CANCEL = 14;
    private static final int POLL_ADD_MULTI = 1;
    private static final int POLLIN = 0x1;
    private static final int CQE_F_MORE = 1 << 1;
    private static final short POLL = 1;
    private static final short CANCEL = 2;

    private final IoEventLoop loop;
    private final CountDownLatch left = new CountDownLatch(1);
    private final Runnable submitAnswers = this::submitAnswers;
    private final IoUring.CompletionHandler reaped = (userData, res, flags) -> completion(userData, res);
    private volatile String failure;
    private IoRegistration registration;
    private long pollId;
    private boolean polling;
    private boolean answersPending;
    private boolean finished;
    private boolean released;

    FuseLoopQueue(FuseRequests fuseRequests, int qid, int depth, int payloadSize, int fuseFd, IoEventLoop loop) {
        super(fuseRequests, qid, depth, payloadSize, fuseFd);
        this.loop = loop;
    }

    /** The device queue's executor, when it is an event loop this queue can live on; else null. */
    static IoEventLoop usableLoop(Executor deviceQueue) {
        if (deviceQueue instanceof IoEventLoop && ((IoEventLoop) deviceQueue).isCompatible(FuseLoopQueue.class)) {
            return (IoEventLoop) deviceQueue;
        }
        return null;
    }

    /** Makes the ring and registers this queue with the loop; false (with {@link #failure}) when either fails. */
    boolean prepare() {
        try {
            // The kernel delivers each request by task work on this loop's thread; without COOP_TASKRUN it
            // interrupts the thread with an IPI when it is running (a VM exit under a hypervisor), with it the work
            // runs at the thread's next kernel entry, which a busy loop makes every round (or a timer tick) and a
            // sleeping one is woken for. +8% reads at QD32 on this 2-core guest (same-run A/B).
            setUp(0, SETUP_COOP_TASKRUN);
            registration = loop.register(this).syncUninterruptibly().getNow();
            return true;
        } catch (NativeException | RuntimeException e) {
            failure = "queue " + qid + ": " + e.getMessage();
            finished = true;
            release();
            return false;
        }
    }

    @Override
    String failure() {
        return failure;
    }

    @Override
    void register() {
        onLoop(() -> {
            armPoll();
            for (Entry e : entries) {
                e.submitRegister();
            }
            submitAnswers();
        });
    }

    @Override
    void abandon() {
        onLoop(this::finish);
    }

    @Override
    void stopping() {
        stopping = true;
        onLoop(() -> {
            if (retired == depth) {
                finish();
            }
        });
    }

    /** Runs {@code task} on the loop; a loop already shut down has closed this queue ({@link #close}) itself. */
    private void onLoop(Runnable task) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            LOG.debug("FUSE io_uring queue {}: its event loop is shut down", qid);
        }
    }

    /** The loop's ring watches this queue's ring: a completion for each time requests arrive in it. */
    private void armPoll() {
        polling = true;
        pollId = registration.submit(new IoUringIoOps(OP_POLL_ADD, (byte) 0, (short) 0, ring.fd(), 0L, 0L,
            POLL_ADD_MULTI, POLLIN, POLL, (short) 0, (short) 0, 0, 0L));
    }

    @Override
    void awaitStopped(long millis) throws InterruptedException {
        if (!left.await(millis, TimeUnit.MILLISECONDS)) {
            LOG.warn("FUSE io_uring queue {}: {} entries never came back at shutdown; closing its ring", qid,
                depth - retired);
            onLoop(this::finish);
        }
    }

    @Override
    public void handle(IoRegistration r, IoEvent event) {
        IoUringIoEvent e = (IoUringIoEvent) event;
        if (e.data() != POLL) {
            return; // the cancel of the poll: its end comes as the poll's last completion
        }
        if ((e.flags() & CQE_F_MORE) == 0) {
            polling = false;
        }
        if (finished) {
            if (!polling) {
                release();
            }
            return;
        }
        if (e.res() < 0) {
            // the loop cannot watch this ring (it would only fail again): end its entries rather than leave the
            // kernel queueing requests nobody reaps
            LOG.error("FUSE io_uring queue {}: the event loop cannot poll its ring: {} ({}); closing the queue", qid,
                Native.strerror(-e.res()), e.res());
            finish();
            return;
        }
        ring.reap(reaped);
        if (answersPending) {
            submitAnswers();
        }
        if (retired == depth) {
            finish();
        } else if (!polling) {
            // a multishot poll can end (CQ overflow, a failed re-arm): ask again, or requests would wait forever
            armPoll();
        }
    }

    @Override
    void deliver(Entry e) {
        e.dispatch();
    }

    @Override
    void answered(Entry e) {
        if (loop.inEventLoop()) {
            if (tornDown) {
                return;
            }
            e.submitCommit();
            if (!answersPending) {
                answersPending = true;
                loop.execute(submitAnswers);
            }
        } else {
            onLoop(() -> answered(e));
        }
    }

    /** The COMMIT_AND_FETCHes of this round (and the first REGISTERs) go to the kernel in one enter. */
    private void submitAnswers() {
        answersPending = false;
        if (finished) {
            return;
        }
        try {
            ring.submit();
        } catch (NativeException e) {
            LOG.error("FUSE io_uring queue {}: cannot submit to its ring: {}; the kernel serves on /dev/fuse from here",
                qid, e.getMessage());
            finish();
        }
    }

    /** Leaves: the poll is cancelled, then the ring (which ends any entry still parked) and the buffers go. */
    private void finish() {
        if (finished) {
            return;
        }
        finished = true;
        if (polling && registration != null && registration.isValid()) {
            registration.submit(new IoUringIoOps(OP_ASYNC_CANCEL, (byte) 0, (short) 0, -1, 0L, pollId, 0, 0, CANCEL,
                (short) 0, (short) 0, 0, 0L));
        } else {
            polling = false;
            release();
        }
    }

    private void release() {
        if (released) {
            return;
        }
        released = true;
        if (registration != null) {
            registration.cancel();
        }
        tearDown();
        left.countDown();
    }

    @Override
    public void close() {
        // the event loop is shutting down (the device is closed): nothing will poll the ring any more
        finished = true;
        polling = false;
        release();
    }
}
