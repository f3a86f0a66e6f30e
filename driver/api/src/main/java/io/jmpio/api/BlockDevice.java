package io.jmpio.api;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.Executor;

/**
 * A userspace block device: asynchronous requests at byte offsets, answered through an {@link IoCallback}.
 * Offsets and lengths are multiples of {@link DeviceInfo#logicalBlockSize()}.
 *
 * <p>Threads: a device has {@link #queueCount()} I/O queues, each one thread. A request submitted from a
 * queue's thread ({@link #queueExecutor(int)}) goes to the wire and completes on that thread with no
 * hand-off; one submitted from any other thread is handed to a queue first. Bridges that want the
 * no-hand-off route run their per-queue work on the queue executors.
 *
 * <p>Buffers: a write's {@code data} is taken over by the device (it releases it once the write is done,
 * retries included); a read completes with a buffer that the callback owns. Neither is copied.
 */
public interface BlockDevice extends AutoCloseable {
    DeviceInfo info();

    void read(long offset, int length, IoCallback callback);

    void write(long offset, ByteBuf data, boolean fua, IoCallback callback);

    void flush(IoCallback callback);

    void discard(long offset, long length, IoCallback callback);

    void writeZeroes(long offset, long length, IoCallback callback);

    default int queueCount() {
        return 1;
    }

    /** Runs tasks on queue {@code queue}'s thread; submissions from there take no hand-off. */
    Executor queueExecutor(int queue);

    /** Detaches: fails queued requests with {@link IoErrorKind#DEVICE_CLOSED} and closes every path. */
    @Override
    void close();
}
