package io.jmpio.emu.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a soak saw: IOPS each second, ownership changes (injected or not), the faults, the workload's counts and
 * the final read-back; written as timeline.csv, faults.csv and timeline.png, and summed up in a few lines that
 * end with what was lost.
 */
final class SoakReport {
    private record Sample(double t, long ios, String active) {
    }

    private final SoakFaults faults;
    private final DemoWorkload load;
    private final List<Sample> samples = new ArrayList<>();
    private final List<double[]> takeovers = new ArrayList<>();
    private int spurious;
    private long lost = -1;
    /** Reads the controllers answered as non-owners under a read lease, summed over restarts (which reset counters). */
    private long nonOwnerReads;
    private final Map<String, Long> lastNonOwnerReads = new java.util.HashMap<>();

    SoakReport(SoakFaults faults, DemoWorkload load) {
        this.faults = faults;
        this.load = load;
    }

    /** One controller's counter as sampled now (-1: it has none, being down). */
    void nonOwnerReads(String controller, long counter) {
        if (counter < 0) {
            return;
        }
        long last = lastNonOwnerReads.getOrDefault(controller, 0L);
        nonOwnerReads += counter >= last ? counter - last : counter; // lower: restarted, counting from 0
        lastNonOwnerReads.put(controller, counter);
    }

    void sample(double t, long ios, String active) {
        samples.add(new Sample(t, ios, active));
    }

    void ownershipChange(double t, boolean injected) {
        takeovers.add(new double[] {t, injected ? 1 : 0});
        if (!injected) {
            spurious++;
        }
    }

    void finish(long lostWrites) {
        this.lost = lostWrites;
    }

    /** Writes the report files and the summary; returns the exit status (1 when anything was lost or failed). */
    int write(Path dir, PrintStream out, long seed, double minutes, String flags) throws IOException {
        StringBuilder csv = new StringBuilder("second,iops,active_paths\n");
        for (Sample s : samples) {
            csv.append(String.format(Locale.ROOT, "%.1f,%d,%s%n", s.t(), s.ios(), s.active()));
        }
        Files.writeString(dir.resolve("timeline.csv"), csv);
        StringBuilder f = new StringBuilder("second,fault,target,note\n");
        for (SoakFaults.Event e : faults.events) {
            f.append(String.format(Locale.ROOT, "%.2f,%s,%s,%s%n", e.atSeconds(), e.kind(), e.target(),
                e.note().replace(',', ';').replace('\n', ' ')));
        }
        for (double[] t : takeovers) {
            f.append(String.format(Locale.ROOT, "%.2f,ownership change,lun0,%s%n", t[0], t[1] == 1 ? "injected" : "NOT INJECTED"));
        }
        Files.writeString(dir.resolve("faults.csv"), f);
        plot(dir.resolve("timeline.png"), seed);

        long zeroSeconds = samples.stream().filter(s -> s.ios() == 0).count();
        int total = faults.counts.values().stream().mapToInt(Integer::intValue).sum();
        StringBuilder kinds = new StringBuilder();
        for (Map.Entry<String, Integer> e : faults.counts.entrySet()) {
            kinds.append(kinds.length() == 0 ? "" : ", ").append(e.getKey()).append(' ').append(e.getValue());
        }
        out.printf("seed: %d (replay: jmpio soak --minutes %s --seed %d%s)%n", seed, trim(minutes), seed, flags);
        out.printf("faults injected: %d (%s)%n", total, kinds);
        out.printf("I/Os: %d, reads verified: %d, longest gap between completions: %d ms, seconds without I/O: %d%n",
            load.ios.get(), load.verifiedReads.get(), load.longestStallNanos / 1_000_000, zeroSeconds);
        out.printf("ownership changes: %d, takeovers nobody injected: %d%n", takeovers.size(), spurious);
        out.printf("reads answered at the non-owner under the owner's read lease: %d%n", nonOwnerReads);
        out.printf("errors seen by the application: %d%n", load.errors.get());
        out.printf("stale or corrupt reads: %d%n", load.mismatches.get());
        out.printf("acknowledged writes lost: %d%n", lost);
        synchronized (load.problems) {
            for (String p : load.problems) {
                out.println("  " + p);
            }
        }
        return load.errors.get() == 0 && load.mismatches.get() == 0 && lost == 0 ? 0 : 1;
    }

    private void plot(Path png, long seed) throws IOException {
        double[] xs = samples.stream().mapToDouble(Sample::t).toArray();
        List<Charts.Marker> marks = new ArrayList<>();
        for (SoakFaults.Event e : faults.events) {
            if (!e.kind().startsWith("end ") && !e.kind().startsWith("skipped") && !e.kind().startsWith("policy")
                && !e.kind().contains("latency") && !e.note().startsWith("not injected")) {
                marks.add(new Charts.Marker(e.atSeconds(), e.kind() + " " + e.target()));
            }
        }
        Charts.write(png, "jmpio soak, seed " + seed + ": IOPS under random faults", List.of(
            Charts.lines("IOPS seen by the application (markers: controller, port and link faults)", "seconds", "IOPS", xs,
                List.of(new Charts.Series("IOPS", samples.stream().mapToDouble(s -> s.ios()).toArray())), marks)));
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
