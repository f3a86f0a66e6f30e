package io.jmpio.bridge.ublk;

import static io.jmpio.bridge.ublk.UblkLayout.*;
import static io.jmpio.nativeio.IoUringLayout.*;

import io.jmpio.nativeio.IoUring;
import io.jmpio.nativeio.Native;
import io.jmpio.nativeio.NativeException;
import java.io.IOException;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * The ublk control plane: {@code /dev/ublk-control} and a 128-byte-SQE io_uring, one command at a time,
 * each with a timeout and an error that says what to do. Uses the ioctl-encoded command numbers and falls
 * back to the legacy ones on kernels that predate them (before 6.4).
 */
final class UblkControl implements AutoCloseable {
    private static final Runtime RT = Runtime.getSystemRuntime();

    private final int fd;
    private final IoUring ring;
    private final long timeoutNanos;
    private boolean legacyOpcodes;
    private long sequence;

    private UblkControl(int fd, IoUring ring, long timeoutNanos) {
        this.fd = fd;
        this.ring = ring;
        this.timeoutNanos = timeoutNanos;
    }

    static UblkControl open(String path, long timeoutMillis) throws IOException {
        int fd;
        try {
            fd = Native.open(path, Native.O_RDWR, 0);
        } catch (NativeException e) {
            throw new IOException(openError(path, e.errno()), e);
        }
        try {
            return new UblkControl(fd, IoUring.create(4, SETUP_SQE128), timeoutMillis * 1_000_000L);
        } catch (NativeException e) {
            Native.close(fd);
            throw new IOException("cannot create the control io_uring (IORING_SETUP_SQE128 needs kernel 5.19+): "
                + e.getMessage(), e);
        }
    }

    static String openError(String path, int errno) {
        if (errno == Native.ENOENT) {
            return "no " + path + ": load ublk_drv (modprobe ublk_drv; kernel >= 6.0 built with CONFIG_BLK_DEV_UBLK)";
        }
        if (errno == Native.EACCES || errno == Native.EPERM) {
            return path + ": permission denied: ublk needs root (CAP_SYS_ADMIN)";
        }
        return "cannot open " + path + ": " + Native.strerror(errno) + " (errno " + errno + ")";
    }

    /** The kernel's UBLK_F_* features, or -1 when it lacks GET_FEATURES (before 6.5). */
    long features() throws IOException {
        Pointer buf = Memory.allocateDirect(RT, 8, true);
        int r = command(CMD_GET_FEATURES, 0, buf.address(), 8, 0, false);
        if (r < 0) {
            if (r == -Native.EINVAL || r == -Native.ENOTSUP || r == -Native.ENOSYS) {
                return -1;
            }
            throw failure("GET_FEATURES", -1, r, 0);
        }
        return buf.getLong(0);
    }

    /** Uses the legacy command numbers from now on (kernels before 6.4). */
    void useLegacyOpcodes() {
        legacyOpcodes = true;
    }

    boolean legacyOpcodes() {
        return legacyOpcodes;
    }

    /** ADD_DEV: returns the dev_info the kernel wrote back (dev_id, negotiated flags). */
    Pointer addDevice(int devId, int queues, int depth, int maxIoBytes, long flags) throws IOException {
        Pointer info = Memory.allocateDirect(RT, DEV_INFO_SIZE, true);
        info.putShort(DI_NR_HW_QUEUES, (short) queues);
        info.putShort(DI_QUEUE_DEPTH, (short) depth);
        info.putInt(DI_MAX_IO_BUF_BYTES, maxIoBytes);
        info.putInt(DI_DEV_ID, devId);
        info.putLong(DI_FLAGS, flags);
        int r = command(CMD_ADD_DEV, devId, info.address(), DEV_INFO_SIZE, 0, true);
        if (r < 0) {
            throw failure("ADD_DEV", devId, r, flags);
        }
        return info;
    }

    Pointer deviceInfo(int devId) throws IOException {
        Pointer info = Memory.allocateDirect(RT, DEV_INFO_SIZE, true);
        int r = command(CMD_GET_DEV_INFO, devId, info.address(), DEV_INFO_SIZE, 0, true);
        if (r < 0) {
            throw failure("GET_DEV_INFO", devId, r, 0);
        }
        return info;
    }

    void setParams(int devId, Pointer params, int length) throws IOException {
        check("SET_PARAMS", devId, command(CMD_SET_PARAMS, devId, params.address(), length, 0, true));
    }

    Pointer params(int devId) throws IOException {
        Pointer p = Memory.allocateDirect(RT, PARAMS_DEVT_LEN, true);
        p.putInt(PR_LEN, PARAMS_DEVT_LEN);
        check("GET_PARAMS", devId, command(CMD_GET_PARAMS, devId, p.address(), PARAMS_DEVT_LEN, 0, true));
        return p;
    }

    void start(int devId, long pid) throws IOException {
        check("START_DEV", devId, command(CMD_START_DEV, devId, 0, 0, pid, true));
    }

