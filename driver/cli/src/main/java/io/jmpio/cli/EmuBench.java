package io.jmpio.cli;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.protocol.ArrayClient;
import io.jmpio.emu.protocol.Frame;
import io.jmpio.emu.protocol.LunList;
import io.jmpio.netty.NettyTransport;
import io.jmpio.emu.protocol.Opcode;
import io.jmpio.emu.protocol.Status;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A load generator: 4 KiB random reads and writes at a fixed queue depth on one port, against the owner's
 * port (optimized path) and the non-owner's (shipped path). Runs its own in-process array unless {@code --port}
 * points at a running one.
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

    @Option(names = "--qd", defaultValue = "32", description = "Queue depth (default: ${DEFAULT-VALUE})")
    int queueDepth;

    @Option(names = "--bs", defaultValue = "4096", description = "Block size in bytes (default: ${DEFAULT-VALUE})")
    int blockSize;

    @Option(names = "--backend", defaultValue = "memory", description = "LUN backend of the in-process array: file, memory, null (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--lun-size", defaultValue = "1G")
    String lunSize;

    @Option(names = "--port", paramLabel = "HOST:PORT", description = "Measure this port of a running array instead (repeat for a second one)")
    List<String> ports;

    @Option(names = "--lun", defaultValue = "lun0")
    String lunName;

    record Result(String label, String rw, double iops, double p50Micros, double p99Micros, long errors) {
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = null;
        ArrayServer array = null;
        List<String> targets = ports;
        if (targets == null || targets.isEmpty()) {
            dir = Files.createTempDirectory("jmpio-bench");
            array = ArrayServer.start(new ArrayConfig().dataDir(dir).basePort(0).portsPerController(1)
                .autoTransferThreshold(0).lun(LunSpec.parse(lunName + ":" + lunSize + ":A", "A", backend)));
            targets = List.of(array.controller("A").portAddresses().get(0), array.controller("B").portAddresses().get(0));
            out.printf("in-process array (transport %s, backend %s): A owns %s; optimized %s, shipped %s%n",
                array.transportKind(), backend, lunName, targets.get(0), targets.get(1));
        }
        try (NettyTransport client = NettyTransport.create("jmpio-bench", 1)) {
            Result[] results = new Result[targets.size() * 2];
            int i = 0;
            for (String rw : new String[] {"randwrite", "randread"}) {
                for (int t = 0; t < targets.size(); t++) {
                    String label = targets.size() == 2 ? (t == 0 ? "optimized" : "shipped") : targets.get(t);
                    results[i] = run(client, targets.get(t), label, rw);
                    out.printf("%-10s %-9s %s  QD%d %dB: %9.0f IOPS  p50 %7.1f us  p99 %7.1f us  errors %d%n",
                        results[i].label(), rw, targets.get(t), queueDepth, blockSize, results[i].iops(),
                        results[i].p50Micros(), results[i].p99Micros(), results[i].errors());
                    out.flush();
                    i++;
                }
            }
            if (targets.size() == 2) {
                out.printf("shipped/optimized IOPS ratio: randwrite %.2f, randread %.2f%n",
                    results[1].iops() / results[0].iops(), results[3].iops() / results[2].iops());
            }
        } finally {
            if (array != null) {
                array.close();
                deleteTree(dir);
            }
        }
        return 0;
    }

    private Result run(NettyTransport transport, String target, String label, String rw) throws IOException,
            InterruptedException {
        try (ArrayClient c = ArrayClient.connect(transport, target)) {
            Frame reg = ArrayClient.await(c.register("bench-" + ProcessHandle.current().pid()), 5000);
            reg.release();
            Frame luns = ArrayClient.await(c.simple(Opcode.REPORT_LUNS, 0), 5000);
            LunList list = LunList.read(luns.payload());
            luns.release();
            LunList.Entry lun = list.byName(lunName);
            if (lun == null) {
                throw new IOException("no LUN named " + lunName + " at " + target);
            }
            long blocks = lun.sizeBytes() / blockSize;
            byte[] data = new byte[blockSize];
            ThreadLocalRandom.current().nextBytes(data);
            boolean write = rw.equals("randwrite");
            ConcurrentHistogram hist = new ConcurrentHistogram(TimeUnit.SECONDS.toNanos(10), 3);
            AtomicLong done = new AtomicLong();
            AtomicLong errors = new AtomicLong();
            long start = System.nanoTime();
            long measureFrom = start + TimeUnit.SECONDS.toNanos(warmup);
            long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
            CountDownLatch finished = new CountDownLatch(queueDepth);
            for (int q = 0; q < queueDepth; q++) {
                issue(c, lun.id(), blocks, data, write, hist, done, errors, measureFrom, end, finished);
            }
            if (!finished.await(warmup + seconds + 30L, TimeUnit.SECONDS)) {
                throw new IOException("requests to " + target + " did not complete");
            }
            double secs = (System.nanoTime() - measureFrom) / 1e9;
            return new Result(label, rw, done.get() / Math.max(secs, 1e-9), hist.getValueAtPercentile(50) / 1000.0,
                hist.getValueAtPercentile(99) / 1000.0, errors.get());
        }
    }

    private void issue(ArrayClient c, int lun, long blocks, byte[] data, boolean write, ConcurrentHistogram hist,
                       AtomicLong done, AtomicLong errors, long measureFrom, long end, CountDownLatch finished) {
        long t0 = System.nanoTime();
        if (t0 >= end) {
            finished.countDown();
            return;
        }
        long off = ThreadLocalRandom.current().nextLong(blocks) * blockSize;
        var f = write ? c.write(lun, off, data, false) : c.read(lun, off, blockSize);
        f.whenComplete((r, e) -> {
            long t1 = System.nanoTime();
            if (e != null) {
                errors.incrementAndGet();
                finished.countDown();
                return;
            }
            if (r.status() != Status.GOOD) {
                errors.incrementAndGet();
            }
            r.release();
            if (t0 >= measureFrom) {
                done.incrementAndGet();
                hist.recordValue(Math.min(t1 - t0, hist.getHighestTrackableValue()));
            }
            issue(c, lun, blocks, data, write, hist, done, errors, measureFrom, end, finished);
        });
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
