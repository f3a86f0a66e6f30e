package io.jmpio.emu.cli;

import io.jmpio.api.BlockIoException;
import io.jmpio.api.IoCallback;
import io.jmpio.core.MultipathConfig;
import io.jmpio.core.MultipathDevice;
import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Benchmark of the multipath device against an in-process array (memory LUN): IOPS and latency at a fixed
 * queue depth, the CPU the device's own I/O threads spend per request, and the longest gap with no
 * completions when the owning controller is killed mid-run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = PolicyScenario.class,
    description = "Measure the multipath device: IOPS at a queue depth, driver CPU per I/O, and the stall when a controller is killed.")
final class DeviceBench implements java.util.concurrent.Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--seconds", defaultValue = "10", description = "Length of each measurement (default: ${DEFAULT-VALUE})")
    int seconds;

    @Option(names = "--warmup", defaultValue = "3", description = "Seconds of warm-up (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--qd", defaultValue = "32", description = "Requests in flight (default: ${DEFAULT-VALUE})")
    int queueDepth;

    @Option(names = "--read-percent", defaultValue = "50", description = "Share of reads (default: ${DEFAULT-VALUE})")
    int readPercent;

    @Option(names = "--ports", defaultValue = "4", description = "Front-end ports per controller; the owner's are the paths in use (default: ${DEFAULT-VALUE})")
    int ports;

    @Option(names = "--queues", defaultValue = "2", description = "I/O queues of the device (default: ${DEFAULT-VALUE})")
    int queues;

    @Option(names = "--policy", defaultValue = "round-robin", description = "Balancing policy of the device (default: ${DEFAULT-VALUE})")
    String policy;

    @Option(names = "--heartbeat-timeout", defaultValue = "500", description = "The array's peer-death timeout, which bounds the kill stall (default: ${DEFAULT-VALUE})")
    long heartbeatTimeout;

    @Option(names = "--skip-kill", description = "Only measure steady state")
    boolean skipKill;

    private static final String TRANSPORT = "nvme-tcp";

    private static final int BLOCK = 4096;
    private static final long LUN_BYTES = 1L << 30;

    @Override
    public Integer call() throws Exception {
        OptionRange.check(spec, "--seconds", seconds, 1, 3600);
        OptionRange.check(spec, "--warmup", warmup, 0, 600);
        OptionRange.check(spec, "--qd", queueDepth, 1, 4096);
        OptionRange.check(spec, "--read-percent", readPercent, 0, 100);
        OptionRange.check(spec, "--queues", queues, 1, 64);
        OptionRange.check(spec, "--heartbeat-timeout", heartbeatTimeout, 50, 600_000);
        Path dir = Files.createTempDirectory("jmpio-bench");
        ArrayConfig ac = new ArrayConfig().dataDir(dir).basePort(0).portsPerController(ports)
            .heartbeatIntervalMillis(Math.max(10, heartbeatTimeout / 5)).heartbeatTimeoutMillis(heartbeatTimeout)
            .autoTransferThreshold(0).lun(LunSpec.parse("lun0:1G:A", "A", "memory"));
        try (ArrayServer array = ArrayServer.start(ac)) {
            if (!array.awaitLinked(15_000)) {
                throw new IllegalStateException("the bench's controllers did not link up in 15 s");
            }
            MultipathConfig cfg = new MultipathConfig().transport(TRANSPORT).name("lun0")
                .portal(array.controller("A").portAddresses().get(0))
                .hostId("nqn.2014-08.io.jmpio:bench").ioQueues(queues).policy(policy);
            try (MultipathDevice device = MultipathDevice.open(cfg)) {
                waitForPaths(device, 2 * ports);
                System.out.printf("device: %d paths over %s, %d in use (%s), %d queues, QD%d, 4 KiB random, %d%% reads, sockets %s%n",
                    2 * ports, TRANSPORT, ((Number) device.status().get("usablePaths")).intValue(), policy, queues, queueDepth,
                    readPercent, array.transportKind());
                Load warm = new Load(device, queueDepth, readPercent);
                Thread.sleep(warmup * 1000L);
                warm.stop();
                Load load = new Load(device, queueDepth, readPercent);
                long cpu0 = cpuOf("jmpio-io");
                long user0 = cpuOf("jmpio-io", true);
                long cpuAll0 = processCpu();
                long ios0 = load.completed.get();
                long t0 = System.nanoTime();
                Thread.sleep(seconds * 1000L);
                long ios = load.completed.get() - ios0;
                long elapsed = System.nanoTime() - t0;
                long cpu = cpuOf("jmpio-io") - cpu0;
                long user = cpuOf("jmpio-io", true) - user0;
                long cpuAll = processCpu() - cpuAll0;
                load.stop();
                System.out.printf("steady: %.0f IOPS  p50 %.0f us  p99 %.0f us  errors %d%n", ios * 1e9 / elapsed,
                    load.latency.getValueAtPercentile(50) / 1e3, load.latency.getValueAtPercentile(99) / 1e3, load.errors.get());
                System.out.printf("driver I/O threads CPU per I/O: %.2f us in user mode (the driver's own code), %.2f us with"
                    + " the kernel's loopback TCP work (%.0f%% of one core); whole process with the array %.2f us%n",
                    user / 1e3 / ios, cpu / 1e3 / ios, cpu * 100.0 / elapsed, cpuAll / 1e3 / ios);
                if (!skipKill) {
                    Load kill = new Load(device, queueDepth, readPercent);
                    Thread.sleep(seconds * 500L);
                    kill.resetStall();
                    long atKill = kill.completed.get();
                    array.controller("A").kill();
                    Thread.sleep(seconds * 500L);
                    kill.stop();
                    System.out.printf("controller A killed: longest stall %.0f ms, errors %d, %d I/Os completed after the kill%n",
                        kill.longestStallNanos / 1e6, kill.errors.get(), kill.completed.get() - atKill);
                }
            }
        }
        return 0;
    }

    static void waitForPaths(MultipathDevice d, int n) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 15_000;
        while (System.currentTimeMillis() < deadline) {
            if (d.pathsUp() >= n) {
                return;
            }
            Thread.sleep(50);
        }
    }

    private static long processCpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static long cpuOf(String prefix) {
        return cpuOf(prefix, false);
    }

    /** CPU nanoseconds of the threads named {@code prefix*}: user mode only, or user plus kernel. */
    private static long cpuOf(String prefix, boolean userOnly) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long total = 0;
        for (ThreadInfo ti : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (ti != null && ti.getThreadName().startsWith(prefix)) {
                long c = userOnly ? mx.getThreadUserTime(ti.getThreadId()) : mx.getThreadCpuTime(ti.getThreadId());
                total += Math.max(0, c);
            }
        }
        return total;
    }

    /** A closed loop of {@code depth} requests, each issuing the next from its completion. */
    static final class Load {
        final MultipathDevice device;
        final int readPercent;
        final AtomicLong completed = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final ConcurrentHistogram latency = new ConcurrentHistogram(3_600_000_000_000L, 2);
        volatile boolean running = true;
        volatile long lastNanos = System.nanoTime();
        volatile long longestStallNanos;
        private final byte[] data = new byte[BLOCK];

        Load(MultipathDevice device, int depth, int readPercent) {
            this.device = device;
            this.readPercent = readPercent;
            new SplittableRandom(1).nextBytes(data);
            for (int i = 0; i < depth; i++) {
                issue(new SplittableRandom(i + 17));
            }
        }

        void issue(SplittableRandom rnd) {
            if (!running) {
                return;
            }
            long offset = rnd.nextLong(LUN_BYTES / BLOCK) * BLOCK;
            long start = System.nanoTime();
            IoCallback cb = new IoCallback() {
                @Override
                public void completed(ByteBuf d) {
                    if (d != null) {
                        d.release();
                    }
                    long now = System.nanoTime();
                    latency.recordValue(now - start);
                    long gap = now - lastNanos;
                    if (gap > longestStallNanos) {
                        longestStallNanos = gap;
                    }
                    lastNanos = now;
                    completed.incrementAndGet();
                    issue(rnd);
                }

                @Override
                public void failed(BlockIoException e) {
                    errors.incrementAndGet();
                    issue(rnd);
                }
            };
            if (rnd.nextInt(100) < readPercent) {
                device.read(offset, BLOCK, cb);
            } else {
                device.write(offset, Unpooled.wrappedBuffer(data), false, cb);
            }
        }

        void resetStall() {
            lastNanos = System.nanoTime();
            longestStallNanos = 0;
        }

        void stop() throws InterruptedException {
            running = false;
            Thread.sleep(300);
        }
    }
}
