package io.jmpio.bridge.fuse;

import io.jmpio.api.BlockDevice;
import io.jmpio.api.KernelBridge;
import io.jmpio.api.KernelBridgeProvider;
import io.jmpio.api.PolicyOption;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The device as one file on a FUSE mount, spoken directly on /dev/fuse; with {@code loop}, a /dev/loopN. */
public final class FuseBridgeProvider implements KernelBridgeProvider {
    @Override
    public String name() {
        return "fuse";
    }

    @Override
    public String description() {
        return "one file on a FUSE mount served from /dev/fuse, optionally attached as /dev/loopN";
    }

    @Override
    public int autoRank() {
        return 20;
    }

    @Override
    public List<PolicyOption> options() {
        return List.of(
            new PolicyOption("mount", "", "mount point (default: <run dir>/<name>.fuse, created and removed)"),
            new PolicyOption("loop", "false", "attach the file as a loop device with direct I/O (true/false; --loop)"),
            new PolicyOption("threads", "", "threads reading /dev/fuse, each on its own cloned fd (default: cores, 2..8)"),
            new PolicyOption("io-uring", "auto", "FUSE over io_uring: auto (when the kernel offers it: 6.14+, "
                + "/sys/module/fuse/parameters/enable_uring on; each queue served by the device queue's io_uring event "
                + "loop, or by a thread of its own when the device's loops are not io_uring), thread (a thread per "
                + "queue always) or off (/dev/fuse reads only)"),
            new PolicyOption("ring-depth", "", "io_uring entries per queue (one queue per possible CPU; 1 MiB each; "
                + "default: 128 / queues, within 8..32)"),
            new PolicyOption("shutdown-grace-ms", "5000", "how long detach waits for the device before answering EIO"));
    }

    @Override
    public Availability availability() {
        Path dev = Path.of("/dev/fuse");
        if (!Files.exists(dev)) {
            return Availability.no("no /dev/fuse: load the fuse module (modprobe fuse)");
        }
        if (!isRoot()) {
            return Availability.no("needs root: mounting FUSE and attaching a loop device take CAP_SYS_ADMIN");
        }
        if (!Files.isReadable(dev) || !Files.isWritable(dev)) {
            return Availability.no("/dev/fuse is not readable and writable by this process");
        }
        if (!Files.exists(Path.of("/dev/loop-control"))) {
            return Availability.yes("/dev/fuse is there (no /dev/loop-control: loop devices unavailable, the file only)");
        }
        return Availability.yes("/dev/fuse and /dev/loop-control are there and this process is root");
    }

    static boolean isRoot() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    @Override
    public KernelBridge start(BlockDevice device, Map<String, String> options) throws IOException {
        Availability a = availability();
        if (!a.usable()) {
            throw new IOException("fuse bridge cannot run here: " + a.reason());
        }
        String mount = options.getOrDefault("mount", "");
        Path mountPoint = mount.isEmpty() ? runDir().resolve(device.info().name() + ".fuse") : Path.of(mount);
        boolean loop = Boolean.parseBoolean(options.getOrDefault("loop", "false"));
        String t = options.getOrDefault("threads", "");
        int threads = t.isEmpty() ? Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors())) : positive(t, "threads");
        long grace = positive(options.getOrDefault("shutdown-grace-ms", "5000"), "shutdown-grace-ms");
        String uring = options.getOrDefault("io-uring", "auto");
        if (!uring.equals("auto") && !uring.equals("thread") && !uring.equals("off")) {
            throw new IllegalArgumentException("bridge option io-uring must be auto, thread or off, got '" + uring + "'");
        }
        String d = options.getOrDefault("ring-depth", "");
        int depth = d.isEmpty() ? 0 : positive(d, "ring-depth"); // 0: sized by the queue count at INIT
        if (depth > 256) {
            throw new IllegalArgumentException("bridge option ring-depth must be at most 256, got " + depth);
        }
        return FuseSession.start(device, mountPoint, threads, loop, grace, uring, depth);
    }

    private static int positive(String v, String name) {
        try {
            int n = Integer.parseInt(v.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("fuse option " + name + " must be a positive number, got '" + v + "'");
    }

    private static Path runDir() {
        String env = System.getenv("JMPIO_RUN_DIR");
        return env != null && !env.isEmpty() ? Path.of(env) : Path.of("/run/jmpio");
    }
}
