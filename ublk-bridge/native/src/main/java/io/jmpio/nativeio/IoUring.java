package io.jmpio.nativeio;

import static io.jmpio.nativeio.IoUringLayout.*;

import java.lang.invoke.VarHandle;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * One io_uring on raw system calls: setup, the three mmaps, SQE preparation and submission, CQE reaping.
 * Single-threaded by design: one thread owns a ring (prepares, submits and reaps); other threads hand it
 * work through their own queues. Head and tail shared with the kernel are read with acquire and written
 * with release ordering (fences around plain accesses to the mapped memory).
 */
public final class IoUring implements AutoCloseable {
    private static final Runtime RT = Runtime.getSystemRuntime();

    private final int fd;
    private final int sqeSize;
    private final int sqEntries;
    private final int cqEntries;
    private final long sqRing;
    private final long sqRingSize;
    private final long cqRing;
    private final long cqRingSize;
    private final boolean singleMmap;
    private final long sqes;
    private final Pointer sq;
    private final Pointer cq;
    private final Pointer sqe;
    private final int sqHead;
    private final int sqTail;
    private final int sqMask;
    private final int sqArray;
    private final int cqHead;
    private final int cqTail;
    private final int cqMask;
    private final int cqCqes;
    private final boolean extArg;
    private final Pointer waitArg;
    /** SQEs prepared and not yet handed to the kernel (the local tail runs ahead of the shared one). */
    private int localTail;
    private boolean closed;

    private IoUring(int fd, Pointer params, int sqeSize) throws NativeException {
        this.fd = fd;
        this.sqeSize = sqeSize;
        this.sqEntries = params.getInt(P_SQ_ENTRIES);
        this.cqEntries = params.getInt(P_CQ_ENTRIES);
        int features = params.getInt(P_FEATURES);
        this.singleMmap = (features & FEAT_SINGLE_MMAP) != 0;
        this.extArg = (features & FEAT_EXT_ARG) != 0;
        this.sqHead = params.getInt(P_SQ_OFF + SQ_HEAD);
        this.sqTail = params.getInt(P_SQ_OFF + SQ_TAIL);
        this.sqArray = params.getInt(P_SQ_OFF + SQ_ARRAY);
        this.cqHead = params.getInt(P_CQ_OFF + CQ_HEAD);
        this.cqTail = params.getInt(P_CQ_OFF + CQ_TAIL);
        this.cqCqes = params.getInt(P_CQ_OFF + CQ_CQES);
        long sqSize = sqArray + 4L * sqEntries;
        long cqSize = cqCqes + (long) CQE_SIZE * cqEntries;
        int prot = 3; // PROT_READ | PROT_WRITE
        int flags = 0x8001; // MAP_SHARED | MAP_POPULATE
        if (singleMmap) {
            long size = Math.max(sqSize, cqSize);
            this.sqRing = Native.mmap(size, prot, flags, fd, OFF_SQ_RING, "io_uring rings");
            this.sqRingSize = size;
            this.cqRing = sqRing;
            this.cqRingSize = 0;
        } else {
            this.sqRing = Native.mmap(sqSize, prot, flags, fd, OFF_SQ_RING, "io_uring SQ ring");
            this.sqRingSize = sqSize;
            this.cqRing = Native.mmap(cqSize, prot, flags, fd, OFF_CQ_RING, "io_uring CQ ring");
            this.cqRingSize = cqSize;
        }
        this.sqes = Native.mmap((long) sqeSize * sqEntries, prot, flags, fd, OFF_SQES, "io_uring SQEs");
        this.sq = Pointer.wrap(RT, sqRing);
        this.cq = Pointer.wrap(RT, cqRing);
        this.sqe = Pointer.wrap(RT, sqes);
        this.sqMask = sq.getInt(params.getInt(P_SQ_OFF + SQ_RING_MASK));
        this.cqMask = cq.getInt(params.getInt(P_CQ_OFF + CQ_RING_MASK));
        this.localTail = sq.getInt(sqTail);
        // The SQ array is an indirection we do not use: slot i always holds SQE i.
        for (int i = 0; i < sqEntries; i++) {
            sq.putInt(sqArray + 4L * i, i);
        }
        this.waitArg = Memory.allocateDirect(RT, GETEVENTS_ARG_SIZE + 16, true);
    }

    /** A ring of {@code entries} SQEs (rounded up to a power of two by the kernel); {@code flags}: IORING_SETUP_*. */
    public static IoUring create(int entries, int flags) throws NativeException {
        Pointer p2 = Memory.allocateDirect(RT, PARAMS_SIZE, true);
        p2.putInt(P_FLAGS, flags);
        long fd = Native.syscallOrErrno(SYS_IO_URING_SETUP, entries, p2.address(), 0, 0, 0, 0);
        if (fd < 0) {
            int errno = (int) -fd;
            throw new NativeException("io_uring_setup(" + entries + ", flags 0x" + Integer.toHexString(flags) + ")",
                errno, Native.strerror(errno));
        }
        try {
            return new IoUring((int) fd, p2, (flags & SETUP_SQE128) != 0 ? SQE128_SIZE : SQE_SIZE);
        } catch (NativeException | RuntimeException e) {
            Native.close((int) fd);
            throw e;
        }
    }

