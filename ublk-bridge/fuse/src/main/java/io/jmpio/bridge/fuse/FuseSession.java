package io.jmpio.bridge.fuse;

import static io.jmpio.bridge.fuse.FuseLayout.*;

import io.jmpio.api.BlockDevice;
import io.jmpio.api.BlockIoException;
import io.jmpio.api.DeviceInfo;
import io.jmpio.api.IoCallback;
import io.jmpio.api.KernelBridge;
import io.jmpio.nativeio.Native;
import io.jmpio.nativeio.NativeException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One FUSE file system holding one file, the device, served straight from {@code /dev/fuse}: a thread per
 * cloned device fd reads requests and hands I/O to the block device without waiting, so many requests are
 * in flight; completions write their replies from the device's threads. Every request read is answered:
 * on shutdown, requests the device has not answered in time get EIO, so no writer is left hanging.
 */
final class FuseSession implements KernelBridge {
    private static final Logger LOG = LoggerFactory.getLogger(FuseSession.class);
    static final int MAX_WRITE = 1 << 20;
    private static final int READ_BUFFER = MAX_WRITE + 64 * 1024;
    private static final long MS_NOSUID = 2;
    private static final long MS_NODEV = 4;
    private static final int MNT_DETACH = 2;
    private static final long ATTR_VALID_SECONDS = 1;

    private final BlockDevice device;
    private final DeviceInfo info;
    private final Path mountPoint;
    private final boolean createdMountPoint;
    private final String fileName;
    private final Path file;
    private final int masterFd;
    private final List<Integer> fds = new ArrayList<>();
    private final List<Thread> workers = new ArrayList<>();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final CountDownLatch initialized = new CountDownLatch(1);
    private final long shutdownGraceMillis;
    private volatile String initError;
    private volatile boolean closing;
    private volatile boolean mounted;
    private volatile long connectionId = -1;
    private LoopDevice loop;
    private final Map<String, Object> details = new LinkedHashMap<>();
    /** "auto": FUSE over io_uring when the kernel offers it; "off": /dev/fuse reads only. */
    private final String uringMode;
    private final int ringDepth;
    private final FuseRings rings = new FuseRings();

    /** A request handed to the device, not yet answered: where its answer goes. */
    private record Pending(FuseResponder responder, int opcode) {
    }

