package io.jmpio.emu.cli;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.api.IoOp;
import io.jmpio.netty.NettyTransport;
import io.jmpio.transport.Discovery;
import io.jmpio.transport.IoCommand;
import io.jmpio.transport.Outcome;
import io.jmpio.transport.PathSession;
import io.jmpio.transport.PathTransport;
import io.jmpio.transport.PathTransports;
import io.jmpio.transport.PortInfo;
import io.jmpio.transport.QueueChannel;
import io.jmpio.transport.QueueListener;
import io.jmpio.transport.TransportContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A load generator: 4 KiB random reads and writes at a fixed queue depth on one NVMe/TCP I/O queue, against the
 * owner's port (optimized path) and the non-owner's (shipped path), through the driver's NVMe/TCP transport. Runs
 * its own in-process array unless {@code --port} points at a running one (its subsystem's only namespace).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Measure IOPS and latency of optimized vs shipped paths (4 KiB random, fixed queue depth).")
final class EmuBench implements java.util.concurrent.Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--seconds", defaultValue = "5", description = "Per measurement (default: ${DEFAULT-VALUE})")
    int seconds;

    @Option(names = "--warmup", defaultValue = "2", description = "Seconds of warm-up before each measurement (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--rounds", defaultValue = "2", description = "Measurements of each path per workload, in the"
        + " order optimized, shipped, shipped, optimized, ... so that a process still warming up (the JIT, for 15 s"
        + " or more) favours neither; the ratio is of their means (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--qd", defaultValue = "32", description = "Queue depth (default: ${DEFAULT-VALUE})")
    int queueDepth;

    @Option(names = "--bs", defaultValue = "4096", description = "Block size in bytes (default: ${DEFAULT-VALUE})")
    int blockSize;

    @Option(names = "--backend", defaultValue = "memory", description = "LUN backend of the in-process array: file, memory, null (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--event-loops", description = "Event loop threads per controller of the in-process array (default: the array's)")
    Integer eventLoops;

    @Option(names = "--non-owner-reads", defaultValue = "local", description = "In-process array: local (the non-owner answers"
        + " reads under the owner's read lease) or ship (every read shipped to the owner) (default: ${DEFAULT-VALUE})")
    String nonOwnerReads;

    @Option(names = "--lun-size", defaultValue = "1G", description = "Size of the in-process array's LUN (default: ${DEFAULT-VALUE})")
    String lunSize;

    @Option(names = "--rw", defaultValue = "randwrite,randread", split = ",",
        description = "Workloads, in order: randwrite, randread (default: ${DEFAULT-VALUE})")
    List<String> workloads;

    @Option(names = "--port", paramLabel = "HOST:PORT", description = "Measure this port of a running array instead (repeat for a second one)")
    List<String> ports;

    private static final String LUN = "lun0";

    /** B's counts for the LUN: reads it shipped, reads it answered itself under a lease (measurement included). */
    private static long[] nonOwnerReads(ArrayServer array) {
        for (Object o : (List<?>) array.controller("B").localStatus().get("luns")) {
            Map<?, ?> lun = (Map<?, ?>) o;
            if (LUN.equals(lun.get("name")) && lun.get("stats") instanceof Map<?, ?> stats) {
                return new long[] {((Number) stats.get("shippedOut")).longValue(),
                    ((Number) stats.get("localReads")).longValue()};
            }
        }
        return new long[2];
    }

    record Result(String label, String rw, double iops, double p50Micros, double p99Micros, long errors) {
    }

    @Override
    public Integer call() throws Exception {
        OptionRange.check(spec, "--seconds", seconds, 1, 3600);
        OptionRange.check(spec, "--warmup", warmup, 0, 600);
        OptionRange.check(spec, "--rounds", rounds, 1, 100);
        // one I/O queue of the target's 128 entries
        OptionRange.check(spec, "--qd", queueDepth, 1, 128);
        OptionRange.check(spec, "--bs", blockSize, 512, 1 << 20);
        if (blockSize % 512 != 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "--bs must be a multiple of 512, got " + blockSize);
        }
        for (String rw : workloads) {
            if (!rw.equals("randwrite") && !rw.equals("randread")) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--rw: unknown workload '" + rw + "' (randwrite or randread)");
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        Path dir = null;
        ArrayServer array = null;
        List<String> targets = ports;
        if (targets == null || targets.isEmpty()) {
            dir = Files.createTempDirectory("jmpio-bench");
            ArrayConfig cfg = new ArrayConfig().dataDir(dir).basePort(0).portsPerController(1)
                .autoTransferThreshold(0).nonOwnerReads(nonOwnerReads).lun(LunSpec.parse(LUN + ":" + lunSize + ":A", "A", backend));
            if (eventLoops != null) {
                cfg.eventLoopThreads(eventLoops);
            }
            array = ArrayServer.start(cfg);
            if (!array.awaitLinked(30_000)) {
                throw new IOException("the in-process controllers did not link up within 30 s");
            }
            targets = List.of(array.controller("A").portAddresses().get(0), array.controller("B").portAddresses().get(0));
            out.printf("in-process array (NVMe/TCP, event loops %s, backend %s): A owns %s; optimized %s, shipped %s%n",
                array.transportKind(), backend, LUN, targets.get(0), targets.get(1));
        }
        try (NettyTransport client = NettyTransport.create("jmpio-bench", 1)) {
            StringBuilder ratios = new StringBuilder("shipped/optimized IOPS ratio:");
            for (String rw : workloads) {
                double[] sum = new double[targets.size()];
                for (int round = 0; round < rounds; round++) {
                    for (int k = 0; k < targets.size(); k++) {
                        int t = round % 2 == 0 ? k : targets.size() - 1 - k; // ABBA: drift cancels out
                        String label = targets.size() == 2 ? (t == 0 ? "optimized" : "shipped") : targets.get(t);
                        long[] before = array == null ? null : nonOwnerReads(array);
                        Result r = run(client, targets.get(t), label, rw);
                        long[] after = array == null ? null : nonOwnerReads(array);
                        sum[t] += r.iops();
                        out.printf("%-10s %-9s %s  QD%d %dB: %9.0f IOPS  p50 %7.1f us  p99 %7.1f us  errors %d%n",
                            r.label(), rw, targets.get(t), queueDepth, blockSize, r.iops(), r.p50Micros(),
                            r.p99Micros(), r.errors());
                        if (after != null && t == 1 && rw.equals("randread")) {
                            out.printf("           reads at the non-owner: %d shipped, %d answered there under the owner's"
                                + " read lease%n", after[0] - before[0], after[1] - before[1]);
                        }
                        out.flush();
                    }
                }
                if (targets.size() == 2) {
                    ratios.append(ratios.charAt(ratios.length() - 1) == ':' ? " " : ", ").append(rw)
                        .append(String.format(" %.2f", sum[1] / sum[0]));
                }
            }
            if (targets.size() == 2) {
                out.println(ratios + (rounds == 1 ? " (one measurement each)" : " (means of " + rounds
                    + " measurements each, in ABBA order)"));
            }
        } finally {
            if (array != null) {
                array.close();
                deleteTree(dir);
            }
        }
        return 0;
    }

    private Result run(NettyTransport transport, String target, String label, String rw) throws Exception {
        byte[] hostId = new byte[16];
        ThreadLocalRandom.current().nextBytes(hostId);
        TransportContext ctx = new TransportContext("nqn.2014-08.io.jmpio:bench-" + ProcessHandle.current().pid(),
            hostId, null, 1, transport.group(), transport.channelClass(), 5000,
            10_000, 5000, java.util.Map.of());
        try (PathTransport nvme = PathTransports.from(null).create("nvme-tcp")) {
            Discovery d = nvme.discover(ctx, target);
            PortInfo port = d.ports().stream().filter(PortInfo::reporting).findFirst()
                .orElseThrow(() -> new IOException(target + " is not in its own discovery log"));
            long blocks = d.target().sizeBytes() / blockSize;
            try (PathSession session = nvme.openPath(ctx, port, () -> { })) {
                Load load = new Load(rw.equals("randwrite"), blocks);
                EventLoop loop = transport.group().next();
                loop.execute(() -> session.openQueue(loop, transport.channelClass(), 0, load));
                if (!load.finished.await(warmup + seconds + 30L, TimeUnit.SECONDS)) {
                    throw new IOException("requests to " + target + " did not complete");
                }
                if (load.failure != null) {
                    throw new IOException("queue to " + target + " closed: " + load.failure);
                }
                double secs = (System.nanoTime() - load.measureFrom) / 1e9;
                return new Result(label, rw, load.done / Math.max(secs, 1e-9), load.hist.getValueAtPercentile(50) / 1000.0,
                    load.hist.getValueAtPercentile(99) / 1000.0, load.errors);
            }
        }
    }

    /** A fixed queue depth of 4 KiB commands on one I/O queue; runs on the queue's event loop only. */
    private final class Load implements QueueListener {
        final boolean write;
        final long blocks;
        final ByteBuf data;
        final Histogram hist = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        final CountDownLatch finished = new CountDownLatch(1);
        final long measureFrom = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmup);
        final long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
        long done;
        long errors;
        int inFlight;
        volatile String failure;

        Load(boolean write, long blocks) {
            this.write = write;
            this.blocks = blocks;
            byte[] b = new byte[blockSize];
            ThreadLocalRandom.current().nextBytes(b);
            this.data = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(b));
        }

        @Override
        public void ready(QueueChannel channel) {
            for (int q = 0; q < queueDepth; q++) {
                issue(channel);
            }
        }

        private void issue(QueueChannel channel) {
            long now = System.nanoTime();
            if (now >= end) {
                if (inFlight == 0) {
                    finished.countDown();
                }
                return;
            }
            inFlight++;
            long off = ThreadLocalRandom.current().nextLong(blocks) * blockSize;
            channel.send(new Command(write ? IoOp.WRITE : IoOp.READ, off, blockSize, write ? data.duplicate() : null,
                now));
        }

        @Override
        public void completed(QueueChannel channel, IoCommand command, Outcome outcome, ByteBuf payload) {
            if (payload != null) {
                payload.release();
            }
            inFlight--;
            long t0 = ((Command) command).startNanos;
            if (!outcome.done()) {
                errors++;
            } else if (t0 >= measureFrom) {
                done++;
                hist.recordValue(Math.min(System.nanoTime() - t0, hist.getHighestTrackableValue()));
            }
            issue(channel);
        }

        @Override
        public void closed(QueueChannel channel, String reason, boolean pathFault, List<IoCommand> unanswered) {
            if (System.nanoTime() < end || inFlight > unanswered.size()) {
                failure = reason;
            }
            finished.countDown();
        }
    }

    private record Command(IoOp op, long offset, int length, ByteBuf data, long startNanos) implements IoCommand {
        @Override
        public boolean fua() {
            return false;
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
