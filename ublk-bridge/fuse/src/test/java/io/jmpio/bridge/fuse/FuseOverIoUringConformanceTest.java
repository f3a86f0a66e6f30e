package io.jmpio.bridge.fuse;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.api.KernelBridge;
import io.jmpio.core.MultipathDevice;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;

/** The conformance suite again through the FUSE bridge, this time with FUSE over io_uring switched on. */
class FuseOverIoUringConformanceTest extends FuseConformanceTest {
    private static final Path ENABLE = Path.of(FuseLayout.ENABLE_URING);
    private String before;

    @Override
    protected KernelBridge startBridge(MultipathDevice device, Path dir) throws Exception {
        Assumptions.assumeTrue(Files.exists(ENABLE), "this kernel has no FUSE over io_uring");
        before = Files.readString(ENABLE).trim();
        Files.writeString(ENABLE, "1");
        KernelBridge b = super.startBridge(device, dir);
        assertTrue(String.valueOf(b.details().get("transport")).startsWith("io_uring"), b.details().toString());
        return b;
    }

    @AfterEach
    void switchBack() throws Exception {
        if (before != null) {
            Files.writeString(ENABLE, before.equals("Y") ? "1" : "0");
        }
    }
}
