package io.jmpio.bridge.ublk;

import static io.jmpio.bridge.ublk.UblkLayout.*;

import io.jmpio.api.BlockDevice;
import io.jmpio.api.DeviceInfo;
import io.jmpio.api.KernelBridge;
import io.jmpio.nativeio.Native;
import io.jmpio.nativeio.NativeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /dev/ublkbN} served by this process: ADD_DEV, SET_PARAMS, one {@link UblkQueue} per hardware
 * queue, START_DEV; or, with a device id to recover, START_USER_RECOVERY, the queues, END_USER_RECOVERY.
 * Closing stops and deletes the device (the kernel aborts the queues' fetches and the threads end).
 */
final class UblkBridge implements KernelBridge {
    private static final Logger LOG = LoggerFactory.getLogger(UblkBridge.class);
    /** How long /dev/ublkcN may take to appear (devtmpfs, then udev's permissions) after ADD_DEV. */
    private static final long CDEV_APPEAR_LIMIT_MILLIS = 30_000;
    /** Every so often while the queues start, a line says how far they got. */
    private static final long QUEUE_START_REPORT_SECONDS = 10;
    /** The queues' set-up (ring, descriptor mmap, buffers, first fetches) has hung when it takes this long. */
    private static final long QUEUE_START_LIMIT_SECONDS = 120;

    private final UblkControl control;
    private final int devId;
    private final long flags;
    private final List<UblkQueue> queues = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final Map<String, Object> details = new LinkedHashMap<>();
    private int cdevFd = -1;
    private boolean closed;
    private boolean started;

    private UblkBridge(UblkControl control, int devId, long flags) {
        this.control = control;
        this.devId = devId;
        this.flags = flags;
    }

    record Settings(int queues, int depth, boolean recovery, int recoverId, long controlTimeoutMillis) {
    }

    static UblkBridge start(BlockDevice device, Settings s) throws IOException {
        UblkControl control = UblkControl.open(CONTROL_PATH, s.controlTimeoutMillis());
        try {
            long features = control.features();
            if (features < 0) {
                control.useLegacyOpcodes();
            }
            if (s.recoverId() >= 0) {
                return recover(control, device, s, features);
            }
            DeviceInfo info = device.info();
            long wanted = F_USER_COPY | F_CMD_IOCTL_ENCODE;
            if (s.recovery()) {
                wanted |= F_USER_RECOVERY | F_USER_RECOVERY_FAIL_IO;
            }
            long flags = features < 0 ? wanted & F_USER_RECOVERY : wanted & features;
            if (s.recovery() && (flags & F_USER_RECOVERY_FAIL_IO) == 0 && features >= 0
                && (features & F_USER_RECOVERY_REISSUE) != 0) {
                flags |= F_USER_RECOVERY_REISSUE;
            }
            int maxIo = Math.min(info.maxTransferBytes(), 1 << 20);
            Pointer di = control.addDevice(-1, s.queues(), s.depth(), maxIo, flags);
            int devId = di.getInt(DI_DEV_ID);
            long granted = di.getLong(DI_FLAGS);
            UblkBridge b = new UblkBridge(control, devId, granted);
            try {
                b.setParams(info, di.getInt(DI_MAX_IO_BUF_BYTES));
                b.startQueues(device, di.getShort(DI_NR_HW_QUEUES), di.getShort(DI_QUEUE_DEPTH) & 0xffff,
                    di.getInt(DI_MAX_IO_BUF_BYTES));
                control.start(devId, ProcessHandle.current().pid());
                b.started = true;
            } catch (IOException | RuntimeException e) {
                b.close();
                throw e;
            }
            b.describe(features);
            LOG.info("ublk: /dev/ublkb{} serves {} ({} bytes), {} queues x {}, flags {}", devId, info.name(),
                info.sizeBytes(), s.queues(), s.depth(), flagNames(granted));
            return b;
        } catch (IOException | RuntimeException e) {
            control.close();
            throw e;
        }
    }

    private static UblkBridge recover(UblkControl control, BlockDevice device, Settings s, long features) throws IOException {
        int id = s.recoverId();
        Pointer di = control.deviceInfo(id);
        int state = di.getShort(DI_STATE) & 0xffff;
        long flags = di.getLong(DI_FLAGS);
        if ((flags & F_USER_RECOVERY) == 0) {
            throw new IOException("ublk device " + id + " was created without USER_RECOVERY: it cannot be recovered");
        }
        if (state == S_DEV_LIVE) {
            throw new IOException("ublk device " + id + " is live, served by pid " + di.getInt(DI_SRV_PID)
                + ": stop that process first (recovery takes over a device whose server died)");
        }
        if (state != S_DEV_QUIESCED && state != S_DEV_FAIL_IO) {
            throw new IOException("ublk device " + id + " is " + stateName(state) + ": nothing to recover");
        }
        Pointer params = control.params(id);
        long sectors = params.getLong(PB_DEV_SECTORS);
        if (sectors << 9 != device.info().sizeBytes()) {
            throw new IOException("ublk device " + id + " has " + (sectors << 9) + " bytes but the LUN has "
                + device.info().sizeBytes() + ": not the same device");
        }
        UblkBridge b = new UblkBridge(control, id, flags);
        try {
            control.startRecovery(id);
            b.startQueues(device, di.getShort(DI_NR_HW_QUEUES), di.getShort(DI_QUEUE_DEPTH) & 0xffff,
                di.getInt(DI_MAX_IO_BUF_BYTES));
            control.endRecovery(id, ProcessHandle.current().pid());
            b.started = true;
        } catch (IOException | RuntimeException e) {
            b.stopQueuesOnly();
            control.close();
            throw e;
        }
        b.describe(features);
        b.details.put("recovered", true);
        LOG.info("ublk: recovered /dev/ublkb{} ({} was {})", id, flagNames(flags), stateName(state));
        return b;
    }

    private void describe(long features) {
        details.put("ublk", "/dev/ublkb" + devId);
        details.put("devId", devId);
        details.put("flags", flagNames(flags));
        details.put("kernelFeatures", features < 0 ? "unknown (no GET_FEATURES)" : flagNames(features));
        details.put("queues", queues.size());
    }

    private void setParams(DeviceInfo info, int maxIoBytes) throws IOException {
        boolean discard = info.discard() || info.writeZeroes();
        int len = discard ? PARAMS_DISCARD_LEN : PARAMS_BASIC_LEN;
        Pointer p = Memory.allocateDirect(Runtime.getSystemRuntime(), PARAMS_DEVT_LEN, true);
        p.putInt(PR_LEN, len);
        p.putInt(PR_TYPES, PARAM_TYPE_BASIC | (discard ? PARAM_TYPE_DISCARD : 0));
        int attrs = (info.volatileWriteCache() ? ATTR_VOLATILE_CACHE : 0) | (info.fua() ? ATTR_FUA : 0);
        p.putInt(PB_ATTRS, attrs);
        p.putByte(PB_LOGICAL_BS_SHIFT, (byte) Integer.numberOfTrailingZeros(info.logicalBlockSize()));
        p.putByte(PB_PHYSICAL_BS_SHIFT, (byte) Integer.numberOfTrailingZeros(Math.max(info.logicalBlockSize(), info.physicalBlockSize())));
        p.putByte(PB_IO_MIN_SHIFT, (byte) Integer.numberOfTrailingZeros(info.logicalBlockSize()));
        p.putByte(PB_IO_OPT_SHIFT, (byte) Integer.numberOfTrailingZeros(Math.max(info.logicalBlockSize(), info.physicalBlockSize())));
        p.putInt(PB_MAX_SECTORS, maxIoBytes >> 9);
        p.putLong(PB_DEV_SECTORS, info.sizeBytes() >> 9);
        if (discard) {
            int sectors = Math.max(1, info.maxTransferBytes() >> 9);
            p.putInt(PD_GRANULARITY, Math.max(info.logicalBlockSize(), info.physicalBlockSize()));
            p.putInt(PD_MAX_DISCARD_SECTORS, info.discard() ? sectors : 0);
            p.putInt(PD_MAX_WRITE_ZEROES_SECTORS, info.writeZeroes() ? sectors : 0);
            p.putShort(PD_MAX_DISCARD_SEGMENTS, (short) 1);
        }
        control.setParams(devId, p, len);
    }

    private void startQueues(BlockDevice device, int nrQueues, int depth, int maxIoBytes) throws IOException {
        String cdev = "/dev/ublkc" + devId;
        long deadline = System.currentTimeMillis() + CDEV_APPEAR_LIMIT_MILLIS;
        while (true) {
            try {
                cdevFd = Native.open(cdev, Native.O_RDWR, 0);
                break;
            } catch (NativeException e) {
                // devtmpfs creates the node right after ADD_DEV; udev may still be fixing permissions.
                if (System.currentTimeMillis() > deadline || e.errno() != Native.ENOENT && e.errno() != Native.EBUSY) {
                    throw new IOException("cannot open " + cdev + ": " + e.getMessage()
                        + (e.errno() == Native.EBUSY ? " (another server still has it open)" : ""), e);
                }
                sleep(20);
            }
        }
        boolean userCopy = (flags & F_USER_COPY) != 0;
        boolean ioctl = (flags & F_CMD_IOCTL_ENCODE) != 0;
        CountDownLatch fetched = new CountDownLatch(nrQueues);
        for (int q = 0; q < nrQueues; q++) {
            UblkQueue uq = new UblkQueue(q, depth, cdevFd, device, userCopy, ioctl, maxIoBytes, fetched);
            Thread t = new Thread(uq, "jmpio-ublk" + devId + "-q" + q);
            t.setDaemon(true);
            queues.add(uq);
            threads.add(t);
            t.start();
        }
        try {
            // Each queue counts down once set up or failed, so the wait ends by itself; a slow machine (a busy
            // host, a TCG guest with a cold JIT) only makes it longer. Say so while waiting, give up only when a
            // queue has plainly hung.
            long waitedSeconds = 0;
            while (!fetched.await(QUEUE_START_REPORT_SECONDS, TimeUnit.SECONDS)) {
                waitedSeconds += QUEUE_START_REPORT_SECONDS;
                if (waitedSeconds >= QUEUE_START_LIMIT_SECONDS) {
                    throw new IOException("ublk queues: " + (nrQueues - fetched.getCount()) + " of " + nrQueues
                        + " had their fetches in after " + waitedSeconds + " s; giving up");
                }
                LOG.info("ublk queues: {} of {} have their fetches in after {} s; still waiting (up to {} s)",
                    nrQueues - fetched.getCount(), nrQueues, waitedSeconds, QUEUE_START_LIMIT_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted starting ublk queues", e);
        }
        for (UblkQueue uq : queues) {
            if (uq.failure() != null) {
                throw new IOException(uq.failure());
            }
        }
    }

    @Override
    public String location() {
        return "/dev/ublkb" + devId;
    }

    @Override
    public Map<String, Object> details() {
        return details;
    }

    int devId() {
        return devId;
    }

    @Override
    public String busy() {
        String at = mountOf(location());
        return at == null ? null : location() + " is mounted on " + at;
    }

    static String mountOf(String dev) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 1 && f[0].equals(dev)) {
                    return f[1];
                }
            }
        } catch (IOException e) {
            LOG.debug("cannot read /proc/self/mounts: {}", e.toString());
        }
        return null;
    }

    /** STOP_DEV, the queues end, DEL_DEV. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (UblkQueue q : queues) {
            q.stopping();
        }
        try {
            control.stop(devId);
        } catch (IOException e) {
            LOG.warn("{}", e.getMessage());
        }
        joinQueues();
        if (cdevFd >= 0) {
            Native.close(cdevFd);
            cdevFd = -1;
        }
        try {
            control.delete(devId);
        } catch (IOException e) {
            LOG.warn("{}", e.getMessage());
        }
        control.close();
        LOG.info("ublk: /dev/ublkb{} stopped and deleted", devId);
    }

    /** For a failed recovery: leave the device as it was (recoverable), only stop what we started. */
    private void stopQueuesOnly() {
        closed = true;
        for (UblkQueue q : queues) {
            q.stopping();
        }
        joinQueues();
        if (cdevFd >= 0) {
            Native.close(cdevFd);
            cdevFd = -1;
        }
    }

    private void joinQueues() {
        for (Thread t : threads) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                LOG.warn("ublk: {} did not end", t.getName());
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
