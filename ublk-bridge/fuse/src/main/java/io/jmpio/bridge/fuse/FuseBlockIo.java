package io.jmpio.bridge.fuse;

import static io.jmpio.bridge.fuse.FuseLayout.*;
import static io.jmpio.bridge.fuse.FuseResponder.out;

import io.jmpio.api.BlockDevice;
import io.jmpio.api.BlockIoException;
import io.jmpio.api.DeviceInfo;
import io.jmpio.api.IoCallback;
import io.jmpio.nativeio.Native;
import io.netty.buffer.ByteBuf;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file's I/O: READ, WRITE, FSYNC and FALLOCATE checked against the device and handed to it without waiting,
 * each answered from the device's thread when it completes. Keeps the requests handed over and not yet answered,
 * so that shutdown can answer them (no caller is left hanging) and a late completion does not answer twice.
 */
final class FuseBlockIo {
    private static final Logger LOG = LoggerFactory.getLogger(FuseBlockIo.class);

    private final BlockDevice device;
    private final DeviceInfo info;
    private final int maxWrite;
    private final Map<Long, Reply> pending = new ConcurrentHashMap<>();

    FuseBlockIo(BlockDevice device, int maxWrite) {
        this.device = device;
        this.info = device.info();
        this.maxWrite = maxWrite;
    }

    void read(FuseResponder r, ByteBuf in, long unique) {
        long offset = in.getLongLE(IN_HEADER + RW_OFFSET);
        long size = in.getIntLE(IN_HEADER + RW_SIZE) & 0xffffffffL;
        if (offset < 0 || size > maxWrite) {
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
        device.read(alignedStart, (int) (alignedEnd - alignedStart),
            handOver(r, unique, (int) (offset - alignedStart), (int) (end - offset), 0));
    }

    void write(FuseResponder r, ByteBuf in, ByteBuf payload, long unique) {
        long offset = in.getLongLE(IN_HEADER + RW_OFFSET);
        int size = in.getIntLE(IN_HEADER + RW_SIZE);
        int openFlags = in.getIntLE(IN_HEADER + RW_OPEN_FLAGS);
        int block = info.logicalBlockSize();
        if (offset < 0 || size < 0 || size > maxWrite) {
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
        device.write(offset, data, fua, handOver(r, unique, 0, 0, size));
    }

    void fsync(FuseResponder r, long unique) {
        device.flush(handOver(r, unique, 0, 0, 0));
    }

    void fallocate(FuseResponder r, ByteBuf in, long unique, long node) {
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
        if (punch && info.discard()) {
            // The array's discard reads back as zeroes, which is what a punched hole must do.
            device.discard(offset, length, handOver(r, unique, 0, 0, 0));
        } else if (info.writeZeroes()) {
            device.writeZeroes(offset, length, handOver(r, unique, 0, 0, 0));
        } else {
            r.replyError(unique, EOPNOTSUPP);
        }
    }

    /** Forgets {@code unique} if it is still waiting (a request that failed before the device took it). */
    boolean forget(long unique) {
        return pending.remove(unique) != null;
    }

    /** Waits up to {@code graceMillis} for the device to answer what it holds, then answers the rest with EIO. */
    void answerUnfinished(long graceMillis) {
        long deadline = System.currentTimeMillis() + graceMillis;
        while (!pending.isEmpty() && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Map.Entry<Long, Reply> e : pending.entrySet()) {
            if (pending.remove(e.getKey()) != null) {
                LOG.warn("FUSE: answering unfinished request {} with EIO at shutdown", e.getKey());
                e.getValue().r.replyError(e.getKey(), EIO);
            }
        }
    }

    /** The completion of a request about to go to the device, recorded as waiting first. */
    private Reply handOver(FuseResponder r, long unique, int skip, int length, int written) {
        Reply reply = new Reply(r, unique, skip, length, written);
        pending.put(unique, reply);
        return reply;
    }

    /** A device completion: answers the kernel from the device's thread, unless shutdown answered first. */
    private final class Reply implements IoCallback {
        private final FuseResponder r;
        private final long unique;
        /** For a read: the bytes of the covering blocks before the part asked for, and that part's length. */
        private final int skip;
        private final int length;
        /** For a write: the bytes written, as the answer says (0 for the other requests). */
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
}
