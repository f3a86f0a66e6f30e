package io.jmpio.bridge.fuse;

import static io.jmpio.bridge.fuse.FuseLayout.*;

import io.jmpio.api.BlockDevice;
import io.jmpio.api.DeviceInfo;
import io.jmpio.api.KernelBridge;
import io.jmpio.nativeio.Native;
import io.jmpio.nativeio.NativeException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The FUSE bridge's mount: one file system holding one file, the device, mounted on {@code /dev/fuse} with a
 * reader per cloned fd ({@link DevFuse}) and, where the kernel offers it, io_uring queues ({@link FuseRings});
 * its lifecycle (mount, INIT, loop device, shutdown). Every request read is answered: on shutdown, requests the
 * device has not answered in time get EIO, so no writer is left hanging.
 */
final class FuseSession implements KernelBridge {
    private static final Logger LOG = LoggerFactory.getLogger(FuseSession.class);
    static final int MAX_WRITE = 1 << 20;
    private static final long MS_NOSUID = 2;
    private static final long MS_NODEV = 4;
    private static final int MNT_DETACH = 2;

    private final DeviceInfo info;
    private final Path mountPoint;
    private final boolean createdMountPoint;
    private final Path file;
    private final int masterFd;
    private final List<Integer> fds = new ArrayList<>();
    private final List<Thread> workers = new ArrayList<>();
    private final FuseBlockIo io;
    private final FuseRequests requests;
    private final FuseInit init;
    private final FuseRings rings = new FuseRings();
    private final long shutdownGraceMillis;
    private volatile boolean closing;
    private volatile boolean mounted;
    private volatile long connectionId = -1;
    private LoopDevice loop;
    private final Map<String, Object> details = new LinkedHashMap<>();

    private FuseSession(BlockDevice device, Path mountPoint, boolean created, int masterFd, long shutdownGraceMillis,
                        String uringMode, int ringDepth) {
        this.info = device.info();
        this.mountPoint = mountPoint;
        this.createdMountPoint = created;
        this.file = mountPoint.resolve(info.name());
        this.masterFd = masterFd;
        this.shutdownGraceMillis = shutdownGraceMillis;
        this.io = new FuseBlockIo(device, MAX_WRITE);
        this.requests = new FuseRequests(info, io);
        this.init = new FuseInit(device, rings, requests, uringMode, ringDepth, MAX_WRITE, masterFd, details);
    }

    /**
     * Mounts, starts {@code threads} workers, waits for INIT (where FUSE over io_uring is chosen or not), and
     * attaches a loop device when asked.
     */
    static FuseSession start(BlockDevice device, Path mountPoint, int threads, boolean loop, long shutdownGraceMillis,
                             String uringMode, int ringDepth) throws IOException {
        boolean created = false;
        if (!Files.exists(mountPoint)) {
            Files.createDirectories(mountPoint);
            created = true;
        } else if (!Files.isDirectory(mountPoint)) {
            throw new IOException("fuse mount point " + mountPoint + " is not a directory");
        }
        int fd = Native.open("/dev/fuse", Native.O_RDWR, 0);
        FuseSession s = new FuseSession(device, mountPoint.toAbsolutePath(), created, fd, shutdownGraceMillis, uringMode,
            ringDepth);
        try {
            s.mountAndServe(threads);
            if (loop) {
                s.loop = LoopDevice.attach(s.file);
                s.details.put("loop", s.loop.path());
            }
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    private void mountAndServe(int threads) throws IOException {
        String options = "fd=" + masterFd + ",rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions";
        try {
            Native.mount("jmpio", mountPoint.toString(), "fuse.jmpio", MS_NOSUID | MS_NODEV, options);
        } catch (NativeException e) {
            throw new IOException(e.getMessage() + (e.errno() == Native.EPERM ? " (needs root or CAP_SYS_ADMIN)" : ""), e);
        }
        mounted = true;
        fds.add(masterFd);
        for (int i = 1; i < threads; i++) {
            int clone = Native.open("/dev/fuse", Native.O_RDWR, 0);
            fds.add(clone);
            ByteBuf arg = PooledByteBufAllocator.DEFAULT.directBuffer(4);
            try {
                arg.setIntLE(0, masterFd);
                Native.ioctl(clone, DEV_IOC_CLONE, arg.memoryAddress(), "FUSE_DEV_IOC_CLONE");
            } finally {
                arg.release();
            }
        }
        for (int i = 0; i < fds.size(); i++) {
            DevFuse reader = new DevFuse(fds.get(i), MAX_WRITE);
            Thread t = new Thread(() -> reader.serve(init, requests, () -> closing, mountPoint), "jmpio-fuse-" + i);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
        // The kernel sends INIT on the first access; stat the root to trigger it now.
        Thread stat = new Thread(() -> mountPoint.toFile().isDirectory(), "jmpio-fuse-init");
        stat.setDaemon(true);
        stat.start();
        init.await(mountPoint);
        try {
            long dev = ((Number) Files.getAttribute(mountPoint, "unix:dev")).longValue();
            connectionId = (dev & 0xff) | ((dev >> 12) & 0xfff00);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("no device number for {}: {}", mountPoint, e.toString());
        }
        details.put("file", file.toString());
        details.put("mount", mountPoint.toString());
        details.put("threads", fds.size());
        LOG.info("FUSE: {} serves {} ({} bytes) with {} threads", mountPoint, info.name(), info.sizeBytes(), fds.size());
    }

    /** What answers this mount's requests, whichever transport brings them (the request fuzz test feeds it directly). */
    FuseRequests requests() {
        return requests;
    }

    // ------------------------------------------------------------------------------------------------
    // Shutdown

    @Override
    public String location() {
        return loop != null ? loop.path() : file.toString();
    }

    @Override
    public Map<String, Object> details() {
        return details;
    }

    @Override
    public String busy() {
        String dev = loop != null ? loop.path() : null;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 1 && dev != null && f[0].equals(dev)) {
                    return dev + " is mounted on " + f[1];
                }
            }
        } catch (IOException e) {
            LOG.debug("cannot read /proc/self/mounts: {}", e.toString());
        }
        return null;
    }