    public int fd() {
        return fd;
    }

    public int sqEntries() {
        return sqEntries;
    }

    public int sqeSize() {
        return sqeSize;
    }

    /** SQEs that can still be prepared before a submit. */
    public int sqSpace() {
        VarHandle.acquireFence();
        int head = sq.getInt(sqHead);
        return sqEntries - (localTail - head);
    }

    /**
     * The next free SQE, zeroed, as an address, or 0 when the SQ is full. Fill it (through {@link #sqe()}
     * or any direct-memory access) and call {@link #submit} or {@link #submitAndWait}.
     */
    public long nextSqe() {
        if (sqSpace() <= 0) {
            return 0;
        }
        long offset = (long) (localTail & sqMask) * sqeSize;
        sqe.setMemory(offset, sqeSize, (byte) 0);
        localTail++;
        return sqes + offset;
    }

    /** A pointer over the whole SQE array, for filling SQEs by address ({@code address - sqeBase()}). */
    public Pointer sqe() {
        return sqe;
    }

    public long sqeBase() {
        return sqes;
    }

    /** Publishes prepared SQEs and submits them; returns how many the kernel took. */
    public int submit() throws NativeException {
        return enter(0, 0, -1);
    }

    /** Submits, then waits for at least {@code minComplete} CQEs or the timeout (negative: forever). */
    public int submitAndWait(int minComplete, long timeoutNanos) throws NativeException {
        return enter(minComplete, ENTER_GETEVENTS, timeoutNanos);
    }

    private int enter(int minComplete, int flags, long timeoutNanos) throws NativeException {
        VarHandle.releaseFence();
        int published = sq.getInt(sqTail);
        sq.putInt(sqTail, localTail);
        VarHandle.fullFence();
        int toSubmit = localTail - published;
        long argp = 0;
        long argsz = 0;
        if (timeoutNanos >= 0 && (flags & ENTER_GETEVENTS) != 0) {
            if (!extArg) {
                throw new NativeException("io_uring_enter with a timeout", Native.ENOTSUP, "kernel lacks IORING_FEAT_EXT_ARG (5.11+)");
            }
            long ts = waitArg.address() + GETEVENTS_ARG_SIZE;
            waitArg.putLong(GETEVENTS_ARG_SIZE, timeoutNanos / 1_000_000_000L);
            waitArg.putLong(GETEVENTS_ARG_SIZE + 8, timeoutNanos % 1_000_000_000L);
            waitArg.putLong(0, 0);
            waitArg.putInt(8, 0);
            waitArg.putInt(12, 0);
            waitArg.putLong(GETEVENTS_ARG_TS, ts);
            argp = waitArg.address();
            argsz = GETEVENTS_ARG_SIZE;
            flags |= ENTER_EXT_ARG;
        }
        while (true) {
            long r = Native.syscallOrErrno(SYS_IO_URING_ENTER, fd, toSubmit, minComplete, flags, argp, argsz);
            if (r >= 0) {
                return (int) r;
            }
            int errno = (int) -r;
            if (errno == Native.EINTR) {
                continue;
            }
            if (errno == Native.ETIME || errno == Native.EAGAIN && minComplete > 0) {
                return 0;
            }
            throw new NativeException("io_uring_enter", errno, Native.strerror(errno));
        }
    }

    /** Completions ready now, each handed to {@code handler}; returns how many. */
    public int reap(CompletionHandler handler) {
        VarHandle.acquireFence();
        int head = cq.getInt(cqHead);
        int tail = cq.getInt(cqTail);
        VarHandle.acquireFence();
        int n = 0;
        while (head != tail) {
            long at = cqCqes + (long) (head & cqMask) * CQE_SIZE;
            long userData = cq.getLong(at + CQE_USER_DATA);
            int res = cq.getInt(at + CQE_RES);
            int cflags = cq.getInt(at + CQE_FLAGS);
            head++;
            VarHandle.releaseFence();
            cq.putInt(cqHead, head);
            handler.completed(userData, res, cflags);
            n++;
            VarHandle.acquireFence();
            tail = cq.getInt(cqTail);
        }
        return n;
    }

    /** One CQE: the SQE's user data, the result (negative errno on failure) and CQE flags. */
    @FunctionalInterface
    public interface CompletionHandler {
        void completed(long userData, int res, int flags);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Native.munmap(sqes, (long) sqeSize * sqEntries);
        Native.munmap(sqRing, sqRingSize);
        if (!singleMmap) {
            Native.munmap(cqRing, cqRingSize);
        }
        Native.close(fd);
    }
}