    void stop(int devId) throws IOException {
        check("STOP_DEV", devId, command(CMD_STOP_DEV, devId, 0, 0, 0, true));
    }

    /**
     * Deletes the device. DEL_DEV_ASYNC (ublk_drv 6.9+, ioctl-encoded only) returns once the device is gone
     * from view, without waiting for the last process that has it open to close it: a detach must not hang on
     * someone else's open file. Older kernels refuse it, and get DEL_DEV, which waits.
     */
    void delete(int devId) throws IOException {
        if (!legacyOpcodes) {
            int r = command(CMD_DEL_DEV_ASYNC, devId, 0, 0, 0, false);
            if (r != -Native.EINVAL && r != -Native.ENOTSUP) {
                check("DEL_DEV_ASYNC", devId, r);
                return;
            }
        }
        check("DEL_DEV", devId, command(CMD_DEL_DEV, devId, 0, 0, 0, true));
    }

    void startRecovery(int devId) throws IOException {
        check("START_USER_RECOVERY", devId, command(CMD_START_USER_RECOVERY, devId, 0, 0, 0, true));
    }

    void endRecovery(int devId, long pid) throws IOException {
        check("END_USER_RECOVERY", devId, command(CMD_END_USER_RECOVERY, devId, 0, 0, pid, true));
    }

    private void check(String name, int devId, int r) throws IOException {
        if (r < 0) {
            throw failure(name, devId, r, 0);
        }
    }

    static IOException failure(String name, int devId, int r, long flags) {
        int errno = -r;
        String dev = devId >= 0 ? " (device " + devId + ")" : "";
        String why;
        if (errno == Native.EPERM || errno == Native.EACCES) {
            why = "permission denied: ublk needs root (CAP_SYS_ADMIN)";
        } else if (errno == Native.EINVAL && flags != 0) {
            why = "the kernel refused the request (EINVAL); flags asked for: " + flagNames(flags)
                + " - an older ublk_drv may not know some of them";
        } else if (errno == Native.ENOTSUP) {
            why = "not supported by this kernel's ublk_drv (EOPNOTSUPP)";
        } else if (errno == Native.ETIME) {
            why = "no answer from the kernel in time";
        } else if (errno == Native.ENODEV || errno == Native.ENOENT) {
            why = "no such ublk device";
        } else if (errno == Native.EBUSY) {
            why = "device busy (EBUSY)";
        } else {
            why = Native.strerror(errno) + " (errno " + errno + ")";
        }
        return new IOException("ublk " + name + dev + ": " + why);
    }

    /**
     * Sends one control command and waits for its answer: the CQE result (negative errno on failure;
     * -ETIME when none came within the timeout). With {@code retryLegacy}, an EINVAL/EOPNOTSUPP for the
     * ioctl-encoded number is retried once with the legacy number, which is then used from then on.
     */
    int command(int op, int devId, long addr, int len, long data, boolean retryLegacy) throws IOException {
        int r = submit(legacyOpcodes ? op & 0xff : op, devId, addr, len, data);
        if (retryLegacy && !legacyOpcodes && (r == -Native.EINVAL || r == -Native.ENOTSUP)) {
            int legacy = submit(op & 0xff, devId, addr, len, data);
            if (legacy != -Native.EINVAL && legacy != -Native.ENOTSUP) {
                legacyOpcodes = true;
                return legacy;
            }
        }
        return r;
    }

    private synchronized int submit(int op, int devId, long addr, int len, long data) throws IOException {
        long sqe = ring.nextSqe();
        if (sqe == 0) {
            throw new IOException("ublk control ring full: a previous command is still outstanding");
        }
        long userData = ++sequence;
        Pointer p = ring.sqe();
        long s = sqe - ring.sqeBase();
        p.putByte(s + SQE_OPCODE, (byte) OP_URING_CMD);
        p.putInt(s + SQE_FD, fd);
        p.putInt(s + SQE_CMD_OP, op);
        p.putLong(s + SQE_USER_DATA, userData);
        p.putInt(s + SQE_CMD + CC_DEV_ID, devId);
        p.putShort(s + SQE_CMD + CC_QUEUE_ID, (short) -1);
        p.putShort(s + SQE_CMD + CC_LEN, (short) len);
        p.putLong(s + SQE_CMD + CC_ADDR, addr);
        p.putLong(s + SQE_CMD + CC_DATA, data);
        long deadline = System.nanoTime() + timeoutNanos;
        int[] result = {Integer.MIN_VALUE};
        ring.submit();
        while (result[0] == Integer.MIN_VALUE) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return -Native.ETIME;
            }
            ring.submitAndWait(1, left);
            ring.reap((u, res, f) -> {
                if (u == userData) {
                    result[0] = res;
                }
            });
        }
        return result[0];
    }

    @Override
    public void close() {
        ring.close();
        Native.close(fd);
    }
}
