package io.jmpio.core;

import io.jmpio.transport.AccessState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import io.jmpio.api.DeviceInfo;

/** The device's topology and statistics: as a tree of maps (status, JSON) and as Prometheus text. */
final class StatusReport {

    private final MultipathDevice d;

    StatusReport(MultipathDevice device) {
        this.d = device;
    }

    // ------------------------------------------------------------------------------------------------
    // Status

    /** The device's topology and statistics as a tree of maps and lists (rendered as JSON or text). */
    Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        DeviceInfo di = d.info;
        Topology t = d.topology;
        m.put("device", d.config.name());
        m.put("lun", d.config.lun() != null ? d.config.lun() : d.targetName);
        m.put("transport", d.transport.name());
        m.put("wwid", di == null ? null : di.wwid());
        m.put("sizeBytes", di == null ? 0 : di.sizeBytes());
        m.put("blockSize", di == null ? 0 : di.logicalBlockSize());
        m.put("hostId", d.config.hostId());
        m.put("bridge", d.bridge);
        Map<String, Object> pol = new LinkedHashMap<>();
        pol.put("name", d.policyName);
        pol.put("options", d.policyOptions);
        m.put("policy", pol);
        m.put("failback", d.config.failback().toString());
        m.put("noPathRetry", d.config.noPathRetry().toString());
        m.put("queues", d.queues.length);
        m.put("queued", d.parkedCount.get());
        m.put("activeGroup", t.activeGroup);
        m.put("usablePaths", t.usable.length);
        m.put("stats", statsOf(d.stats, -1, -1));
        List<Map<String, Object>> groups = new ArrayList<>();
        // one reading of each path's group and marginal flag: they move while this runs (ANA state groups)
        Map<Path, Integer> groupOf = new LinkedHashMap<>();
        Map<Path, Boolean> marginalOf = new LinkedHashMap<>();
        for (Path p : d.paths) {
            groupOf.put(p, p.group);
            marginalOf.put(p, p.marginal);
        }
        List<Integer> ids = new ArrayList<>();
        for (int g : groupOf.values()) {
            if (!ids.contains(g)) {
                ids.add(g);
            }
        }
        ids.sort(null);
        boolean anyMarginal = marginalOf.containsValue(true);
        if (anyMarginal) {
            ids.add(Topology.MARGINAL_GROUP);
        }
        for (int g : ids) {
            Map<String, Object> gm = new LinkedHashMap<>();
            List<Map<String, Object>> members = new ArrayList<>();
            AccessState best = null;
            String controller = null;
            for (Path p : groupOf.keySet()) {
                boolean inGroup = g == Topology.MARGINAL_GROUP ? marginalOf.get(p) : groupOf.get(p) == g && !marginalOf.get(p);
                if (!inGroup) {
                    continue;
                }
                controller = controller == null ? p.controller
                    : java.util.Arrays.asList(controller.split("\\+")).contains(p.controller) ? controller : controller + "+" + p.controller;
                if (p.health == Path.Health.UP && (best == null || GroupSelector.rank(p.access) > GroupSelector.rank(best))) {
                    best = p.access;
                }
                members.add(pathStatus(p, t));
            }
            gm.put("group", g == Topology.MARGINAL_GROUP ? "marginal" : g);
            gm.put("controller", controller);
            gm.put("access", best == null ? "unusable" : best.label());
            gm.put("status", t.activeGroup == g && t.usable.length > 0 ? "active" : best != null ? "enabled" : "failed");
            gm.put("paths", members);
            groups.add(gm);
        }
        m.put("groups", groups);
        synchronized (d.events) {
            m.put("events", new ArrayList<>(d.events));
        }
        return m;
    }

    private Map<String, Object> pathStatus(Path p, Topology t) {
        Map<String, Object> pm = new LinkedHashMap<>();
        pm.put("id", p.id);
        pm.put("address", p.address);
        pm.put("controller", p.controller);
        pm.put("group", p.group);
        pm.put("portId", p.portId);
        pm.put("access", p.access.label());
        pm.put("health", p.health.name().toLowerCase());
        pm.put("reason", p.reason);
        pm.put("marginal", p.marginal);
        pm.put("inUse", t.contains(p));
        pm.put("inFlight", p.inFlight());
        pm.putAll(statsOf(p.stats, p.stats.pathErrors.sum(), p.stats.retries.sum()));
        return pm;
    }

    private static Map<String, Object> statsOf(PathStats s, long errors, long retries) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ios", s.ios.sum());
        m.put("reads", s.readIos.sum());
        m.put("writes", s.writeIos.sum());
        m.put("bytes", s.bytes.sum());
        m.put("iops", Math.round(s.iops()));
        m.put("p50Micros", s.p50Nanos() / 1000);
        m.put("p99Micros", s.p99Nanos() / 1000);
        if (errors >= 0) {
            m.put("errors", errors);
            m.put("retries", retries);
        }
        return m;
    }

    /** Prometheus text exposition of the device's and each path's counters and latency quantiles. */
    String prometheus() {
        StringBuilder sb = new StringBuilder();
        String dev = "device=\"" + d.config.name() + "\"";
        sb.append("# HELP jmpio_device_ios_total Requests completed by the device.\n# TYPE jmpio_device_ios_total counter\n");
        sb.append("jmpio_device_ios_total{").append(dev).append("} ").append(d.stats.ios.sum()).append('\n');
        sb.append("# HELP jmpio_device_bytes_total Bytes moved by completed requests.\n# TYPE jmpio_device_bytes_total counter\n");
        sb.append("jmpio_device_bytes_total{").append(dev).append("} ").append(d.stats.bytes.sum()).append('\n');
        sb.append("# HELP jmpio_device_queued Requests waiting for a usable path.\n# TYPE jmpio_device_queued gauge\n");
        sb.append("jmpio_device_queued{").append(dev).append("} ").append(d.parkedCount.get()).append('\n');
        sb.append("# HELP jmpio_device_usable_paths Paths I/O is sent to now.\n# TYPE jmpio_device_usable_paths gauge\n");
        sb.append("jmpio_device_usable_paths{").append(dev).append("} ").append(d.topology.usable.length).append('\n');
        summary(sb, "jmpio_device_latency_seconds", "Request latency as the application sees it, retries included.",
            dev, d.stats);
        sb.append("# HELP jmpio_path_ios_total Requests completed on the path.\n# TYPE jmpio_path_ios_total counter\n");
        for (Path p : d.paths) {
            sb.append("jmpio_path_ios_total{").append(pathLabels(p)).append("} ").append(p.stats.ios.sum()).append('\n');
        }
        sb.append("# HELP jmpio_path_errors_total Path failures: transport errors, timeouts, lost connections.\n");
        sb.append("# TYPE jmpio_path_errors_total counter\n");
        for (Path p : d.paths) {
            sb.append("jmpio_path_errors_total{").append(pathLabels(p)).append("} ").append(p.stats.pathErrors.sum()).append('\n');
        }
        sb.append("# HELP jmpio_path_in_flight Requests outstanding on the path.\n# TYPE jmpio_path_in_flight gauge\n");
        for (Path p : d.paths) {
            sb.append("jmpio_path_in_flight{").append(pathLabels(p)).append("} ").append(p.inFlight()).append('\n');
        }
        sb.append("# HELP jmpio_path_up 1 when the path is up (checked and not offline).\n# TYPE jmpio_path_up gauge\n");
        for (Path p : d.paths) {
            sb.append("jmpio_path_up{").append(pathLabels(p)).append("} ").append(p.health == Path.Health.UP ? 1 : 0).append('\n');
        }
        sb.append("# HELP jmpio_path_latency_seconds Latency of requests on the path.\n# TYPE jmpio_path_latency_seconds summary\n");
        for (Path p : d.paths) {
            quantiles(sb, "jmpio_path_latency_seconds", pathLabels(p), p.stats);
        }
        return sb.toString();
    }

    private String pathLabels(Path p) {
        return "device=\"" + d.config.name() + "\",path=\"" + p.id + "\",address=\"" + p.address + "\",controller=\""
            + p.controller + "\",access=\"" + p.access.label() + "\"";
    }

    private static void summary(StringBuilder sb, String name, String help, String labels, PathStats s) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(" summary\n");
        quantiles(sb, name, labels, s);
    }

    private static void quantiles(StringBuilder sb, String name, String labels, PathStats s) {
        for (double q : new double[] {0.5, 0.9, 0.99, 0.999}) {
            sb.append(name).append('{').append(labels).append(",quantile=\"").append(q).append("\"} ")
                .append(s.totalPercentile(q * 100) / 1e9).append('\n');
        }
        sb.append(name).append("_sum{").append(labels).append("} ").append(s.totalSumSeconds()).append('\n');
        sb.append(name).append("_count{").append(labels).append("} ").append(s.totalCount()).append('\n');
    }

}
