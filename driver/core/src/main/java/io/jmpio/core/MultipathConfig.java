package io.jmpio.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Everything a multipath device is attached with. Fluent setters that check their argument. */
public final class MultipathConfig {
    private final List<String> portals = new ArrayList<>();
    private String lun;
    private String transport = "nvme-tcp";
    private final Map<String, String> transportOptions = new LinkedHashMap<>();
    private String hostId;
    private String name;
    private String policy = "round-robin";
    private final Map<String, String> policyOptions = new LinkedHashMap<>();
    private int ioQueues = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    private long ioTimeoutMillis = 1000;
    private long connectTimeoutMillis = 1000;
    private long lossTimeoutMillis = 0;
    private long reconnectDelayMillis = 1000;
    private long checkIntervalMillis = 200;
    private long probeTimeoutMillis = 500;
    private long scanIntervalMillis = 5000;
    private long transitionTimeoutMillis = 60_000;
    private Failback failback = Failback.IMMEDIATE;
    private NoPathRetry noPathRetry = NoPathRetry.FAIL;
    private int queueLimit = 4096;
    private long marginalWindowMillis = 5000;
    private double marginalErrorRate = 0.05;
    private long marginalMinIos = 20;
    private double marginalLatencyFactor = 10;
    private long marginalLatencyFloorMillis = 20;
    private long marginalRecheckMillis = 30_000;
    private Ticker ticker = Ticker.SYSTEM;
    private ClassLoader pluginLoader;

    /** Adds portals: "host:port", several separated by commas. */
    public MultipathConfig portal(String portal) {
        for (String p : portal.split(",")) {
            String t = p.trim();
            if (!t.isEmpty()) {
                io.jmpio.netty.HostPort.peer(t);
                portals.add(t);
            }
        }
        return this;
    }
    public List<String> portals() { return portals; }
    /**
     * What to attach, in the transport's terms: for NVMe/TCP a subsystem NQN, "NQN#NSID" or "#NSID" (none: the only
     * subsystem, its first namespace).
     */
    public MultipathConfig lun(String v) { lun = nonEmpty(v, "target"); return this; }
    public String lun() { return lun; }
    /** The path transport by name ("nvme-tcp" unless another plugin is on the class path): found by ServiceLoader. */
    public MultipathConfig transport(String v) { transport = nonEmpty(v, "transport"); return this; }
    public String transport() { return transport; }
    /** An option only the transport understands (NVMe/TCP: digest=header|data|both). */
    public MultipathConfig transportOption(String key, String value) { transportOptions.put(key, value); return this; }
    public Map<String, String> transportOptions() { return transportOptions; }
    /** The host id registered on every path; 1-255 printable ASCII characters. */
    public MultipathConfig hostId(String v) {
        hostId = checkHostId(v);
        return this;
    }

