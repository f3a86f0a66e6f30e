package io.jmpio.emu.cli;

import io.jmpio.api.BalancingPolicyProvider;
import io.jmpio.core.MultipathConfig;
import io.jmpio.core.MultipathDevice;
import io.jmpio.core.PluginPath;
import io.jmpio.core.Policies;
import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.controller.Controller;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Every balancing policy against the same unfair array: four optimized paths, one slowed by a fixed
 * latency and one answering a share of its requests with a transport error (the driver re-issues those on
 * another path). The device's marginal-path detection is off, so what is measured is the policy alone.
 * Writes the table (Markdown) and a PNG plot.
 */
@Command(name = "policies", mixinStandardHelpOptions = true,
    description = "Run every policy against an array with one slow and one flaky path; write a table and a plot.")
final class PolicyScenario implements Callable<Integer> {
    @Option(names = "--seconds", defaultValue = "8", description = "Measured seconds per policy (default: ${DEFAULT-VALUE})")
    int seconds;

    @Option(names = "--warmup", defaultValue = "2", description = "Seconds per policy before measuring (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--qd", defaultValue = "32", description = "Requests in flight (default: ${DEFAULT-VALUE})")
    int queueDepth;

    @Option(names = "--read-percent", defaultValue = "70", description = "Share of reads (default: ${DEFAULT-VALUE})")
    int readPercent;

    @Option(names = "--slow-ms", defaultValue = "2", description = "Latency added on the slow path (default: ${DEFAULT-VALUE})")
    long slowMillis;

    @Option(names = "--flaky-rate", defaultValue = "0.05", description = "Share of the flaky path's requests answered with an error (default: ${DEFAULT-VALUE})")
    double flakyRate;

    @Option(names = "--policy", paramLabel = "NAME", split = ",", description = "Policies to run (default: every installed one)")
    List<String> only = new ArrayList<>();

    @Option(names = "--plugin-path", paramLabel = "DIR", description = "Also run the policies in the jars in DIR")
    List<Path> pluginPath = new ArrayList<>();

    @Option(names = "--report", paramLabel = "DIR", defaultValue = "target/policy-scenario",
        description = "Where policies.md and policies.png go (default: ${DEFAULT-VALUE})")
    Path report;

    private static final int PORTS = 4;
    private static final int SLOW = 1;
    private static final int FLAKY = 2;

    record Result(String policy, double iops, double p50Micros, double p99Micros, double p999Micros, long errors,
                  Map<String, Long> pathIos) {
        double share(String pathId) {
            long total = pathIos.values().stream().mapToLong(Long::longValue).sum();
            return total == 0 ? 0 : 100.0 * pathIos.getOrDefault(pathId, 0L) / total;
        }
    }

    @Override
    public Integer call() throws Exception {
        ClassLoader loader = PluginPath.loader(pluginPath);
        List<String> names = new ArrayList<>();
        for (BalancingPolicyProvider p : Policies.from(loader).all()) {
            names.add(p.name());
        }
        if (!only.isEmpty()) {
            for (String n : only) {
                Policies.from(loader).provider(n);
            }
            names = only;
        }
        Files.createDirectories(report);
        Path dir = Files.createTempDirectory("jmpio-policy-scenario");
        ArrayConfig ac = new ArrayConfig().dataDir(dir).basePort(0).portsPerController(PORTS).autoTransferThreshold(0)
            .lun(LunSpec.parse("lun0:1G:A", "A", "memory"));
        List<Result> results = new ArrayList<>();
        try (ArrayServer array = ArrayServer.start(ac)) {
            Controller a = array.controller("A");
            if (!array.awaitLinked(15_000)) {
                throw new IllegalStateException("the scenario's controllers did not link up in 15 s");
            }
            List<String> aPorts = array.controller("A").portAddresses();
            MultipathConfig cfg = new MultipathConfig().transport("nvme-tcp").portal(aPorts.get(0)).name("lun0")
                .hostId("nqn.2014-08.io.jmpio:policy-scenario").ioQueues(2).pluginLoader(loader).policy(names.get(0))
                .marginalErrorRate(0).marginalLatencyFactor(0);
            try (MultipathDevice device = MultipathDevice.open(cfg)) {
                DeviceBench.waitForPaths(device, 2 * PORTS);
                a.setPortLatency(aPorts.get(SLOW), slowMillis);
                a.setPortFlaky(aPorts.get(FLAKY), flakyRate, "error");
                System.out.printf("array: 4 optimized NVMe/TCP paths A0..A3; A%d +%d ms, A%d answers %.0f%% with errors;"
                    + " QD%d, 4 KiB random, %d%% reads, %d s per policy%n",
                    SLOW, slowMillis, FLAKY, flakyRate * 100, queueDepth, readPercent, seconds);
                // The JIT and the array's caches warm up once, so the first policy measured is not penalised.
                DeviceBench.Load jit = new DeviceBench.Load(device, queueDepth, readPercent);
                Thread.sleep(Math.max(3, warmup) * 1000L);
                jit.stop();
                for (String name : names) {
                    device.setPolicy(name, Map.of());
                    results.add(measure(device, name, aPorts));
                    Result r = results.get(results.size() - 1);
                    System.out.printf("%-24s %8.0f IOPS  p50 %6.0f us  p99 %7.0f us  errors %d  A0..A3 %s%n",
                        name, r.iops, r.p50Micros, r.p99Micros, r.errors, shares(r));
                }
            }
        }
        Path table = report.resolve("policies.md");
        Files.writeString(table, markdown(results), StandardCharsets.UTF_8);
        Path png = report.resolve("policies.png");
        plot(png, results);
        System.out.println("wrote " + table + " and " + png);
        return results.stream().allMatch(r -> r.errors == 0) ? 0 : 1;
    }