    /** Detaches the loop device, unmounts, answers what is still outstanding, and stops the workers. */
    @Override
    public synchronized void close() {
        if (closing) {
            return;
        }
        closing = true;
        if (loop != null) {
            loop.detach();
        }
        if (mounted) {
            unmount();
        }
        io.answerUnfinished(shutdownGraceMillis);
        abortConnection();
        rings.stop();
        for (Thread t : workers) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                LOG.warn("FUSE: worker {} still blocked after abort", t.getName());
            }
        }
        for (int i = 0; i < fds.size(); i++) {
            // A worker still in read() keeps its fd; closing it under the reader would let the number be reused.
            if (i >= workers.size() || !workers.get(i).isAlive()) {
                Native.close(fds.get(i));
            }
        }
        if (fds.isEmpty()) {
            Native.close(masterFd);
        }
        if (createdMountPoint) {
            try {
                Files.deleteIfExists(mountPoint);
            } catch (IOException e) {
                LOG.warn("cannot remove mount point {}: {}", mountPoint, e.toString());
            }
        }
    }

    private void unmount() {
        for (int attempt = 0; attempt < 20; attempt++) {
            int r = Native.umount2OrErrno(mountPoint.toString(), 0);
            if (r == 0 || r == -Native.EINVAL || r == -Native.ENOENT) {
                mounted = false;
                return;
            }
            if (r != -Native.EBUSY) {
                LOG.warn("FUSE: umount {}: {}", mountPoint, Native.strerror(-r));
                break;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        int r = Native.umount2OrErrno(mountPoint.toString(), MNT_DETACH);
        LOG.warn("FUSE: {} busy; detached lazily{}", mountPoint, r == 0 ? "" : " failed: " + Native.strerror(-r));
        mounted = false;
    }

    /** Ends the connection so blocked readers return, even when a lazy unmount left it referenced. */
    private void abortConnection() {
        if (connectionId < 0) {
            return;
        }
        Path connections = Path.of("/sys/fs/fuse/connections");
        Path abort = connections.resolve(Long.toString(connectionId)).resolve("abort");
        try {
            if (!Files.exists(abort) && Files.isDirectory(connections)) {
                // fusectl is usually mounted by systemd; where it is not, mount it (it is harmless and shared).
                Native.mount("fusectl", connections.toString(), "fusectl", 0, null);
            }
            if (Files.exists(abort)) {
                Files.writeString(abort, "1");
            }
        } catch (IOException e) {
            LOG.debug("cannot abort FUSE connection {}: {}", connectionId, e.toString());
        }
    }
}