    private FuseSession(BlockDevice device, Path mountPoint, boolean created, int masterFd, long shutdownGraceMillis,
                        String uringMode, int ringDepth) {
        this.uringMode = uringMode;
        this.ringDepth = ringDepth;
        this.device = device;
        this.info = device.info();
        this.mountPoint = mountPoint;
        this.createdMountPoint = created;
        this.fileName = info.name();
        this.file = mountPoint.resolve(fileName);
        this.masterFd = masterFd;
        this.shutdownGraceMillis = shutdownGraceMillis;
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
            int f = fds.get(i);
            Thread t = new Thread(() -> serve(f), "jmpio-fuse-" + i);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
        try {
            // The kernel sends INIT on the first access; stat the root to trigger it now.
            Thread stat = new Thread(() -> mountPoint.toFile().isDirectory(), "jmpio-fuse-init");
            stat.setDaemon(true);
            stat.start();
            if (!initialized.await(10, TimeUnit.SECONDS)) {
                throw new IOException("FUSE INIT did not arrive within 10 s after mounting " + mountPoint);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for FUSE INIT", e);
        }
        if (initError != null) {
            throw new IOException(initError);
        }
        try {
            long dev = ((Number) Files.getAttribute(mountPoint, "unix:dev")).longValue();
            connectionId = (dev & 0xff) | ((dev >> 12) & 0xfff00);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("no device number for {}: {}", mountPoint, e.toString());
        }
        details.put("file", file.toString());
        details.put("mount", mountPoint.toString());
        details.put("threads", fds.size());
        LOG.info("FUSE: {} serves {} ({} bytes) with {} threads", mountPoint, fileName, info.sizeBytes(), fds.size());
    }

    // ------------------------------------------------------------------------------------------------
    // Serving

    private void serve(int fd) {
        DevFuse r = new DevFuse(fd);
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(READ_BUFFER, READ_BUFFER);
        long address = buf.memoryAddress();
        try {
            while (true) {
                long n = Native.readOrErrno(fd, address, READ_BUFFER);
                if (n < 0) {
                    int errno = (int) -n;
                    if (errno == Native.ENOENT || errno == Native.EINTR || errno == Native.EAGAIN) {
                        continue;
                    }
                    if (errno != Native.ENODEV) {
                        LOG.error("FUSE: read from /dev/fuse failed: {} (errno {})", Native.strerror(errno), errno);
                    } else if (!closing) {
                        LOG.warn("FUSE: {} was unmounted or aborted from outside", mountPoint);
                    }
                    return;
                }
                buf.setIndex(0, (int) n);
                long unique = buf.getLongLE(IN_UNIQUE);
                int opcode = buf.getIntLE(IN_OPCODE);
                if (opcode == INIT) {
                    init(r, buf, unique);
                    continue;
                }
                int at = opcode == WRITE ? IN_HEADER + RW_IN : IN_HEADER;
                dispatchSafely(r, buf, buf.slice(at, Math.max(0, (int) n - at)), opcode, unique);
            }
        } finally {
            buf.release();
            if (initialized.getCount() > 0) {
                initError = "FUSE connection ended before INIT";
                initialized.countDown();
            }
        }
    }

    /** A request that came on an io_uring entry: its header and first argument in {@code args}, the rest in {@code payload}. */
    void dispatchRing(FuseResponder r, ByteBuf args, ByteBuf payload) {
        dispatchSafely(r, args, payload, args.getIntLE(IN_OPCODE), args.getLongLE(IN_UNIQUE));
    }

    private void dispatchSafely(FuseResponder r, ByteBuf in, ByteBuf payload, int opcode, long unique) {
        try {
            dispatch(r, in, payload, opcode, unique, in.getLongLE(IN_NODEID));
        } catch (RuntimeException e) {
            LOG.error("FUSE: opcode {} failed", opcode, e);
            if (pending.remove(unique) != null || opcode != FORGET && opcode != BATCH_FORGET && opcode != INTERRUPT) {
                r.replyError(unique, EIO);
            }
        }
    }

    /**
     * One request: {@code in} holds fuse_in_header and the opcode's first argument (at IN_HEADER), {@code payload}
     * what follows it (a LOOKUP name, WRITE data).
     */
    private void dispatch(FuseResponder r, ByteBuf in, ByteBuf payload, int opcode, long unique, long node) {
        switch (opcode) {
            case LOOKUP: {
                String name = cString(payload, 0);
                if (node == ROOT_ID && name.equals(fileName)) {
                    ByteBuf out = out(ENTRY_OUT);
                    out.writeLongLE(FILE_ID).writeLongLE(1).writeLongLE(ATTR_VALID_SECONDS).writeLongLE(ATTR_VALID_SECONDS)
                        .writeIntLE(0).writeIntLE(0);
                    attr(out, FILE_ID);
                    r.reply(unique, out);
                } else {
                    r.replyError(unique, ENOENT);
                }
                return;
            }
            case GETATTR:
            case SETATTR: {
                if (node != ROOT_ID && node != FILE_ID) {
                    r.replyError(unique, ENOENT);
                    return;
                }
                if (opcode == SETATTR && node == FILE_ID && (in.getIntLE(IN_HEADER + SETATTR_VALID) & FATTR_SIZE) != 0
                    && in.getLongLE(IN_HEADER + SETATTR_SIZE) != info.sizeBytes()) {
                    // The file is the device: its size is the LUN's (resize the LUN on the array instead).
                    r.replyError(unique, EPERM);
                    return;
                }
                ByteBuf out = out(ATTR_OUT);
                out.writeLongLE(ATTR_VALID_SECONDS).writeIntLE(0).writeIntLE(0);
                attr(out, node);
                r.reply(unique, out);
                return;
            }
            case OPEN:
            case OPENDIR: {
                if (opcode == OPEN ? node != FILE_ID : node != ROOT_ID) {
                    r.replyError(unique, node == ROOT_ID ? EISDIR : node == FILE_ID ? ENOTDIR : ENOENT);
                    return;
                }
                ByteBuf out = out(OPEN_OUT);
                out.writeLongLE(0).writeIntLE(opcode == OPEN ? FOPEN_DIRECT_IO | FOPEN_PARALLEL_DIRECT_WRITES : 0).writeIntLE(0);
                r.reply(unique, out);
                return;
            }
            case READDIR:
                readdir(r, in, unique);
                return;
            case READ:
                read(r, in, unique);
                return;
            case WRITE:
                write(r, in, payload, unique);
                return;
            case FSYNC:
            case FSYNCDIR:
                if (node == ROOT_ID) {
                    r.reply(unique, out(0));
                    return;
                }
                submit(r, unique, opcode);
                device.flush(new Reply(r, unique, 0, 0, 0));
                return;
            case FLUSH:
            case RELEASE:
            case RELEASEDIR:
            case ACCESS:
                r.reply(unique, out(0));
                return;
            case STATFS: {
                ByteBuf out = out(STATFS_OUT);
                long blocks = info.sizeBytes() / 4096;
                out.writeLongLE(blocks).writeLongLE(0).writeLongLE(0).writeLongLE(2).writeLongLE(0)
                    .writeIntLE(4096).writeIntLE(255).writeIntLE(4096).writeIntLE(0).writeZero(24);
                r.reply(unique, out);
                return;
            }
            case FALLOCATE:
                fallocate(r, in, unique, node);
                return;
            case DESTROY:
                r.reply(unique, out(0));
                return;
            case FORGET:
            case BATCH_FORGET:
            case INTERRUPT:
                // No reply: FORGET never has one, and a request being interrupted is answered when the device answers.
                return;
            default:
                r.replyError(unique, ENOSYS);
        }
    }

    private void init(FuseResponder r, ByteBuf in, long unique) {
        int major = in.getIntLE(IN_HEADER);
        int minor = in.getIntLE(IN_HEADER + 4);
        int readahead = in.getIntLE(IN_HEADER + 8);
        int flags = in.getIntLE(IN_HEADER + 12);
        if (major < KERNEL_MAJOR) {
            initError = "kernel FUSE protocol " + major + "." + minor + " is older than 7.x";
            r.replyError(unique, EPROTO);
            initialized.countDown();
            return;
        }
        if (major > KERNEL_MAJOR) {
            // Answer with our major only; the kernel sends INIT again at that version.
            ByteBuf out = out(8);
            out.writeIntLE(KERNEL_MAJOR).writeIntLE(KERNEL_MINOR);
            r.reply(unique, out);
            return;
        }
        if ((flags & MAX_PAGES) == 0) {
            LOG.warn("FUSE: kernel {}.{} has no max_pages: writes are limited to 128 KiB", major, minor);
        }
        int flags2 = (flags & INIT_EXT) != 0 ? in.getIntLE(IN_HEADER + INIT_FLAGS2) : 0;
        String why = "off".equals(uringMode) ? "io-uring=off"
            : (flags2 & FLAGS2_OVER_IO_URING) == 0 ? FuseRings.notOffered(major, minor)
            : rings.prepare(this, device, ringDepth, MAX_WRITE, masterFd, !"thread".equals(uringMode));
        boolean ring = why == null;
        int answered = Math.min(minor, ring ? URING_MINOR : KERNEL_MINOR);
        ByteBuf out = out(INIT_OUT);
        out.writeIntLE(KERNEL_MAJOR).writeIntLE(answered).writeIntLE(readahead)
            .writeIntLE(flags & WANTED_INIT_FLAGS | (ring ? INIT_EXT : 0)).writeShortLE(256).writeShortLE(192)
            .writeIntLE(MAX_WRITE).writeIntLE(1).writeShortLE(MAX_WRITE / 4096).writeShortLE(0)
            .writeIntLE(ring ? FLAGS2_OVER_IO_URING : 0).writeZero(28);
        r.reply(unique, out);
        rings.start(ring);
        String transport = ring ? "io_uring (" + rings.size() + " queues x " + rings.entriesPerQueue() + " entries, "
            + rings.servedBy() + ")"
            : "/dev/fuse";
        details.put("transport", transport);
        if (why != null) {
            details.put("transportReason", why);
        }
        LOG.info("FUSE transport: {}{}", transport, ring ? "" : " (" + why + ")");
        details.put("protocol", major + "." + answered);
        details.put("maxWrite", (flags & MAX_PAGES) != 0 ? MAX_WRITE : 128 * 1024);
        initialized.countDown();
    }

    private void attr(ByteBuf out, long node) {
        boolean dir = node == ROOT_ID;
        long size = dir ? 0 : info.sizeBytes();
        long now = System.currentTimeMillis() / 1000;
        out.writeLongLE(node).writeLongLE(size).writeLongLE(size / 512).writeLongLE(now).writeLongLE(now).writeLongLE(now)
            .writeIntLE(0).writeIntLE(0).writeIntLE(0).writeIntLE(dir ? S_IFDIR | 0755 : S_IFREG | 0600)
            .writeIntLE(dir ? 2 : 1).writeIntLE(0).writeIntLE(0).writeIntLE(0)
            .writeIntLE(Math.max(4096, info.physicalBlockSize())).writeIntLE(0);
    }

    private void readdir(FuseResponder r, ByteBuf in, long unique) {
        long offset = in.getLongLE(IN_HEADER + RW_OFFSET);
        int size = Math.max(0, in.getIntLE(IN_HEADER + RW_SIZE));
        String[] names = {".", "..", fileName};
        long[] inos = {ROOT_ID, ROOT_ID, FILE_ID};
        int[] types = {DT_DIR, DT_DIR, DT_REG};
        ByteBuf out = out(Math.min(size, 4096));
        for (int i = offset <= 0 ? 0 : (int) Math.min(offset, names.length); i < names.length; i++) {
            byte[] n = names[i].getBytes(StandardCharsets.UTF_8);
            int entry = (DIRENT_HEADER + n.length + 7) & ~7;
            if (out.writerIndex() - OUT_HEADER + entry > size) {
                break;
            }
            out.writeLongLE(inos[i]).writeLongLE(i + 1).writeIntLE(n.length).writeIntLE(types[i]).writeBytes(n)
                .writeZero(entry - DIRENT_HEADER - n.length);
        }
        r.reply(unique, out);
    }

    private void read(FuseResponder r, ByteBuf in, long unique) {
        long offset = in.getLongLE(IN_HEADER + RW_OFFSET);
        long size = in.getIntLE(IN_HEADER + RW_SIZE) & 0xffffffffL;
        if (offset < 0 || size > MAX_WRITE) {
            // the kernel never asks for these (loff_t >= 0, at most max_pages): refused, not computed with
            r.replyError(unique, EINVAL);
            return;
        }
        long end = Math.min(info.sizeBytes(), offset + size);
        if (offset >= info.sizeBytes() || size == 0) {
            r.reply(unique, out(0));
            return;
        }
        // Unaligned reads (cat, dd bs=1) read the covering blocks and answer the part asked for.
        int block = info.logicalBlockSize();
        long alignedStart = offset - offset % block;
        long alignedEnd = (end + block - 1) / block * block;
        submit(r, unique, READ);
        device.read(alignedStart, (int) (alignedEnd - alignedStart),
            new Reply(r, unique, (int) (offset - alignedStart), (int) (end - offset), 0));
    }

    private void write(FuseResponder r, ByteBuf in, ByteBuf payload, long unique) {
        long offset = in.getLongLE(IN_HEADER + RW_OFFSET);
        int size = in.getIntLE(IN_HEADER + RW_SIZE);
        int openFlags = in.getIntLE(IN_HEADER + RW_OPEN_FLAGS);
        int block = info.logicalBlockSize();
        if (offset < 0 || size < 0 || size > MAX_WRITE) {
            r.replyError(unique, EINVAL);
            return;
        }
        if (size > 0 && (offset >= info.sizeBytes() || size > info.sizeBytes() - offset)) {
            r.replyError(unique, offset >= info.sizeBytes() ? EFBIG : ENOSPC);
            return;
        }
        if (offset % block != 0 || size % block != 0) {
            LOG.debug("FUSE: unaligned write at {}+{}", offset, size);
            r.replyError(unique, EINVAL);
            return;
        }
        if (size == 0) {
            ByteBuf out = out(WRITE_OUT);
            out.writeIntLE(0).writeIntLE(0);
            r.reply(unique, out);
            return;
        }
        if (payload.readableBytes() < size) {
            r.replyError(unique, EINVAL);
            return;
        }
        ByteBuf data = r.writeData(payload, size);
        boolean fua = info.fua() && (openFlags & Native.O_DSYNC) != 0;
        submit(r, unique, WRITE);
        device.write(offset, data, fua, new Reply(r, unique, 0, 0, size));
    }

    private void fallocate(FuseResponder r, ByteBuf in, long unique, long node) {
        long offset = in.getLongLE(IN_HEADER + FALLOC_OFFSET);
        long length = in.getLongLE(IN_HEADER + FALLOC_LENGTH);
        int mode = in.getIntLE(IN_HEADER + FALLOC_MODE);
        int block = info.logicalBlockSize();
        if (node != FILE_ID) {
            r.replyError(unique, EBADF);
            return;
        }
        if (offset < 0 || length <= 0 || offset >= info.sizeBytes() || length > info.sizeBytes() - offset) {
            r.replyError(unique, mode == 0 ? EFBIG : EINVAL);
            return;
        }
        if (mode == 0 || mode == FALLOC_FL_KEEP_SIZE) {
            // Every block of the device exists already.
            r.reply(unique, out(0));
            return;
        }
        boolean punch = mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
        boolean zero = mode == FALLOC_FL_ZERO_RANGE || mode == (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
        if (!punch && !zero) {
            r.replyError(unique, EOPNOTSUPP);
            return;
        }
        if (offset % block != 0 || length % block != 0) {
            r.replyError(unique, EINVAL);
            return;
        }
        submit(r, unique, FALLOCATE);
        Reply done = new Reply(r, unique, 0, 0, 0);
        if (punch && info.discard()) {
            // The array's discard reads back as zeroes, which is what a punched hole must do.
            device.discard(offset, length, done);
        } else if (info.writeZeroes()) {
            device.writeZeroes(offset, length, done);
        } else {
            pending.remove(unique);
            r.replyError(unique, EOPNOTSUPP);
        }
    }

    private void submit(FuseResponder r, long unique, int opcode) {
        pending.put(unique, new Pending(r, opcode));
    }

    /** A device completion: answers the kernel from the device's thread, unless shutdown answered first. */
    private final class Reply implements IoCallback {
        private final FuseResponder r;
        private final long unique;
        private final int skip;
        private final int length;
        private final int written;

        Reply(FuseResponder r, long unique, int skip, int length, int written) {
            this.r = r;
            this.unique = unique;
            this.skip = skip;
            this.length = length;
            this.written = written;
        }

        @Override
        public void completed(ByteBuf data) {
            if (pending.remove(unique) == null) {
                if (data != null) {
                    data.release();
                }
                return;
            }
            try {
                if (data != null) {
                    r.replyData(unique, data, data.readerIndex() + skip, length);
                } else if (written > 0) {
                    ByteBuf out = out(WRITE_OUT);
                    out.writeIntLE(written).writeIntLE(0);
                    r.reply(unique, out);
                } else {
                    r.reply(unique, out(0));
                }
            } catch (RuntimeException e) {
                // whatever went wrong here, the kernel is answered: a request left unanswered hangs its caller
                LOG.error("FUSE: answering request {} failed", unique, e);
                r.replyError(unique, EIO);
            } finally {
                if (data != null) {
                    data.release();
                }
            }
        }

        @Override
        public void failed(BlockIoException error) {
            if (pending.remove(unique) == null) {
                return;
            }
            LOG.warn("FUSE: request failed: {}", error.getMessage());
            r.replyError(unique, error.kind().errno(written > 0));
        }
    }


    // ------------------------------------------------------------------------------------------------
    // Replies

    /** A reply buffer with room for the out header, written later by {@link #reply}. */
    private static ByteBuf out(int body) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(OUT_HEADER + body);
        b.writerIndex(OUT_HEADER);
        return b;
    }

    /** Answers on the /dev/fuse fd the request was read from. */
    private static final class DevFuse implements FuseResponder {
        private final int fd;

        DevFuse(int fd) {
            this.fd = fd;
        }

        @Override
        public void reply(long unique, ByteBuf out) {
            FuseSession.reply(fd, unique, out);
        }

        @Override
        public void replyError(long unique, int errno) {
            FuseSession.replyError(fd, unique, errno);
        }

        @Override
        public void replyData(long unique, ByteBuf data, int index, int length) {
            FuseSession.replyData(fd, unique, data, index, length);
        }

        @Override
        public ByteBuf writeData(ByteBuf payload, int size) {
            // the read buffer is reused for the next request at once: the data is copied out
            ByteBuf data = PooledByteBufAllocator.DEFAULT.directBuffer(size, size);
            data.writeBytes(payload, payload.readerIndex(), size);
            return data;
        }
    }

    private static void reply(int fd, long unique, ByteBuf out) {
        ByteBuf b = out != null ? out : out(0);
        try {
            b.setIntLE(0, b.writerIndex()).setIntLE(4, 0).setLongLE(8, unique);
            write(fd, b.memoryAddress(), b.writerIndex());
        } finally {
            b.release();
        }
    }

    private static void replyError(int fd, long unique, int errno) {
        ByteBuf b = out(0);
        try {
            b.setIntLE(0, OUT_HEADER).setIntLE(4, -errno).setLongLE(8, unique);
            write(fd, b.memoryAddress(), OUT_HEADER);
        } finally {
            b.release();
        }
    }

    /** Header and data in one writev, the data not copied when it is direct memory. */
    private static void replyData(int fd, long unique, ByteBuf data, int index, int length) {
        ByteBuf direct = data;
        int at = index;
        if (!data.hasMemoryAddress()) {
            direct = PooledByteBufAllocator.DEFAULT.directBuffer(length);
            direct.writeBytes(data, index, length);
            at = 0;
        }
        ByteBuf hdr = PooledByteBufAllocator.DEFAULT.directBuffer(OUT_HEADER + 32);
        try {
            hdr.setIntLE(0, OUT_HEADER + length).setIntLE(4, 0).setLongLE(8, unique);
            long iov = hdr.memoryAddress() + OUT_HEADER;
            hdr.setLongLE(OUT_HEADER, hdr.memoryAddress()).setLongLE(OUT_HEADER + 8, OUT_HEADER)
                .setLongLE(OUT_HEADER + 16, direct.memoryAddress() + at).setLongLE(OUT_HEADER + 24, length);
            long n = Native.writevOrErrno(fd, iov, 2);
            if (n < 0 && n != -Native.ENOENT) {
                LOG.warn("FUSE: reply to {} failed: {}", unique, Native.strerror((int) -n));
            }
        } finally {
            hdr.release();
            if (direct != data) {
                direct.release();
            }
        }
    }

    private static void write(int fd, long address, int length) {
        long n = Native.writeOrErrno(fd, address, length);
        // ENOENT: the request was interrupted and is gone; ENODEV: the connection was aborted.
        if (n < 0 && n != -Native.ENOENT && n != -Native.ENODEV) {
            LOG.warn("FUSE: reply write failed: {}", Native.strerror((int) -n));
        }
    }

    private static String cString(ByteBuf in, int at) {
        int end = in.indexOf(at, in.writerIndex(), (byte) 0);
        return in.toString(at, (end < 0 ? in.writerIndex() : end) - at, StandardCharsets.UTF_8);
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
        long deadline = System.currentTimeMillis() + shutdownGraceMillis;
        while (!pending.isEmpty() && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Map.Entry<Long, Pending> e : pending.entrySet()) {
            if (pending.remove(e.getKey()) != null) {
                LOG.warn("FUSE: answering unfinished request {} with EIO at shutdown", e.getKey());
                e.getValue().responder().replyError(e.getKey(), EIO);
            }
        }
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
