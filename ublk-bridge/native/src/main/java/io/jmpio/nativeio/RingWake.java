package io.jmpio.nativeio;

import static io.jmpio.nativeio.IoUringLayout.OP_READ;
import static io.jmpio.nativeio.IoUringLayout.SQE_ADDR;
import static io.jmpio.nativeio.IoUringLayout.SQE_FD;
import static io.jmpio.nativeio.IoUringLayout.SQE_LEN;
import static io.jmpio.nativeio.IoUringLayout.SQE_OPCODE;
import static io.jmpio.nativeio.IoUringLayout.SQE_USER_DATA;
import static io.jmpio.nativeio.IoUringLayout.SYS_EVENTFD2;

import java.util.concurrent.atomic.AtomicBoolean;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * Wakes a thread blocked in {@code io_uring_enter} from other threads: an eventfd whose 8-byte read sits in the
 * ring. Other threads post their work to a queue of their own and call {@link #wake()}; the ring thread sees the
 * read complete (its {@code userData}), calls {@link #rearm} and drains the queue. Wake-ups between a wake and
 * the rearm collapse into one.
 */
public final class RingWake implements AutoCloseable {
    private final int efd;
    private final long userData;
    private final AtomicBoolean pending = new AtomicBoolean();
    private final Pointer readBuffer = Memory.allocateDirect(Runtime.getSystemRuntime(), 8, true);
    private final Pointer one = Memory.allocateDirect(Runtime.getSystemRuntime(), 8, true);
    private volatile boolean closed;

    private RingWake(int efd, long userData) {
        this.efd = efd;
        this.userData = userData;
        one.putLong(0, 1);
    }

    /** An eventfd for a ring whose completions with {@code userData} are this wake-up. */
    public static RingWake create(long userData) throws NativeException {
        long e = Native.syscallOrErrno(SYS_EVENTFD2, 0, Native.O_CLOEXEC, 0, 0, 0, 0);
        if (e < 0) {
            throw new NativeException("eventfd2", (int) -e, Native.strerror((int) -e));
        }
        return new RingWake((int) e, userData);
    }

    public long userData() {
        return userData;
    }

    /** Queues the eventfd read in {@code ring} (ring thread only; submitted with the ring's next submit). */
    public void rearm(IoUring ring) {
        pending.set(false);
        long sqe = ring.nextSqe();
        Pointer p = ring.sqe();
        long s = sqe - ring.sqeBase();
        p.putByte(s + SQE_OPCODE, (byte) OP_READ);
        p.putInt(s + SQE_FD, efd);
        p.putLong(s + SQE_ADDR, readBuffer.address());
        p.putInt(s + SQE_LEN, 8);
        p.putLong(s + SQE_USER_DATA, userData);
    }

    /** Any thread: makes the ring thread's wait return (once, until it rearms). */
    public void wake() {
        if (!closed && pending.compareAndSet(false, true)) {
            Native.writeOrErrno(efd, one.address(), 8);
        }
    }

    /** Any thread, at stop: wakes the ring thread even if a wake-up is already pending. */
    public void wakeAlways() {
        if (!closed) {
            Native.writeOrErrno(efd, one.address(), 8);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Native.close(efd);
        }
    }
}
