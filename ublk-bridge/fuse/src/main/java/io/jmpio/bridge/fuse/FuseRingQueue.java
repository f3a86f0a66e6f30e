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
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import jnr.ffi.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One FUSE io_uring queue (qid): an SQE128 ring and {@code depth} entries, each a header and a payload buffer
 * registered with the kernel once. A request arrives as the completion of an entry's parked command and goes to
 * the block device queue this qid feeds; its answer is written into the entry's buffers and goes back with
 * COMMIT_AND_FETCH, which parks the entry again. The kernel copies the next request in from task work of the
 * thread that submitted the parked command, so every submission to the ring is made by one thread: which thread
 * that is, and how requests and answers reach it, is the subclass's ({@link FuseRingThread}: a thread of its own;
 * {@link FuseLoopQueue}: the device queue's own event loop).
 */
abstract class FuseRingQueue {
    private static final Logger LOG = LoggerFactory.getLogger(FuseRingQueue.class);

    final FuseRequests fuseRequests;
    final int qid;
    final int depth;
    private final int payloadSize;
    private final int fuseFd;
    volatile boolean stopping;
    /** The ring and buffers are gone: a late answer (the kernel already ended its request) is dropped. */
    volatile boolean tornDown;
    IoUring ring;
    Entry[] entries;
    int retired;
    private long requests;

    FuseRingQueue(FuseRequests fuseRequests, int qid, int depth, int payloadSize, int fuseFd) {
        this.fuseRequests = fuseRequests;
        this.qid = qid;
        this.depth = depth;
        this.payloadSize = payloadSize;
        this.fuseFd = fuseFd;
    }

    /** Makes the ring and the entries' buffers (nothing is registered with the kernel yet). */
    void setUp(int extraSqes, int setupFlags) throws NativeException {
        ring = IoUring.create(Integer.highestOneBit(depth + extraSqes) << 1, SETUP_SQE128 | setupFlags);
        entries = new Entry[depth];
        for (int i = 0; i < depth; i++) {
            entries[i] = new Entry(i);
        }
    }

    /** Why the queue could not be prepared, or null (after {@link FuseRings#prepare} saw it ready). */
    abstract String failure();

    /** INIT was answered with io_uring on: register the entries. */
    abstract void register();

    /** INIT was answered without io_uring (another queue failed): free everything, register nothing. */
    abstract void abandon();

    /** The mount is going away: the kernel ends the parked commands; leave once they have all come back. */
    abstract void stopping();

    /** Waits up to {@code millis} for the queue to have left. */
    abstract void awaitStopped(long millis) throws InterruptedException;

    long requests() {
        return requests;
    }

    /** A request is in {@code e}'s buffers (on the submitting thread): hand it to the device. */
    abstract void deliver(Entry e);

    /** {@code e} holds its answer (any thread): its COMMIT_AND_FETCH goes to the ring from the submitting thread. */
    abstract void answered(Entry e);

    /** One completion of this ring that is not the subclass's own (submitting thread). */
    final void completion(long userData, int res) {
        Entry e = entries[(int) userData];
        if (res == 0) {
            requests++;
            e.take();
            deliver(e);
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

    void tearDown() {
        if (tornDown) {
            return;
        }
        tornDown = true;
        if (ring != null) {
            ring.close();
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
    final class Entry implements FuseResponder {
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

        /** The request now in this entry's header: its commit id, and its header and first argument in {@link #args}. */
        private void take() {
            commitId = header.getLongLE(URING_COMMIT_ID);
            int payloadBytes = Math.min(header.getIntLE(URING_PAYLOAD_SZ), payloadSize);
            args.setBytes(0, header, 0, IN_HEADER);
            args.setBytes(IN_HEADER, header, URING_OP_IN, URING_OP_IN_SIZE);
            args.setIndex(0, IN_HEADER + URING_OP_IN_SIZE);
            payload.setIndex(0, payloadBytes);
        }

        /** Hands the request in this entry on (on the device queue's thread). */
        void dispatch() {
            fuseRequests.dispatchRing(this, args, payload);
        }

        private void answer(int error, long unique, int bytes) {
            if (tornDown) {
                return;
            }
            header.setIntLE(0, OUT_HEADER + bytes).setIntLE(4, error).setLongLE(8, unique);
            header.setIntLE(URING_PAYLOAD_SZ, bytes);
            answered(this);
        }

        @Override
        public void reply(long unique, ByteBuf out) {
            try {
                if (tornDown) {
                    return;
                }
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
            if (tornDown) {
                return;
            }
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
