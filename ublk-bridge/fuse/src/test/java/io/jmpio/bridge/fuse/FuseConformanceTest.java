package io.jmpio.bridge.fuse;

import io.jmpio.api.KernelBridge;
import io.jmpio.core.KernelBridgeConformance;
import io.jmpio.core.MultipathDevice;
import io.jmpio.nativeio.Native;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * The kernel-bridge conformance suite through the FUSE bridge's loop device, driven as a block device is: O_DIRECT
 * reads and writes of 512-byte sectors, O_DSYNC for FUA, fsync for flush, BLKDISCARD and BLKZEROOUT.
 */
class FuseConformanceTest extends KernelBridgeConformance {
    /** _IO(0x12, 119) and _IO(0x12, 127): a byte range as two u64, start and length. */
    private static final long BLKDISCARD = 0x1277;
    private static final long BLKZEROOUT = 0x127f;

    @Override
    protected KernelBridge startBridge(MultipathDevice device, Path dir) throws Exception {
        Assumptions.assumeTrue(FuseBridgeProvider.isRoot(), "FUSE mount and loop devices need root");
        return new FuseBridgeProvider().start(device, Map.of("mount", dir.resolve("mnt").toString(), "loop", "true"));
    }

    @Override
    protected BlockTarget open(KernelBridge bridge) throws Exception {
        Path dev = Path.of(bridge.location());
        // O_DIRECT through libc: the device's 512-byte sectors (FileChannel's DIRECT insists on 4 KiB here)
        int fd = Native.open(dev.toString(), Native.O_RDWR | Native.O_DIRECT, 0);
        int fuaFd = Native.open(dev.toString(), Native.O_RDWR | Native.O_DIRECT | Native.O_DSYNC, 0);
        FileChannel ch = FileChannel.open(dev, StandardOpenOption.READ);
        return new BlockTarget() {
            private ByteBuffer aligned(int length) {
                int pages = (length + 4095) / 4096 * 4096;
                return ByteBuffer.allocateDirect(pages + 4096).alignedSlice(4096);
            }

            @Override
            public void write(long offset, byte[] data, boolean useFua) throws IOException {
                ByteBuffer b = aligned(data.length);
                b.put(data);
                long n = Native.pwrite(useFua ? fuaFd : fd, PlatformDependent.directBufferAddress(b), data.length, offset);
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
                ByteBuf arg = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                try {
                    arg.setLongLE(0, offset).setLongLE(8, length);
                    Native.ioctl(fd, request, arg.memoryAddress(), what + " " + offset + "+" + length);
                } finally {
                    arg.release();
                }
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
        };
    }
}
