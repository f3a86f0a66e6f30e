package io.jmpio.bridge.fuse;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.api.KernelBridge;
import io.jmpio.core.MultipathDevice;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;

/**
 * The conformance suite again through the FUSE bridge, this time with FUSE over io_uring switched on: each queue
 * served by the device queue's io_uring event loop (and, in {@link FuseOverIoUringThreadConformanceTest}, by a
 * thread of its own).
 */
class FuseOverIoUringConformanceTest extends FuseConformanceTest {
    private static final Path ENABLE = Path.of(FuseLayout.ENABLE_URING);
    private String before;

    @Override
    protected KernelBridge startBridge(MultipathDevice device, Path dir) throws Exception {
        Assumptions.assumeTrue(Files.exists(ENABLE), "this kernel has no FUSE over io_uring");
        before = Files.readString(ENABLE).trim();
        Files.writeString(ENABLE, "1");
        KernelBridge b = super.startBridge(device, dir);
        String transport = String.valueOf(b.details().get("transport"));
        assertTrue(transport.startsWith("io_uring") && transport.contains(servedBy()), b.details().toString());
        return b;
    }

    @Override
    protected String uringMode() {
        return "auto";
    }

    /** How the bridge's transport detail says the queues are served. */
    protected String servedBy() {
        return "on the device's event loops";
    }

    @AfterEach
    void switchBack() throws Exception {
        if (before != null) {
            Files.writeString(ENABLE, before.equals("Y") ? "1" : "0");
        }
    }
}
