package io.jmpio.bridge.ublk;

import static io.jmpio.bridge.ublk.UblkLayout.*;
import static io.jmpio.nativeio.IoUringLayout.*;

import io.jmpio.api.BlockDevice;
import io.jmpio.api.BlockIoException;
import io.jmpio.api.IoCallback;
import io.jmpio.nativeio.IoUring;
import io.jmpio.nativeio.Native;
import io.jmpio.nativeio.NativeException;
import io.jmpio.nativeio.RingWake;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ublk hardware queue: a thread that owns an io_uring on /dev/ublkcN, keeps a FETCH_REQ outstanding
 * for every tag, and turns each request the kernel hands over into a call on the block device. The device
 * answers on its own threads; they move read data (pwrite on the char device with USER_COPY, else into the
 * tag's buffer) and post the result here, and this thread sends COMMIT_AND_FETCH_REQ, so every request goes
 * FETCH → device → COMMIT with all ring work on one thread. An eventfd read in the ring wakes it.
 */
final class UblkQueue implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(UblkQueue.class);
    private static final long WAKE = 1L << 40;
    private static final long PAGE = 4096;

    private final int queue;
    private final int depth;
    private final int cdevFd;
    private final BlockDevice device;
    /** The device's size when the queue started (ublk devices are not resized): every request is checked against it. */
    private final long deviceBytes;
    private final boolean userCopy;
    private final boolean ioctlEncode;
    private final int maxIoBytes;
    private final CountDownLatch fetched;
    private final ConcurrentLinkedQueue<long[]> done = new ConcurrentLinkedQueue<>();
    private final boolean[] aborted;
    private final boolean[] inDevice;
    /**
     * Tags answered with EIO while the device still held their request (the bridge is going away): the
     * device's late answer is dropped. Read by the device's completion threads, so atomic.
     */
    private final java.util.concurrent.atomic.AtomicIntegerArray abandoned;
    private volatile boolean stopping;
    private volatile String failure;
    private int abortedCount;
    /** Loop turns spent stopping with fetches not yet aborted by the kernel. */
    private int stopWaits;
    private RingWake wake;
    private IoUring ring;
    private Pointer descriptors;
    private long descriptorSize;
    private ByteBuf[] tagBuffers;

    UblkQueue(int queue, int depth, int cdevFd, BlockDevice device, boolean userCopy, boolean ioctlEncode,
              int maxIoBytes, CountDownLatch fetched) {
        this.queue = queue;
        this.depth = depth;
        this.cdevFd = cdevFd;
        this.device = device;
        this.deviceBytes = device.info().sizeBytes();
        this.userCopy = userCopy;
        this.ioctlEncode = ioctlEncode;
        this.maxIoBytes = maxIoBytes;
        this.fetched = fetched;
        this.aborted = new boolean[depth];
        this.inDevice = new boolean[depth];
        this.abandoned = new java.util.concurrent.atomic.AtomicIntegerArray(depth);
    }

    /** Why the queue could not start, or null. */
    String failure() {
        return failure;
    }

    /** The device is being stopped: the kernel aborts the fetches; leave once every tag is accounted for. */
    void stopping() {
        stopping = true;
        RingWake w = wake;
        if (w != null) {
            w.wakeAlways();
        }
    }

    @Override
    public void run() {
        try {
            setUp();
        } catch (NativeException | RuntimeException e) {
            failure = "ublk queue " + queue + ": " + e.getMessage();
            LOG.error(failure);
            fetched.countDown();
            tearDown();
            return;
        }
        fetched.countDown();
        try {
            serve();
        } catch (NativeException | RuntimeException e) {
            LOG.error("ublk queue {} stopped: {}", queue, e.toString());
        } finally {
            tearDown();
        }
    }

    private void setUp() throws NativeException {
        // Every tag's fetch or commit, plus the wake-up read, fit at once.
        ring = IoUring.create(Integer.highestOneBit(depth + 1) << 1, 0);
        descriptorSize = (depth * (long) IO_DESC_SIZE + PAGE - 1) / PAGE * PAGE;
        long d = Native.mmap(descriptorSize, 1 /* PROT_READ */, 0x8001 /* MAP_SHARED|MAP_POPULATE */, cdevFd,
            descriptorOffset(queue, PAGE), "ublk queue " + queue + " descriptors");
        descriptors = Pointer.wrap(Runtime.getSystemRuntime(), d);
        wake = RingWake.create(WAKE);
        if (!userCopy) {
            tagBuffers = new ByteBuf[depth];
            for (int t = 0; t < depth; t++) {
                tagBuffers[t] = PooledByteBufAllocator.DEFAULT.directBuffer(maxIoBytes, maxIoBytes);
            }
        }
        for (int tag = 0; tag < depth; tag++) {
            prepare(IO_FETCH_REQ, tag, 0);
        }
        wake.rearm(ring);
        ring.submit();
    }

    private void serve() throws NativeException {
        while (abortedCount < depth) {
            ring.submitAndWait(1, stopping ? 100_000_000L : -1);
            ring.reap(this::completion);
            drainDone();
            if (stopping) {
                answerHeld();
            }
            if (stopping && abortedCount < depth && !anyInDevice()) {
                // After STOP_DEV every outstanding fetch is answered with -ENODEV; give the kernel a moment.
                stopWaits++;
                if (stopWaits > 50) {
                    LOG.warn("ublk queue {}: {} fetches never aborted; leaving", queue, depth - abortedCount);
                    return;
                }
            }
        }
    }

    /**
     * Stopping: every request the device still holds (waiting for a path, say) is answered now with EIO, so
     * the process that issued it gets an error instead of waiting for a device that is being deleted.
     */
    private void answerHeld() {
        int n = 0;
        for (int tag = 0; tag < depth; tag++) {
            if (inDevice[tag] && abandoned.get(tag) == 0) {
                abandoned.set(tag, 1);
                inDevice[tag] = false;
                commit(tag, -Native.EIO);
                n++;
            }
        }
        if (n > 0) {
            LOG.info("ublk queue {}: {} request(s) still in the device answered with EIO: the device is going away",
                queue, n);
        }
    }

    private boolean anyInDevice() {
        for (boolean b : inDevice) {
            if (b) {
                return true;
            }
        }
        return false;
    }

    private void completion(long userData, int res, int flags) {
        if (userData == WAKE) {
            wake.rearm(ring);
            return;
        }
        int tag = (int) userData;
        if (res == IO_RES_OK) {
            handle(tag);
        } else if (res == -Native.ENODEV) {
            if (!aborted[tag]) {
                aborted[tag] = true;
                abortedCount++;
            }
        } else {
            LOG.error("ublk queue {} tag {}: command failed: {} ({})", queue, tag, Native.strerror(-res), res);
            if (!aborted[tag]) {
                aborted[tag] = true;
                abortedCount++;
            }
        }
    }

    private void handle(int tag) {
        long at = (long) tag * IO_DESC_SIZE;
        int opFlags = descriptors.getInt(at + ID_OP_FLAGS);
        if (stopping) {
            // a request that arrives while the device is being deleted is not started
            commit(tag, -Native.EIO);
            return;
        }
        UblkRequest r = UblkRequest.decode(opFlags, descriptors.getLong(at + ID_START_SECTOR),
            descriptors.getInt(at + ID_NR_SECTORS), deviceBytes, maxIoBytes);
        if (r.errno() != 0) {
            LOG.warn("ublk queue {} tag {}: refused: {}", queue, tag, r.why());
            commit(tag, -r.errno());
            return;
        }
        int op = r.op();
        long offset = r.offset();
        long length = r.length();
        Completion c = new Completion(tag, op == IO_OP_READ ? (int) length : 0, false);
        inDevice[tag] = true;
        switch (op) {
            case IO_OP_READ:
                device.read(offset, (int) length, c);
                return;
            case IO_OP_WRITE: {
                ByteBuf data;
                if (userCopy) {
                    data = PooledByteBufAllocator.DEFAULT.directBuffer((int) length, (int) length);
                    try {
                        long n = Native.pread(cdevFd, data.memoryAddress(), length, userCopyOffset(queue, tag));
                        if (n != length) {
                            throw new NativeException("pread of write data", Native.EIO, "short read " + n + " of " + length);
                        }
                    } catch (NativeException e) {
                        data.release();
                        LOG.error("ublk queue {} tag {}: {}", queue, tag, e.getMessage());
                        inDevice[tag] = false;
                        commit(tag, -Native.EIO);
                        return;
                    }
                    data.writerIndex((int) length);
                } else {
                    data = tagBuffers[tag].retainedSlice(0, (int) length);
                }
                device.write(offset, data, r.fua(), new Completion(tag, (int) length, true));
                return;
            }
            case IO_OP_FLUSH:
                device.flush(c);
                return;
            case IO_OP_DISCARD:
                device.discard(offset, length, c);
                return;
            case IO_OP_WRITE_ZEROES:
                device.writeZeroes(offset, length, c);
                return;
            default:
                inDevice[tag] = false;
                commit(tag, -Native.ENOTSUP);
        }
    }

    /** The device's answer: moves read data to the kernel and posts the result to the ring thread. */
    private final class Completion implements IoCallback {
        private final int tag;
        private final int bytes;
        private final boolean write;

        Completion(int tag, int bytes, boolean write) {
            this.tag = tag;
            this.bytes = bytes;
            this.write = write;
        }

        @Override
        public void completed(ByteBuf data) {
            int result = bytes;
            if (data != null && abandoned.get(tag) != 0) {
                data.release(); // answered already: the tag's buffer is no longer this request's
            } else if (data != null) {
                try {
                    result = deliver(tag, data);
                } finally {
                    data.release();
                }
            }
            post(tag, result);
        }

        @Override
        public void failed(BlockIoException error) {
            LOG.warn("ublk queue {} tag {}: {}", queue, tag, error.getMessage());
            post(tag, -error.kind().errno(write));
        }
    }

    private int deliver(int tag, ByteBuf data) {
        int len = data.readableBytes();
        if (!userCopy) {
            data.getBytes(data.readerIndex(), tagBuffers[tag], 0, len);
            return len;
        }
        ByteBuf direct = data;
        if (!data.hasMemoryAddress()) {
            direct = PooledByteBufAllocator.DEFAULT.directBuffer(len);
            direct.writeBytes(data, data.readerIndex(), len);
        }
        try {
            long n = Native.pwrite(cdevFd, direct.memoryAddress() + (direct == data ? data.readerIndex() : 0), len,
                userCopyOffset(queue, tag));
            return n == len ? len : -Native.EIO;
        } catch (NativeException e) {
            LOG.error("ublk queue {} tag {}: {}", queue, tag, e.getMessage());
            return -Native.EIO;
        } finally {
            if (direct != data) {
                direct.release();
            }
        }
    }


    private void post(int tag, int result) {
        done.add(new long[] {tag, result});
        RingWake w = wake;
        if (w != null) {
            w.wake();
        }
    }

    private void drainDone() {
        long[] d;
        while ((d = done.poll()) != null) {
            int tag = (int) d[0];
            if (abandoned.get(tag) != 0) {
                continue; // answered with EIO when the device began to go away
            }
            inDevice[tag] = false;
            commit(tag, (int) d[1]);
        }
    }

    private void commit(int tag, int result) {
        if (aborted[tag]) {
            return;
        }
        prepare(IO_COMMIT_AND_FETCH_REQ, tag, result);
    }

    private void prepare(int op, int tag, int result) {
        long sqe = ring.nextSqe();
        if (sqe == 0) {
            try {
                ring.submit();
            } catch (NativeException e) {
                throw new IllegalStateException(e);
            }
            sqe = ring.nextSqe();
        }
        Pointer p = ring.sqe();
        long s = sqe - ring.sqeBase();
        p.putByte(s + SQE_OPCODE, (byte) OP_URING_CMD);
        p.putInt(s + SQE_FD, cdevFd);
        p.putInt(s + SQE_CMD_OP, ioctlEncode ? op : op & 0xff);
        p.putLong(s + SQE_USER_DATA, tag);
        p.putShort(s + SQE_CMD + IC_Q_ID, (short) queue);
        p.putShort(s + SQE_CMD + IC_TAG, (short) tag);
        p.putInt(s + SQE_CMD + IC_RESULT, result);
        p.putLong(s + SQE_CMD + IC_ADDR, userCopy ? 0 : tagBuffers[tag].memoryAddress());
    }

    private void tearDown() {
        if (ring != null) {
            ring.close();
        }
        if (descriptors != null) {
            Native.munmap(descriptors.address(), descriptorSize);
        }
        if (wake != null) {
            wake.close();
        }
        if (tagBuffers != null) {
            for (ByteBuf b : tagBuffers) {
                b.release();
            }
        }
    }
}
