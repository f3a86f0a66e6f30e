package io.jmpio.nativeio;

import io.jmpio.core.KernelBridgeConformance.BlockTarget;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A block device driven as the kernel's users drive one, for the kernel-bridge conformance suite: O_DIRECT reads
 * and writes of 512-byte sectors, O_DSYNC for FUA, fsync for flush, BLKDISCARD and BLKZEROOUT. Every bridge that
 * ends in a block device (FUSE's loop device, ublk's /dev/ublkbN) is checked through this one.
 */
public final class BlockDeviceTarget implements BlockTarget {
    /** _IO(0x12, 119) and _IO(0x12, 127): a byte range as two u64, start and length. */
    private static final long BLKDISCARD = 0x1277;
    private static final long BLKZEROOUT = 0x127f;

    private final int fd;
    private final int fuaFd;
    private final FileChannel ch;

    private BlockDeviceTarget(int fd, int fuaFd, FileChannel ch) {
        this.fd = fd;
        this.fuaFd = fuaFd;
        this.ch = ch;
    }

    public static BlockDeviceTarget open(Path dev) throws IOException {
        // O_DIRECT through libc: the device's 512-byte sectors (FileChannel's DIRECT insists on 4 KiB here)
        int fd = Native.open(dev.toString(), Native.O_RDWR | Native.O_DIRECT, 0);
        int fuaFd = Native.open(dev.toString(), Native.O_RDWR | Native.O_DIRECT | Native.O_DSYNC, 0);
        return new BlockDeviceTarget(fd, fuaFd, FileChannel.open(dev, StandardOpenOption.READ));
    }

    private static ByteBuffer aligned(int length) {
        int pages = (length + 4095) / 4096 * 4096;
        return ByteBuffer.allocateDirect(pages + 4096).alignedSlice(4096);
    }

    @Override
    public void write(long offset, byte[] data, boolean fua) throws IOException {
        ByteBuffer b = aligned(data.length);
        b.put(data);
        long n = Native.pwrite(fua ? fuaFd : fd, PlatformDependent.directBufferAddress(b), data.length, offset);
        if (n != data.length) {
            throw new IOException("short write at " + offset + ": " + n);
        }
    }

    @Override
    public byte[] read(long offset, int length) throws IOException {
        ByteBuffer b = aligned(length);
        long n = Native.pread(fd, PlatformDependent.directBufferAddress(b), length, offset);
        if (n != length) {
            throw new IOException("short read at " + offset + ": " + n);
        }
        byte[] out = new byte[length];
        b.get(0, out);
        return out;
    }

    @Override
    public void flush() throws IOException {
        ch.force(true);
    }

    private void range(long request, long offset, long length, String what) throws IOException {
        ByteBuffer arg = ByteBuffer.allocateDirect(16).order(ByteOrder.LITTLE_ENDIAN);
        arg.putLong(0, offset).putLong(8, length);
        Native.ioctl(fd, request, PlatformDependent.directBufferAddress(arg), what + " " + offset + "+" + length);
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        range(BLKDISCARD, offset, length, "BLKDISCARD");
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        range(BLKZEROOUT, offset, length, "BLKZEROOUT");
    }

    @Override
    public void close() throws IOException {
        try {
            ch.close();
        } finally {
            Native.close(fd);
            Native.close(fuaFd);
        }
    }
}
