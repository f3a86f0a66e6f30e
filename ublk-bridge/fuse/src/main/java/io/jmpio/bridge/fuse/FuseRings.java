package io.jmpio.bridge.fuse;

import static io.jmpio.bridge.fuse.FuseLayout.ENABLE_URING;

import io.jmpio.api.BlockDevice;
import io.netty.channel.IoEventLoop;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The FUSE over io_uring queues of one session: one per possible CPU (the kernel routes a request to the queue
 * of the CPU its caller runs on, and serves none until every queue has entries), made before INIT is answered,
 * then registered or abandoned with that answer, and stopped with the mount. Also says why the kernel did not
 * offer io_uring, when it did not.
 */
final class FuseRings {
    private final List<FuseRingQueue> queues = new ArrayList<>();

    /** Why the kernel did not offer FUSE over io_uring at INIT. */
    static String notOffered(int major, int minor) {
        Path enable = Path.of(ENABLE_URING);
        try {
            if (!Files.exists(enable)) {
                return "this kernel has no FUSE over io_uring (no " + ENABLE_URING + "; it needs 6.14+ with CONFIG_FUSE_IO_URING)";
            }
            if (!Files.readString(enable).trim().equals("Y")) {
                return "FUSE over io_uring is switched off (echo 1 > " + ENABLE_URING + " turns it on)";
            }
        } catch (IOException e) {
            return "cannot read " + ENABLE_URING + ": " + e.getMessage();
        }
        return "the kernel (FUSE " + major + "." + minor + ") did not offer io_uring at INIT";
    }

    private int entriesPerQueue;

    /**
     * Entries per queue when not given: the kernel puts a request on the queue of the CPU that submitted it, so
     * one submitter at queue depth N needs N entries on one queue (8 entries held a QD32 fio to 8 in flight:
     * 0.65x the reads of 32). Bounded by 128 entries in all (1 MiB each) on machines with many CPUs.
     */
    static int defaultDepth(int queues) {
        return Math.max(8, Math.min(32, 128 / Math.max(1, queues)));
    }

    int entriesPerQueue() {
        return entriesPerQueue;
    }

    /**
     * Makes the rings and their buffers before INIT is answered (after a flagged answer a failed setup would hang
     * the mount): each queue on the io_uring event loop of the device queue it feeds when {@code onLoops} and that
     * loop allows it, else on a thread of its own. Null when all are ready, else why not.
     */
    String prepare(FuseRequests requests, BlockDevice device, int depth, int payloadSize, int fuseFd, boolean onLoops) {
        int cpus;
        try {
            cpus = possibleCpus(Files.readString(Path.of("/sys/devices/system/cpu/possible")).trim());
        } catch (IOException | IllegalArgumentException e) {
            return "cannot count the possible CPUs: " + e.getMessage();
        }
        CountDownLatch prepared = new CountDownLatch(cpus);
        entriesPerQueue = depth > 0 ? depth : defaultDepth(cpus);
        for (int q = 0; q < cpus; q++) {
            Executor deviceQueue = device.queueExecutor(q % Math.max(1, device.queueCount()));
            IoEventLoop loop = onLoops ? FuseLoopQueue.usableLoop(deviceQueue) : null;
            if (loop != null) {
                FuseLoopQueue queue = new FuseLoopQueue(requests, q, entriesPerQueue, payloadSize, fuseFd, loop);
                queues.add(queue);
                queue.prepare();
                prepared.countDown();
            } else {
                FuseRingThread queue = new FuseRingThread(requests, q, entriesPerQueue, payloadSize, fuseFd, deviceQueue,
                    prepared);
                queues.add(queue);
                queue.start();
            }
        }
        try {
            if (!prepared.await(10, TimeUnit.SECONDS)) {
                return "the io_uring queues were not ready within 10 s";
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted preparing the io_uring queues";
        }
        for (FuseRingQueue q : queues) {
            if (q.failure() != null) {
                return "io_uring " + q.failure();
            }
        }
        return null;
    }

    /** INIT was answered: the queues register their entries ({@code used}) or free everything. */
    void start(boolean used) {
        for (FuseRingQueue q : queues) {
            if (used) {
                q.register();
            } else {
                q.abandon();
            }
        }
    }

    int size() {
        return queues.size();
    }

    /** How the queues are served, for the transport detail: on the device's event loops, a thread each, or mixed. */
    String servedBy() {
        boolean loops = queues.stream().allMatch(q -> q instanceof FuseLoopQueue);
        boolean threads = queues.stream().allMatch(q -> q instanceof FuseRingThread);
        return loops ? "served on the device's event loops" : threads ? "a thread per queue" : "mixed";
    }

    /** The mount is gone: the queues leave once the kernel has ended their parked commands. */
    void stop() {
        for (FuseRingQueue q : queues) {
            q.stopping();
        }
        for (FuseRingQueue q : queues) {
            try {
                q.awaitStopped(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The number of CPUs in a kernel CPU list such as "0-3,5,7-8" (the highest listed, plus one). */
    static int possibleCpus(String list) {
        int highest = -1;
        for (String part : list.split(",")) {
            String[] range = part.trim().split("-");
            highest = Math.max(highest, Integer.parseInt(range[range.length - 1].trim()));
        }
        if (highest < 0 || highest > 8191) {
            throw new IllegalArgumentException("unexpected CPU list '" + list + "'");
        }
        return highest + 1;
    }
}
