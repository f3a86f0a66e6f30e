package io.jmpio.bridge.fuse;

import io.jmpio.api.KernelBridge;
import io.jmpio.core.KernelBridgeConformance;
import io.jmpio.core.MultipathDevice;
import io.jmpio.nativeio.BlockDeviceTarget;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/** The kernel-bridge conformance suite through the FUSE bridge's loop device, driven as a block device is. */
class FuseConformanceTest extends KernelBridgeConformance {
    @Override
    protected KernelBridge startBridge(MultipathDevice device, Path dir) throws Exception {
        Assumptions.assumeTrue(FuseBridgeProvider.isRoot(), "FUSE mount and loop devices need root");
        return new FuseBridgeProvider().start(device, Map.of("mount", dir.resolve("mnt").toString(), "loop", "true",
            "io-uring", uringMode()));
    }

    /** The bridge's io-uring option: off here (the kernel's default leaves io_uring off anyway). */
    protected String uringMode() {
        return "off";
    }

    @Override
    protected BlockTarget open(KernelBridge bridge) throws Exception {
        return BlockDeviceTarget.open(Path.of(bridge.location()));
    }
}
