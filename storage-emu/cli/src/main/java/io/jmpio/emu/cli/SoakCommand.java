package io.jmpio.emu.cli;

import io.jmpio.api.KernelBridge;
import io.jmpio.core.Bridges;
import io.jmpio.core.MultipathConfig;
import io.jmpio.core.MultipathDevice;
import io.jmpio.core.NoPathRetry;
import io.jmpio.core.PluginPath;
import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A chaos soak: the emulated pair and a multipath device (NBD export, in this process) under a verified workload
 * (every block stamped with its number, a sequence number and a checksum), while a seeded random schedule injects
 * kills, pauses, restarts, port loss, link partitions, latency, flaky ports, LUN moves and policy switches. At
 * the end every fault is taken back and every block read back. Exit status 1 when a write was lost, a read was
 * stale or corrupt, or an error reached the application.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
    description = "Run the emulated array and a multipath device under random faults with a verified workload; "
        + "report what was injected and anything lost (exit 1 if so).")
final class SoakCommand implements Callable<Integer> {
    private static final long BLOCKS = 16384;

    @Spec
    CommandSpec spec;

    @Option(names = "--minutes", defaultValue = "5", description = "Length of the fault schedule (default: ${DEFAULT-VALUE})")
    double minutes;

    @Option(names = "--seed", description = "Seed of the fault schedule (default: random; printed, so a run replays)")
    Long seed;

    @Option(names = "--report", paramLabel = "DIR", defaultValue = "jmpio-soak-report",
        description = "Where timeline.csv, faults.csv and timeline.png go (default: ${DEFAULT-VALUE})")
    Path report;

    @Option(names = "--workers", defaultValue = "8", description = "Workload threads, one request each in flight (default: ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--cpu-hog", description = "Keep every core busy beside the run (spurious takeovers are counted either way)")
    boolean cpuHog;

    @Option(names = "--no-faults", description = "Inject nothing: every ownership change is one nobody asked for (with --cpu-hog, the load test of failure detection)")
    boolean noFaults;

    @Option(names = "--faults", paramLabel = "KIND[,KIND...]", split = ",",
        description = "Only these kinds of fault (default: all of kill, pause, restart, partition, port-down, "
            + "port-latency, link-latency, flaky, move, policy): to replay one kind of trouble")
    List<String> faultKinds;

    @Option(names = "--heartbeat-timeout", paramLabel = "MS", defaultValue = "500",
        description = "The array's heartbeat timeout (default: ${DEFAULT-VALUE})")
    long heartbeatTimeout;

    private volatile boolean hogging;

