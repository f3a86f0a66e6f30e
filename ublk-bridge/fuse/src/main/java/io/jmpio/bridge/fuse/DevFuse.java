package io.jmpio.bridge.fuse;

import static io.jmpio.bridge.fuse.FuseLayout.*;
import static io.jmpio.bridge.fuse.FuseResponder.out;

import io.jmpio.nativeio.Native;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code /dev/fuse} fd (the mount's own or a clone): a thread reads requests from it into one buffer and hands
 * them on without waiting for their answers, which are written back on the same fd from whichever thread has them.
 */
final class DevFuse implements FuseResponder {
    private static final Logger LOG = LoggerFactory.getLogger(DevFuse.class);

    private final int fd;
    private final int readBuffer;

    DevFuse(int fd, int maxWrite) {
        this.fd = fd;
        // a WRITE's data and its headers
        this.readBuffer = maxWrite + 64 * 1024;
    }

    /**
     * Reads and hands on requests until the connection ends: INIT to {@code init}, the rest to {@code requests}.
     * {@code closing} says whether the end is ours (the mount is being closed) or came from outside.
     */
    void serve(FuseInit init, FuseRequests requests, BooleanSupplier closing, Path mountPoint) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(readBuffer, readBuffer);
        long address = buf.memoryAddress();
        try {
            while (true) {
                long n = Native.readOrErrno(fd, address, readBuffer);
                if (n < 0) {
                    int errno = (int) -n;
                    if (errno == Native.ENOENT || errno == Native.EINTR || errno == Native.EAGAIN) {
                        continue;
                    }
                    if (errno != Native.ENODEV) {
                        LOG.error("FUSE: read from /dev/fuse failed: {} (errno {})", Native.strerror(errno), errno);
                    } else if (!closing.getAsBoolean()) {
                        LOG.warn("FUSE: {} was unmounted or aborted from outside", mountPoint);
                    }
                    return;
                }
                buf.setIndex(0, (int) n);
                long unique = buf.getLongLE(IN_UNIQUE);
                int opcode = buf.getIntLE(IN_OPCODE);
                if (opcode == INIT) {
                    init.answer(this, buf, unique);
                    continue;
                }
                int at = opcode == WRITE ? IN_HEADER + RW_IN : IN_HEADER;
                requests.dispatch(this, buf, buf.slice(at, Math.max(0, (int) n - at)), opcode, unique);
            }
        } finally {
            buf.release();
            init.connectionEnded();
        }
    }

    @Override
    public void reply(long unique, ByteBuf out) {
        ByteBuf b = out != null ? out : out(0);
        try {
            b.setIntLE(0, b.writerIndex()).setIntLE(4, 0).setLongLE(8, unique);
            write(b.memoryAddress(), b.writerIndex());
        } finally {
            b.release();
        }
    }

    @Override
    public void replyError(long unique, int errno) {
        ByteBuf b = out(0);
        try {
            b.setIntLE(0, OUT_HEADER).setIntLE(4, -errno).setLongLE(8, unique);
            write(b.memoryAddress(), OUT_HEADER);
        } finally {
            b.release();
        }
    }

    /** Header and data in one writev, the data not copied when it is direct memory. */
    @Override
    public void replyData(long unique, ByteBuf data, int index, int length) {
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

    @Override
    public ByteBuf writeData(ByteBuf payload, int size) {
        // the read buffer is reused for the next request at once: the data is copied out
        ByteBuf data = PooledByteBufAllocator.DEFAULT.directBuffer(size, size);
        data.writeBytes(payload, payload.readerIndex(), size);
        return data;
    }

    private void write(long address, int length) {
        long n = Native.writeOrErrno(fd, address, length);
        // ENOENT: the request was interrupted and is gone; ENODEV: the connection was aborted.
        if (n < 0 && n != -Native.ENOENT && n != -Native.ENODEV) {
            LOG.warn("FUSE: reply write failed: {}", Native.strerror((int) -n));
        }
    }
}
