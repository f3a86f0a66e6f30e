package io.jmpio.bridge.fuse;

import static io.jmpio.bridge.fuse.FuseLayout.*;
import static io.jmpio.nativeio.IoUringLayout.OP_URING_CMD;
import static io.jmpio.nativeio.IoUringLayout.SETUP_SQE128;
import static io.jmpio.nativeio.IoUringLayout.SQE_ADDR;
import static io.jmpio.nativeio.IoUringLayout.SQE_CMD;
import static io.jmpio.nativeio.IoUringLayout.SQE_CMD_OP;
import static io.jmpio.nativeio.IoUringLayout.SQE_FD;
import static io.jmpio.nativeio.IoUringLayout.SQE_LEN;
import static io.jmpio.nativeio.IoUringLayout.SQE_OPCODE;
import static io.jmpio.nativeio.IoUringLayout.SQE_USER_DATA;

import io.jmpio.nativeio.IoUring;
import io.jmpio.nativeio.Native;
import io.jmpio.nativeio.NativeException;
import io.jmpio.nativeio.RingWake;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import jnr.ffi.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One FUSE io_uring queue (qid): a platform thread that owns an SQE128 ring and {@code depth} entries, each a
 * header and a payload buffer registered with the kernel once. A request arrives as the completion of an entry's
 * parked command; it is handed to the block device queue this qid feeds, and its answer, written into the entry's
 * buffers from whatever thread completes it, goes back with COMMIT_AND_FETCH from this thread, which parks the
 * entry again. The kernel copies requests in from task work of the thread that submitted the parked command, so
 * every submission stays on this one thread.
 */