    @Override
    public Integer call() throws Exception {
        if (minutes <= 0 || minutes > 24 * 60) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--minutes must be within (0, 1440], got " + minutes);
        }
        if (workers < 1 || workers > 256) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--workers must be within 1..256, got " + workers);
        }
        java.util.Set<String> kinds = new java.util.LinkedHashSet<>(List.of(SoakFaults.KINDS));
        if (faultKinds != null) {
            kinds.clear();
            for (String k : faultKinds) {
                if (!List.of(SoakFaults.KINDS).contains(k)) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--faults: no fault kind '" + io.jmpio.netty.PeerText.printable(k)
                        + "'; the kinds are " + String.join(", ", SoakFaults.KINDS));
                }
                kinds.add(k);
            }
            if (kinds.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--faults names no fault kind; the kinds are "
                    + String.join(", ", SoakFaults.KINDS));
            }
        }
        long s = seed != null ? seed : ThreadLocalRandom.current().nextLong();
        PrintStream out = System.out;
        Path log = Files.createTempFile("jmpio-soak-", ".log");
        if (System.getProperty("org.slf4j.simpleLogger.logFile") == null) {
            System.setProperty("org.slf4j.simpleLogger.logFile", log.toString());
        }
        // a finding is read against the fault timeline: every log line carries its time of day, and the output
        // says when the timeline's second 0 was
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        Files.createDirectories(report);
        Path work = Files.createTempDirectory("jmpio-soak");
        out.printf(Locale.ROOT, "jmpio soak: %.1f min, seed %d, %d workers%s%s; log %s%n", minutes, s, workers,
            cpuHog ? ", every core kept busy beside it" : "", noFaults ? ", no faults injected" : "", log);
        List<Thread> hogs = startHogs();
        ArrayServer array = null;
        MultipathDevice device = null;
        KernelBridge bridge = null;
        try {
            array = ArrayServer.start(new ArrayConfig().dataDir(work.resolve("array")).basePort(0)
                .heartbeatIntervalMillis(Math.max(20, heartbeatTimeout / 5)).heartbeatTimeoutMillis(heartbeatTimeout)
                .failbackDelayMillis(1000).autoTransferThreshold(0)
                .lun(LunSpec.parse("lun0:256M:A", "A", "memory")));
            if (!array.awaitLinked(30_000)) {
                throw new IllegalStateException("the soak's controllers did not link up in 30 s");
            }
            device = MultipathDevice.open(new MultipathConfig().transport("nvme-tcp")
                .portal(array.controller("A").portAddresses().get(0)).name("soak").hostId("nqn.2014-08.io.jmpio:soak")
                .ioQueues(2).noPathRetry(NoPathRetry.QUEUE).ioTimeoutMillis(3000).checkIntervalMillis(200)
                .probeTimeoutMillis(1000).scanIntervalMillis(1000));
            MultipathDevice d = device;
            waitFor(() -> d.pathsUp() == 4, 30_000);
            bridge = Bridges.from(PluginPath.loader(List.of())).provider("nbd").start(device, Map.of("listen", "127.0.0.1:0"));
            DemoWorkload load = new DemoWorkload(bridge.location(), workers, BLOCKS, 1);
            out.printf("second 0 of the timeline (the log's times are of day): %s%n",
                java.time.LocalTime.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
            load.start();
            SoakReport rep = run(array, device, load, s, kinds);
            int status = rep.write(report, out, s, minutes, (cpuHog ? " --cpu-hog" : "") + (noFaults ? " --no-faults" : "")
                + (faultKinds != null ? " --faults " + String.join(",", kinds) : ""));
            out.printf("report: %s%n", report.toAbsolutePath());
            return status;
        } finally {
            hogging = false;
            for (Thread t : hogs) {
                t.join(1000);
            }
            if (bridge != null) {
                bridge.close();
            }
            if (device != null) {
                device.close();
            }
            if (array != null) {
                array.close();
            }
            EmuBench.deleteTree(work);
        }
    }

    private SoakReport run(ArrayServer array, MultipathDevice device, DemoWorkload load, long seed,
                           java.util.Set<String> kinds) throws Exception {
        long t0 = load.startNanos; // the timeline and the workload's findings share one origin
        long end = System.nanoTime() + (long) (minutes * 60e9);
        SoakFaults faults = new SoakFaults(array, device, seed, t0, kinds);
        SoakReport rep = new SoakReport(faults, load);
        long nextFault = t0 + 2_000_000_000L;
        long nextSample = t0 + 1_000_000_000L;
        long lastEpoch = epoch(array);
        long lastIos = 0;
        while (System.nanoTime() < end) {
            long now = System.nanoTime();
            faults.expire(now);
            if (now >= nextFault && !noFaults) {
                faults.injectNext(now);
                nextFault = now + faults.nextGapMillis() * 1_000_000L;
            }
            long e = epoch(array);
            if (e != lastEpoch) {
                // ownership moved: injected when a controller-level fault is in effect or ended lately
                boolean explained = faults.bigFaultActive() || now - faults.lastBigChangeNanos < 6_000_000_000L;
                rep.ownershipChange((now - t0) / 1e9, explained);
                lastEpoch = e;
            }
            if (now >= nextSample) {
                for (String id : List.of("A", "B")) {
                    rep.nonOwnerReads(id, lunCounter(array, id, "localReads"));
                }
                long ios = load.ios.get();
                rep.sample((now - t0) / 1e9, ios - lastIos, device.activeController());
                lastIos = ios;
                nextSample += 1_000_000_000L;
            }
            Thread.sleep(50);
        }
        faults.undoAll(System.nanoTime());
        // everything is back: the device must find its four paths again before the final check
        waitFor(() -> device.pathsUp() == 4, 60_000);
        load.stop();
        rep.finish(load.verifyAll());
        return rep;
    }

    /** A counter of lun0's statistics on one controller, or -1 while that controller has none (killed). */
    private static long lunCounter(ArrayServer array, String controller, String counter) {
        try {
            for (Object o : (List<?>) array.controller(controller).localStatus().get("luns")) {
                if (o instanceof Map<?, ?> lun && "lun0".equals(lun.get("name")) && lun.get("stats") instanceof Map<?, ?> st
                    && st.get(counter) instanceof Number n) {
                    return n.longValue();
                }
            }
        } catch (RuntimeException stopped) {
            // a killed or restarting controller reports nothing
        }
        return -1;
    }

    private static long epoch(ArrayServer array) {
        try {
            return array.metadata().load().byName("lun0").epoch();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    private List<Thread> startHogs() {
        List<Thread> out = new ArrayList<>();
        if (!cpuHog) {
            return out;
        }
        hogging = true;
        for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
            Thread t = new Thread(() -> {
                long x = 0;
                while (hogging) {
                    x += System.nanoTime() % 7;
                }
                if (x == 42) {
                    System.out.print("");
                }
            }, "jmpio-soak-cpu-hog-" + i);
            t.setDaemon(true);
            t.start();
            out.add(t);
        }
        return out;
    }

    private static void waitFor(java.util.function.BooleanSupplier cond, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!cond.getAsBoolean() && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
    }
}