    private Result measure(MultipathDevice device, String name, List<String> aPorts) throws InterruptedException {
        DeviceBench.Load warm = new DeviceBench.Load(device, queueDepth, readPercent);
        Thread.sleep(warmup * 1000L);
        warm.stop();
        Map<String, Long> before = pathIos(device, aPorts);
        DeviceBench.Load load = new DeviceBench.Load(device, queueDepth, readPercent);
        long t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        long ios = load.completed.get();
        long elapsed = System.nanoTime() - t0;
        load.stop();
        Map<String, Long> after = pathIos(device, aPorts);
        after.replaceAll((k, v) -> v - before.getOrDefault(k, 0L));
        return new Result(name, ios * 1e9 / elapsed, load.latency.getValueAtPercentile(50) / 1e3,
            load.latency.getValueAtPercentile(99) / 1e3, load.latency.getValueAtPercentile(99.9) / 1e3,
            load.errors.get(), after);
    }

    /** I/Os sent on each optimized path (A's NVMe/TCP ports, named A0..A3 here) so far, from the device's status. */
    private static Map<String, Long> pathIos(MultipathDevice device, List<String> aPorts) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < PORTS; i++) {
            m.put("A" + i, 0L);
        }
        for (Object g : (List<?>) device.status().get("groups")) {
            for (Object p : (List<?>) ((Map<?, ?>) g).get("paths")) {
                Map<?, ?> path = (Map<?, ?>) p;
                int at = aPorts.indexOf((String) path.get("address"));
                String id = at < 0 ? "" : "A" + at;
                if (m.containsKey(id)) {
                    m.put(id, ((Number) path.get("ios")).longValue());
                }
            }
        }
        return m;
    }

    private static String shares(Result r) {
        StringBuilder sb = new StringBuilder();
        for (String id : r.pathIos.keySet()) {
            sb.append(String.format("%s%.0f%%", sb.length() == 0 ? "" : " / ", r.share(id)));
        }
        return sb.toString();
    }

    private String markdown(List<Result> results) {
        StringBuilder sb = new StringBuilder();
        sb.append("| policy | IOPS | p50 µs | p99 µs | p99.9 µs | errors | A0 | A").append(SLOW).append(" (+").append(slowMillis)
            .append(" ms) | A").append(FLAKY).append(" (").append(Math.round(flakyRate * 100)).append("% errors) | A3 |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Result r : results) {
            sb.append(String.format("| %s | %.0f | %.0f | %.0f | %.0f | %d | %.0f%% | %.0f%% | %.0f%% | %.0f%% |%n", r.policy,
                r.iops, r.p50Micros, r.p99Micros, r.p999Micros, r.errors, r.share("A0"), r.share("A1"), r.share("A2"),
                r.share("A3")));
        }
        sb.append(String.format("%nQD%d, 4 KiB random, %d%% reads, %d s per policy after %d s warm-up; two I/O queues;"
            + " the path columns are each path's share of the requests sent.%n", queueDepth, readPercent, seconds, warmup));
        return sb.toString();
    }

    private void plot(Path png, List<Result> results) throws java.io.IOException {
        List<String> names = new ArrayList<>();
        double[] iops = new double[results.size()];
        double[] p50 = new double[results.size()];
        double[] p99 = new double[results.size()];
        List<Charts.Series> shares = new ArrayList<>();
        String[] labels = {"A0", "A" + SLOW + " (+" + slowMillis + " ms)", "A" + FLAKY + " (flaky)", "A3"};
        double[][] share = new double[PORTS][results.size()];
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            names.add(r.policy);
            iops[i] = r.iops;
            p50[i] = r.p50Micros / 1000;
            p99[i] = r.p99Micros / 1000;
            for (int p = 0; p < PORTS; p++) {
                share[p][i] = r.share("A" + p);
            }
        }
        for (int p = 0; p < PORTS; p++) {
            shares.add(new Charts.Series(labels[p], share[p]));
        }
        Charts.write(png, String.format("Balancing policies, one path +%d ms and one with %.0f%% errors (QD%d, 4 KiB, %d%% reads)",
            slowMillis, flakyRate * 100, queueDepth, readPercent), List.of(
            Charts.bars("Throughput", "IOPS", names, List.of(new Charts.Series("IOPS", iops))),
            Charts.bars("Latency seen by the application", "ms", names,
                List.of(new Charts.Series("p50", p50), new Charts.Series("p99", p99))),
            Charts.bars("Where the requests went", "% of requests", names, shares)));
    }
}
