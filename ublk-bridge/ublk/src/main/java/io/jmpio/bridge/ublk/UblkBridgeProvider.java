package io.jmpio.bridge.ublk;

import io.jmpio.api.BlockDevice;
import io.jmpio.api.KernelBridge;
import io.jmpio.api.KernelBridgeProvider;
import io.jmpio.api.PolicyOption;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The ublk bridge: /dev/ublkbN answered by this process over io_uring (kernel 6.0+ with ublk_drv). */
public final class UblkBridgeProvider implements KernelBridgeProvider {
    @Override
    public String name() {
        return "ublk";
    }

    @Override
    public String description() {
        return "/dev/ublkbN through ublk_drv and io_uring: per-queue rings, user copy, crash recovery";
    }

    @Override
    public int autoRank() {
        return 10;
    }

    @Override
    public List<PolicyOption> options() {
        return List.of(
            new PolicyOption("queues", "", "hardware queues, one thread and ring each (default: cores)"),
            new PolicyOption("depth", "128", "requests in flight per queue (1..4096)"),
            new PolicyOption("recover", "", "device id of a /dev/ublkbN whose server died: take it over (--recover)"),
            new PolicyOption("recovery", "true", "create the device recoverable (USER_RECOVERY) so --recover can take it over"),
            new PolicyOption("control-timeout-ms", "30000", "longest wait for a control command"));
    }

    @Override
    public Availability availability() {
        if (!Files.exists(Path.of(UblkLayout.CONTROL_PATH))) {
            return Availability.no("no /dev/ublk-control: load ublk_drv (modprobe ublk_drv), kernel >= 6.0");
        }
        if (!Files.isReadable(Path.of(UblkLayout.CONTROL_PATH)) || !Files.isWritable(Path.of(UblkLayout.CONTROL_PATH))) {
            return Availability.no("/dev/ublk-control is not readable and writable: needs root (CAP_SYS_ADMIN)");
        }
        return Availability.yes("/dev/ublk-control is there");
    }

    @Override
    public KernelBridge start(BlockDevice device, Map<String, String> options) throws IOException {
        int queues = number(options.getOrDefault("queues", ""), "queues", Math.max(1, Runtime.getRuntime().availableProcessors()), 1, 64);
        int depth = number(options.getOrDefault("depth", "128"), "depth", 128, 1, UblkLayout.MAX_QUEUE_DEPTH);
        int recover = number(options.getOrDefault("recover", ""), "recover", -1, 0, Integer.MAX_VALUE);
        long timeout = number(options.getOrDefault("control-timeout-ms", "30000"), "control-timeout-ms", 30000, 1, Integer.MAX_VALUE);
        boolean recovery = Boolean.parseBoolean(options.getOrDefault("recovery", "true"));
        return UblkBridge.start(device, new UblkBridge.Settings(queues, depth, recovery, recover, timeout));
    }

    static int number(String v, String name, int dflt, int min, int max) {
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("ublk option " + name + " must be a number in " + min + ".." + max + ", got '" + v + "'");
    }
}
