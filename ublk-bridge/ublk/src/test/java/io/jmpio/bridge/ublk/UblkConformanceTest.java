package io.jmpio.bridge.ublk;

import io.jmpio.api.KernelBridge;
import io.jmpio.core.KernelBridgeConformance;
import io.jmpio.core.MultipathDevice;
import io.jmpio.nativeio.BlockDeviceTarget;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * The kernel-bridge conformance suite through /dev/ublkbN, driven as a block device is. This host's kernel has no
 * ublk, so here it is skipped (saying why); the guest tier runs it under a kernel that has (GuestConformance).
 */
class UblkConformanceTest extends KernelBridgeConformance {
    @Override
    protected KernelBridge startBridge(MultipathDevice device, Path dir) throws Exception {
        UblkBridgeProvider provider = new UblkBridgeProvider();
        Assumptions.assumeTrue(provider.availability().usable(), provider.availability().reason());
        return provider.start(device, Map.of("queues", "2", "depth", "64"));
    }

    @Override
    protected BlockTarget open(KernelBridge bridge) throws Exception {
        return BlockDeviceTarget.open(Path.of(bridge.location()));
    }
}