    /** A host id as {@link #hostId(String)} takes it, or IllegalArgumentException saying why not. */
    public static String checkHostId(String v) {
        // it is the host NQN at every Connect, which NVMe bounds at 223 bytes
        if (v == null || v.isEmpty() || v.length() > 223 || !v.chars().allMatch(c -> c > 32 && c < 127)) {
            throw new IllegalArgumentException("host id must be 1-223 printable ASCII characters without spaces (it is"
                + " the host NQN), got '" + v + "'");
        }
        return v;
    }
    public String hostId() { return hostId; }
    /** The device's name (status, control socket); defaults to the LUN name. */
    /**
     * The device's name: it names the control socket file, the FUSE file and the NBD export, so it is a plain file
     * name (letters, digits, '.', '_', '-'; no path, nothing hidden).
     */
    public MultipathConfig name(String v) {
        String n = nonEmpty(v, "device name");
        if (!n.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new IllegalArgumentException("device name '" + n + "' must be 1 to 64 letters, digits, '.', '_' or '-',"
                + " starting with a letter or digit (it names the control socket, the FUSE file and the NBD export)");
        }
        name = n;
        return this;
    }
    public String name() {
        if (name != null) {
            return name;
        }
        if (lun == null) {
            return "mpath0";
        }
        // the target's name made a plain file name, as --name must be
        String n = lun.replaceAll("[^A-Za-z0-9._-]", "_").replaceFirst("^[._-]+", "");
        return n.isEmpty() ? "mpath0" : n.substring(0, Math.min(64, n.length()));
    }
    /** Where policies are looked up ({@link PluginPath#loader}); the application's class loader by default. */
    public MultipathConfig pluginLoader(ClassLoader v) { pluginLoader = v; return this; }
    public ClassLoader pluginLoader() { return pluginLoader != null ? pluginLoader : MultipathConfig.class.getClassLoader(); }
    public MultipathConfig policy(String v) { policy = nonEmpty(v, "policy name"); return this; }
    public String policy() { return policy; }
    public MultipathConfig policyOption(String key, String value) { policyOptions.put(key, value); return this; }
    public Map<String, String> policyOptions() { return policyOptions; }
    public MultipathConfig ioQueues(int v) { ioQueues = (int) range(v, 1, 64, "I/O queues"); return this; }
    public int ioQueues() { return ioQueues; }
    /** A request not answered within this time fails its path; it is re-issued on another. */
    public MultipathConfig ioTimeoutMillis(long v) { ioTimeoutMillis = range(v, 10, 600_000, "I/O timeout (ms)"); return this; }
    public long ioTimeoutMillis() { return ioTimeoutMillis; }
    public MultipathConfig connectTimeoutMillis(long v) { connectTimeoutMillis = range(v, 10, 60_000, "connect timeout (ms)"); return this; }
    public long connectTimeoutMillis() { return connectTimeoutMillis; }
    /**
     * How long attach keeps asking the portals when they do not answer (slow or restarting targets: nvme-cli's
     * ctrl_loss_tmo), trying again every reconnect delay; 0 asks each portal once. A target that answers and
     * refuses (no such LUN or subsystem, host not allowed) is not asked again.
     */
    public MultipathConfig lossTimeoutMillis(long v) { lossTimeoutMillis = range(v, 0, 3_600_000, "loss timeout (ms)"); return this; }
    public long lossTimeoutMillis() { return lossTimeoutMillis; }
    public MultipathConfig reconnectDelayMillis(long v) { reconnectDelayMillis = range(v, 10, 600_000, "reconnect delay (ms)"); return this; }
    public long reconnectDelayMillis() { return reconnectDelayMillis; }
    public MultipathConfig checkIntervalMillis(long v) { checkIntervalMillis = range(v, 10, 600_000, "check interval (ms)"); return this; }
    public long checkIntervalMillis() { return checkIntervalMillis; }
    public MultipathConfig probeTimeoutMillis(long v) { probeTimeoutMillis = range(v, 10, 600_000, "probe timeout (ms)"); return this; }
    public long probeTimeoutMillis() { return probeTimeoutMillis; }
    public MultipathConfig scanIntervalMillis(long v) { scanIntervalMillis = range(v, 50, 3_600_000, "scan interval (ms)"); return this; }
    public long scanIntervalMillis() { return scanIntervalMillis; }
    /** How long requests wait while every usable path is transitioning before no-path-retry applies. */
    public MultipathConfig transitionTimeoutMillis(long v) { transitionTimeoutMillis = range(v, 0, 3_600_000, "transition timeout (ms)"); return this; }
    public long transitionTimeoutMillis() { return transitionTimeoutMillis; }
    public MultipathConfig failback(Failback v) { failback = v; return this; }
    public Failback failback() { return failback; }
    public MultipathConfig noPathRetry(NoPathRetry v) { noPathRetry = v; return this; }
    public NoPathRetry noPathRetry() { return noPathRetry; }
    /** Most requests that may wait for a path at once; more fail with QUEUE_FULL. */
    public MultipathConfig queueLimit(int v) { queueLimit = (int) range(v, 1, 1 << 20, "queue limit"); return this; }
    public int queueLimit() { return queueLimit; }
    public MultipathConfig marginalWindowMillis(long v) { marginalWindowMillis = range(v, 10, 3_600_000, "marginal window (ms)"); return this; }
    public long marginalWindowMillis() { return marginalWindowMillis; }
    /** Error fraction over a window that makes a path marginal; 0 turns error-based detection off. */
    public MultipathConfig marginalErrorRate(double v) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException("marginal error rate must be within 0..1, got " + v);
        }
        marginalErrorRate = v;
        return this;
    }
    public double marginalErrorRate() { return marginalErrorRate; }
    public MultipathConfig marginalMinIos(long v) { marginalMinIos = range(v, 1, Long.MAX_VALUE, "marginal minimum I/Os"); return this; }
    public long marginalMinIos() { return marginalMinIos; }
    /** Mean latency this many times the median of the other paths makes a path marginal; 0 turns it off. */
    public MultipathConfig marginalLatencyFactor(double v) {
        if (!(v == 0 || v >= 1)) {
            throw new IllegalArgumentException("marginal latency factor must be 0 (off) or at least 1, got " + v);
        }
        marginalLatencyFactor = v;
        return this;
    }
    public double marginalLatencyFactor() { return marginalLatencyFactor; }
    public MultipathConfig marginalLatencyFloorMillis(long v) { marginalLatencyFloorMillis = range(v, 0, 600_000, "marginal latency floor (ms)"); return this; }
    public long marginalLatencyFloorMillis() { return marginalLatencyFloorMillis; }
    /** A marginal path is put back on probation after this long (doubling each time it is found marginal again). */
    public MultipathConfig marginalRecheckMillis(long v) { marginalRecheckMillis = range(v, 10, 86_400_000, "marginal recheck (ms)"); return this; }
    public long marginalRecheckMillis() { return marginalRecheckMillis; }
    public MultipathConfig ticker(Ticker v) { ticker = v; return this; }
    public Ticker ticker() { return ticker; }

    void validate() {
        if (portals.isEmpty()) {
            throw new IllegalArgumentException("no portal given: pass --portal HOST:PORT of any array port");
        }
        if (hostId == null) {
            throw new IllegalArgumentException("no host id given");
        }
    }

    private static String nonEmpty(String v, String what) {
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
        return v.trim();
    }

    private static long range(long v, long min, long max, String what) {
        if (v < min || v > max) {
            throw new IllegalArgumentException(what + " must be within " + min + ".." + max + ", got " + v);
        }
        return v;
    }
}
