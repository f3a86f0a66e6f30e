package io.jmpio.emu.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jmpio.api.KernelBridge;
import io.jmpio.api.KernelBridgeProvider;
import io.jmpio.core.Bridges;
import io.jmpio.core.MultipathConfig;
import io.jmpio.core.MultipathDevice;
import io.jmpio.core.PluginPath;
import io.jmpio.core.control.StatusText;
import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.netty.FailureText;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The whole idea in one run: an emulated dual-controller array in this process, a multipath device on its
 * four paths exposed through the best bridge this host allows, a verified workload through that bridge,
 * controller A killed at one third and restored at two thirds, all of it shown as it happens, and a report.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run a dual-controller array, a multipath device on it, a verified workload through a kernel bridge, "
        + "and a live failover and failback.")
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--bridge", defaultValue = "auto", description = "auto (ublk, else fuse + loop as root, else nbd), ublk, fuse or nbd (default: ${DEFAULT-VALUE})")
    String bridge;

    @Option(names = "--policy", defaultValue = "round-robin", description = "Balancing policy (default: ${DEFAULT-VALUE})")
    String policy;

    @Option(names = "--seconds", defaultValue = "30", description = "Length of the run; A is killed at 1/3 and restored at 2/3 (default: ${DEFAULT-VALUE})")
    int seconds;

    @Option(names = "--report", paramLabel = "DIR", defaultValue = "jmpio-demo-report", description = "Where the timeline plot and CSV go (default: ${DEFAULT-VALUE})")
    Path report;

    @Option(names = "--workers", defaultValue = "8", description = "Workload threads, one request each in flight (default: ${DEFAULT-VALUE})")
    int workers;

    static final String[] PHASES = {"steady", "A killed", "failed over", "A restored", "failed back"};
    private static final long BLOCKS = 16384;

    private final Cleanup cleanup = new Cleanup();
    private PrintStream out;
    private Path logFile;
    /** "host:port" of each NVMe/TCP port of the array to its name in the demo ("A0" ... "B1"). */
    private final Map<String, String> portNames = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        if (seconds < 6) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--seconds must be at least 6, got " + seconds);
        }
        out = System.out;
        // the device's events go to a log file, not between the progress lines (when logging starts here)
        Path log = Files.createTempFile("jmpio-demo-", ".log");
        if (System.getProperty("org.slf4j.simpleLogger.logFile") == null) {
            System.setProperty("org.slf4j.simpleLogger.logFile", log.toString());
        }
        logFile = log;
        Thread hook = new Thread(cleanup, "jmpio-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return run();
        } finally {
            cleanup.run();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // Ctrl-C: the hook is running the same cleanup.
            }
        }
    }

    private int run() throws Exception {
        Bridges bridges = Bridges.from(PluginPath.loader(List.of()));
        KernelBridgeProvider provider;
        String why;
        if (bridge.equals("auto")) {
            Bridges.Choice c = bridges.auto();
            provider = c.provider();
            why = c.reason();
        } else {
            try {
                provider = bridges.provider(bridge);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            KernelBridgeProvider.Availability a = provider.availability();
            if (!a.usable()) {
                throw new IllegalStateException("bridge " + bridge + " cannot run here: " + a.reason());
            }
            why = "asked for with --bridge; " + a.reason();
        }
        Path work = Files.createTempDirectory("jmpio-demo");
        cleanup.work = work;
        out.println("jmpio demo: an emulated array (controllers A and B, two ports each), one LUN, a multipath device on"
            + " four paths over NVMe/TCP, policy " + policy + ", " + seconds + " s");
        out.println("bridge: " + provider.name() + " (" + why + ")");
        out.println("log: " + logFile + " (the device's and the array's events)");

        ArrayServer array = ArrayServer.start(new ArrayConfig().dataDir(work.resolve("array")).basePort(0)
            .heartbeatIntervalMillis(100).heartbeatTimeoutMillis(500).failbackDelayMillis(1000).autoTransferThreshold(0)
            .lun(LunSpec.parse("lun0:256M:A", "A", "memory")));
        cleanup.array = array;
        for (String c : List.of("A", "B")) {
            List<String> nvme = array.controller(c).portAddresses();
            for (int i = 0; i < nvme.size(); i++) {
                portNames.put(nvme.get(i), c + i);
            }
        }
        if (!array.awaitLinked(15_000)) {
            throw new IllegalStateException("the demo's controllers did not link up in 15 s");
        }
        MultipathDevice device = MultipathDevice.open(new MultipathConfig().transport("nvme-tcp")
            .portal(array.controller("A").portAddresses().get(0)).name("demo")
            .hostId("nqn.2014-08.io.jmpio:demo").policy(policy).ioQueues(2));
        cleanup.device = device;
        waitFor(() -> device.pathsUp() == 4, 15_000);
        out.println("transport: NVMe/TCP; the four paths came from the discovery log of " + array.controller("A").portAddresses().get(0)
            + " (A0, A1 on controller A; B0, B1 on controller B)");

        Map<String, String> options = new LinkedHashMap<>();
        switch (provider.name()) {
            case "fuse":
                options.put("mount", work.resolve("fuse").toString());
                options.put("loop", "true");
                break;
            case "nbd":
                options.put("listen", "127.0.0.1:0");
                break;
            case "ublk":
                options.put("queues", "2");
                options.put("recovery", "false");
                break;
            default:
        }
        KernelBridge kb = provider.start(device, options);
        cleanup.bridge = kb;
        out.println("device: " + kb.location() + (kb.location().startsWith("/dev/") ? " (a real kernel block device, opened with O_DIRECT)" : ""));

        DemoWorkload load = new DemoWorkload(kb.location(), workers, BLOCKS, PHASES.length);
        cleanup.workload = load;
        load.start();
        Timeline timeline = new Timeline(device, load, portNames);
        boolean tty = System.console() != null;
        long t0 = System.nanoTime();
        long killAt = seconds * 1000L / 3;
        long restoreAt = seconds * 2000L / 3;
        boolean killed = false;
        boolean restored = false;
        double[] markKill = {Double.NaN};
        double[] markRestore = {Double.NaN};
        long nextSample = 1000;
        long nextPrint = 1000;
        while (true) {
            long ms = (System.nanoTime() - t0) / 1_000_000;
            if (ms >= seconds * 1000L) {
                break;
            }
            if (!killed && ms >= killAt) {
                killed = true;
                markKill[0] = ms / 1000.0;
                array.controller("A").kill();
                load.phase = 1;
                line(tty, String.format(Locale.ROOT, "%5.1f s  controller A killed", ms / 1000.0));
            }
            if (killed && load.phase == 1 && activeController(device).equals("B") && device.activeAccess().equals("optimized")) {
                load.phase = 2;
                line(tty, String.format(Locale.ROOT, "%5.1f s  failed over: controller B took over the LUN (its paths %s)", ms / 1000.0, device.activeAccess()));
            }
            if (!restored && ms >= restoreAt) {
                restored = true;
                markRestore[0] = ms / 1000.0;
                array.controller("A").start();
                load.phase = 3;
                line(tty, String.format(Locale.ROOT, "%5.1f s  controller A restored", ms / 1000.0));
            }
            if (restored && load.phase == 3 && activeController(device).equals("A") && device.pathsUp() == 4) {
                load.phase = 4;
                line(tty, String.format(Locale.ROOT, "%5.1f s  failed back to controller A, all 4 paths up", ms / 1000.0));
            }
            if (ms >= nextSample) {
                Timeline.Sample s = timeline.sample(ms / 1000.0, PHASES[load.phase]);
                // 100 ms resolution around the fault and the restore, so a stall shows; seconds elsewhere
                boolean close = Math.abs(ms + 100 - killAt) < 500 || ms + 100 - killAt >= 0 && ms + 100 - killAt < 3000
                    || Math.abs(ms + 100 - restoreAt) < 500 || ms + 100 - restoreAt >= 0 && ms + 100 - restoreAt < 3000;
                nextSample += close ? 100 : 1000;
                nextSample = close ? nextSample : (nextSample + 999) / 1000 * 1000;
                if (ms >= nextPrint) {
                    nextPrint += 1000;
                    if (tty) {
                        out.print("\r" + progress(ms, s) + "\u001b[K");
                        out.flush();
                    } else {
                        out.println(progress(ms, s));
                    }
                }
            }
            Thread.sleep(20);
        }
        if (tty) {
            out.println();
        }
        load.stop();
        cleanup.workload = null;
        long bad = load.verifyAll();

        Files.createDirectories(report);
        Path csv = report.resolve("timeline.csv");
        Path png = report.resolve("timeline.png");
        timeline.writeCsv(csv);
        timeline.plot(png, markKill[0], markRestore[0], provider.name(), policy);

        out.println();
        out.print(StatusText.render(new ObjectMapper().valueToTree(device.status())));
        out.println();
        out.printf(Locale.ROOT, "I/Os: %d through %s; reads verified: %d; blocks checked at the end: %d%n", load.ios.get(),
            kb.location(), load.verifiedReads.get(), BLOCKS);
        out.printf(Locale.ROOT, "errors seen by the application: %d; data mismatches: %d; blocks not holding their last write: %d%n",
            load.errors.get(), load.mismatches.get(), bad);
        out.printf(Locale.ROOT, "longest stall (no completion at all): %.0f ms%n", load.longestStallNanos / 1e6);
        for (int p = 0; p < PHASES.length; p++) {
            var h = load.phaseLatency[p];
            if (h.getTotalCount() > 0) {
                out.printf(Locale.ROOT, "  %-12s %8d I/Os  p50 %7.2f ms  p99 %7.2f ms%n", PHASES[p], h.getTotalCount(),
                    h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6);
            }
        }
        out.println("report: " + png.toAbsolutePath() + ", " + csv.toAbsolutePath());
        boolean clean = load.errors.get() == 0 && load.mismatches.get() == 0 && bad == 0 && load.phase == 4;
        if (!clean) {
            synchronized (load.problems) {
                load.problems.forEach(p -> out.println("  problem: " + p));
            }
            if (load.phase != 4) {
                out.println("  problem: the run ended in phase '" + PHASES[load.phase] + "', not failed back");
            }
        }
        out.println(clean ? "result: PASS - nothing lost, no error reached the application"
            : "result: FAIL");
        return clean ? 0 : 1;
    }

    /** The array controller ("A", "B") whose ports carry the I/O now, or "none". */
    private String activeController(MultipathDevice device) {
        for (Object g : (List<?>) device.status().get("groups")) {
            for (Object p : (List<?>) ((Map<?, ?>) g).get("paths")) {
                Map<?, ?> pm = (Map<?, ?>) p;
                if (Boolean.TRUE.equals(pm.get("inUse"))) {
                    String name = portNames.get((String) pm.get("address"));
                    return name == null ? "none" : name.substring(0, 1);
                }
            }
        }
        return "none";
    }

    private String progress(long ms, Timeline.Sample s) {
        int width = 24;
        int done = (int) Math.min(width, ms * width / (seconds * 1000L));
        StringBuilder sb = new StringBuilder();
        sb.append('[').append("#".repeat(done)).append("-".repeat(width - done)).append(']')
            .append(String.format(Locale.ROOT, " %3d%% %-12s %6d IOPS p99 %5.1f ms |", ms * 100 / (seconds * 1000L),
                s.phase(), s.total(), s.p99Millis()));
        for (Timeline.PathSample p : s.paths()) {
            sb.append(String.format(Locale.ROOT, " %s %s %5d", p.id(), shortAlua(p.alua(), p.health()), p.iops()));
        }
        return sb.toString();
    }

    private static String shortAlua(String alua, String health) {
        if (!"up".equals(health)) {
            return "down";
        }
        switch (alua) {
            case "optimized": return "AO";
            case "non-optimized": return "AN";
            case "standby": return "SB";
            case "change": return "TR";
            default: return "UA";
        }
    }

    private void line(boolean tty, String text) {
        out.println((tty ? "\r\u001b[K" : "") + text);
    }

    private static void waitFor(java.util.function.BooleanSupplier cond, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("the demo's paths did not come up in " + millis / 1000 + " s");
            }
            Thread.sleep(50);
        }
    }

    /** Undoes everything the demo created, in reverse order; idempotent; also the Ctrl-C hook. */
    private static final class Cleanup implements Runnable {
        volatile DemoWorkload workload;
        volatile KernelBridge bridge;
        volatile MultipathDevice device;
        volatile ArrayServer array;
        volatile Path work;

        @Override
        public synchronized void run() {
            try {
                if (workload != null) {
                    workload.stop();
                    workload = null;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (bridge != null) {
                bridge.close();
                bridge = null;
            }
            if (device != null) {
                device.close();
                device = null;
            }
            if (array != null) {
                array.close();
                array = null;
            }
            if (work != null) {
                try (Stream<Path> files = Files.walk(work)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException e) {
                    System.err.println("jmpio demo: cannot remove " + work + ": " + FailureText.of(e));
                }
                work = null;
            }
        }
    }

    /** Samples (per second; every 100 ms around the fault and the restore): IOPS per path (from the device's counters), total IOPS, p99, phase. */
    static final class Timeline {
        record PathSample(String id, String alua, String health, long iops) {
        }

        record Sample(double second, String phase, List<PathSample> paths, long total, double p99Millis, long errors) {
        }

        private final MultipathDevice device;
        private final DemoWorkload load;
        private final Map<String, String> names;
        private final List<Sample> samples = new ArrayList<>();
        private final Map<String, Long> lastIos = new LinkedHashMap<>();
        private long lastTotal;
        private double lastSecond;
        private org.HdrHistogram.Histogram lastLatency;

        Timeline(MultipathDevice device, DemoWorkload load, Map<String, String> names) {
            this.device = device;
            this.load = load;
            this.names = names;
        }

        /** Rates over the time since the last sample (samples come every second, or every 100 ms near a fault). */
        Sample sample(double second, String phase) {
            double dt = Math.max(0.001, second - lastSecond);
            lastSecond = second;
            List<PathSample> paths = new ArrayList<>();
            for (Object g : (List<?>) device.status().get("groups")) {
                for (Object p : (List<?>) ((Map<?, ?>) g).get("paths")) {
                    Map<?, ?> pm = (Map<?, ?>) p;
                    String id = names.getOrDefault((String) pm.get("address"), (String) pm.get("id"));
                    long ios = ((Number) pm.get("ios")).longValue();
                    long delta = ios - lastIos.getOrDefault(id, ios);
                    lastIos.put(id, ios);
                    paths.removeIf(x -> x.id().equals(id));
                    paths.add(new PathSample(id, (String) pm.get("access"), (String) pm.get("health"),
                        Math.round(Math.max(0, delta) / dt)));
                }
            }
            paths.sort(Comparator.comparing(PathSample::id));
            long total = load.ios.get();
            long delta = Math.round((total - lastTotal) / dt);
            lastTotal = total;
            org.HdrHistogram.Histogram all = new org.HdrHistogram.Histogram(3_600_000_000_000L, 2);
            for (var h : load.phaseLatency) {
                all.add(h.copy());
            }
            org.HdrHistogram.Histogram window = all.copy();
            if (lastLatency != null) {
                window.subtract(lastLatency);
            }
            lastLatency = all;
            Sample s = new Sample(second, phase, paths, delta, window.getTotalCount() == 0 ? 0 : window.getValueAtPercentile(99) / 1e6,
                load.errors.get());
            samples.add(s);
            return s;
        }

        void writeCsv(Path file) throws IOException {
            StringBuilder sb = new StringBuilder("second,phase");
            List<String> ids = samples.isEmpty() ? List.of() : samples.get(samples.size() - 1).paths().stream().map(PathSample::id).toList();
            for (String id : ids) {
                sb.append(',').append(id).append("_iops,").append(id).append("_access");
            }
            sb.append(",total_iops,p99_ms,app_errors\n");
            for (Sample s : samples) {
                sb.append(String.format(Locale.ROOT, "%.2f,%s", s.second(), s.phase()));
                for (String id : ids) {
                    PathSample p = s.paths().stream().filter(x -> x.id().equals(id)).findFirst().orElse(null);
                    sb.append(',').append(p == null ? 0 : p.iops()).append(',')
                        .append(p == null ? "" : "up".equals(p.health()) ? p.alua() : "down");
                }
                sb.append(String.format(Locale.ROOT, ",%d,%.2f,%d%n", s.total(), s.p99Millis(), s.errors()));
            }
            Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
        }

        void plot(Path png, double killAt, double restoreAt, String bridge, String policy) throws IOException {
            double[] xs = samples.stream().mapToDouble(Sample::second).toArray();
            List<String> ids = samples.isEmpty() ? List.of() : samples.get(samples.size() - 1).paths().stream().map(PathSample::id).toList();
            List<Charts.Series> perPath = new ArrayList<>();
            for (String id : ids) {
                double[] v = new double[samples.size()];
                for (int i = 0; i < samples.size(); i++) {
                    v[i] = samples.get(i).paths().stream().filter(x -> x.id().equals(id)).mapToLong(PathSample::iops).sum();
                }
                perPath.add(new Charts.Series("path " + id, v));
            }
            perPath.add(new Charts.Series("total (application)", samples.stream().mapToDouble(Sample::total).toArray()));
            List<Charts.Marker> marks = new ArrayList<>();
            if (!Double.isNaN(killAt)) {
                marks.add(new Charts.Marker(killAt, "controller A killed"));
            }
            if (!Double.isNaN(restoreAt)) {
                marks.add(new Charts.Marker(restoreAt, "controller A restored"));
            }
            Charts.write(png, "jmpio demo: " + bridge + " bridge, policy " + policy + ", failover and failback", List.of(
                Charts.lines("IOPS per path and in total", "seconds", "IOPS", xs, perPath, marks),
                Charts.lines("p99 latency seen by the application", "seconds", "ms", xs,
                    List.of(new Charts.Series("p99", samples.stream().mapToDouble(Sample::p99Millis).toArray())), marks)));
        }
    }
}