final class FuseRingQueue implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(FuseRingQueue.class);
    private static final long WAKE = 1L << 40;

    private final FuseSession session;
    private final int qid;
    private final int depth;
    private final int payloadSize;
    private final int fuseFd;
    private final Executor deviceQueue;
    private final CountDownLatch prepared;
    private final CountDownLatch go = new CountDownLatch(1);
    private final ConcurrentLinkedQueue<Entry> done = new ConcurrentLinkedQueue<>();
    private volatile boolean abandon;
    private volatile boolean stopping;
    private volatile String failure;
    private IoUring ring;
    private RingWake wake;
    private Entry[] entries;
    private int retired;
    private long requests;

    FuseRingQueue(FuseSession session, int qid, int depth, int payloadSize, int fuseFd, Executor deviceQueue,
                  CountDownLatch prepared) {
        this.session = session;
        this.qid = qid;
        this.depth = depth;
        this.payloadSize = payloadSize;
        this.fuseFd = fuseFd;
        this.deviceQueue = deviceQueue;
        this.prepared = prepared;
    }

    /** Why the queue could not be prepared, or null. */
    String failure() {
        return failure;
    }

    /** INIT was answered with io_uring on: register the entries. */
    void register() {
        go.countDown();
    }

    /** INIT was answered without io_uring (another queue failed): free everything, register nothing. */
    void abandon() {
        abandon = true;
        go.countDown();
    }

    /** The mount is going away: the kernel ends the parked commands; leave once they have all come back. */
    void stopping() {
        stopping = true;
        RingWake w = wake;
        if (w != null) {
            w.wakeAlways();
        }
    }

    long requests() {
        return requests;
    }

    @Override
    public void run() {
        try {
            setUp();
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
    }

    private void setUp() throws NativeException {
        // every entry's command, plus the wake-up read, fit at once
        ring = IoUring.create(Integer.highestOneBit(depth + 1) << 1, SETUP_SQE128);
        wake = RingWake.create(WAKE);
        entries = new Entry[depth];
        for (int i = 0; i < depth; i++) {
            entries[i] = new Entry(i);
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
            return;
        }
        Entry e = entries[(int) userData];
        if (res == 0) {
            requests++;
            e.handle();
        } else if (res == -Native.EAGAIN || res == -Native.EINTR) {
            // INIT not processed yet (or interrupted): ask again
            e.submitRegister();
        } else {
            if (res != -107 /* ENOTCONN */ && res != -Native.ECANCELED && !stopping) {
                LOG.error("FUSE io_uring queue {} entry {}: {} ({}); the kernel serves on /dev/fuse from here", qid,
                    e.index, Native.strerror(-res), res);
            }
            e.retire();
        }
    }

    private long nextSqe() {
        long sqe = ring.nextSqe();
        if (sqe == 0) {
            try {
                ring.submit();
            } catch (NativeException ex) {
                throw new IllegalStateException(ex);
            }
            sqe = ring.nextSqe();
        }
        return sqe - ring.sqeBase();
    }

    private void tearDown() {
        if (ring != null) {
            ring.close();
        }
        if (wake != null) {
            wake.close();
        }
        if (entries != null) {
            for (Entry e : entries) {
                if (e != null) {
                    e.free();
                }
            }
        }
    }

    /** One registered entry: its buffers, and the answer to the request it holds. */
    private final class Entry implements FuseResponder {
        final int index;
        final ByteBuf header = PooledByteBufAllocator.DEFAULT.directBuffer(URING_HEADER_SIZE, URING_HEADER_SIZE);
        final ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(payloadSize, payloadSize);
        final ByteBuf iov = PooledByteBufAllocator.DEFAULT.directBuffer(32, 32);
        /** fuse_in_header then the first argument, as a request read from /dev/fuse lays them out. */
        final ByteBuf args = PooledByteBufAllocator.DEFAULT.directBuffer(IN_HEADER + URING_OP_IN_SIZE);
        long commitId;
        boolean live = true;

        Entry(int index) {
            this.index = index;
            header.setZero(0, URING_HEADER_SIZE);
            iov.setLongLE(0, header.memoryAddress()).setLongLE(8, URING_HEADER_SIZE)
                .setLongLE(16, payload.memoryAddress()).setLongLE(24, payloadSize);
        }

        void submitRegister() {
            command(URING_CMD_REGISTER, iov.memoryAddress(), 2, 0);
        }

        void submitCommit() {
            if (live) {
                command(URING_CMD_COMMIT_AND_FETCH, 0, 0, commitId);
            }
        }

        private void command(int op, long addr, int len, long commit) {
            long s = nextSqe();
            Pointer p = ring.sqe();
            p.putByte(s + SQE_OPCODE, (byte) OP_URING_CMD);
            p.putInt(s + SQE_FD, fuseFd);
            p.putInt(s + SQE_CMD_OP, op);
            p.putLong(s + SQE_ADDR, addr);
            p.putInt(s + SQE_LEN, len);
            p.putLong(s + SQE_USER_DATA, index);
            p.putLong(s + SQE_CMD + URING_CMD_FLAGS, 0);
            p.putLong(s + SQE_CMD + URING_CMD_COMMIT, commit);
            p.putShort(s + SQE_CMD + URING_CMD_QID, (short) qid);
        }

        /** Ring thread: the request now in this entry goes to the device queue's thread. */
        void handle() {
            commitId = header.getLongLE(URING_COMMIT_ID);
            int payloadBytes = Math.min(header.getIntLE(URING_PAYLOAD_SZ), payloadSize);
            args.setBytes(0, header, 0, IN_HEADER);
            args.setBytes(IN_HEADER, header, URING_OP_IN, URING_OP_IN_SIZE);
            args.setIndex(0, IN_HEADER + URING_OP_IN_SIZE);
            payload.setIndex(0, payloadBytes);
            deviceQueue.execute(this::dispatch);
        }

        private void dispatch() {
            session.dispatchRing(this, args, payload);
        }

        private void answer(int error, long unique, int bytes) {
            header.setIntLE(0, OUT_HEADER + bytes).setIntLE(4, error).setLongLE(8, unique);
            header.setIntLE(URING_PAYLOAD_SZ, bytes);
            done.offer(this);
            wake.wake();
        }

        @Override
        public void reply(long unique, ByteBuf out) {
            try {
                int bytes = out.writerIndex() - OUT_HEADER;
                payload.setBytes(0, out, OUT_HEADER, bytes);
                answer(0, unique, bytes);
            } finally {
                out.release();
            }
        }

        @Override
        public void replyError(long unique, int errno) {
            answer(-errno, unique, 0);
        }

        @Override
        public void replyData(long unique, ByteBuf data, int index, int length) {
            payload.setBytes(0, data, index, length);
            answer(0, unique, length);
        }

        @Override
        public ByteBuf writeData(ByteBuf request, int size) {
            // the entry is not committed before the device answers: its buffer is the write's, uncopied
            return payload.retainedSlice(0, size);
        }

        void retire() {
            if (live) {
                live = false;
                retired++;
            }
        }

        void free() {
            header.release();
            payload.release();
            iov.release();
            args.release();
        }
    }
}
