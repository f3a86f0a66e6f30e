package io.jmpio.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.api.BlockIoException;
import io.jmpio.api.IoErrorKind;
import io.jmpio.emu.array.ArrayServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The multipath device over NVMe/TCP against the emulated array: paths from the discovery log of one portal,
 * grouped by ANA state, failover with every block verified. Path ids are the ports' ids ("P1", "P2" on A;
 * "P17", "P18" on B).
 */
class MultipathDeviceNvmeTest {
    @TempDir
    Path dir;
    ArrayServer array;
    MultipathDevice device;

    @AfterEach
    void tearDown() {
        if (device != null) {
            device.close();
        }
        if (array != null) {
            array.close();
        }
    }

    private MultipathDevice open(MultipathConfig cfg) throws Exception {
        Fixture.await("controllers linked", 10_000, () -> !array.controller("A").peerFrontEndAddresses().isEmpty()
            && array.controller("A").peerState().name().equals("ALIVE") && array.controller("B").peerState().name().equals("ALIVE"));
        device = MultipathDevice.open(cfg);
        Fixture.await("four paths up", 10_000, () -> MultipathDeviceTest.paths(device).stream()
            .filter(p -> "up".equals(p.get("health"))).count() == 4);
        return device;
    }

    private static long ios(MultipathDevice d, String... ids) {
        long n = 0;
        for (String id : ids) {
            n += MultipathDeviceTest.ios(d, id);
        }
        return n;
    }

    private static void assertClean(VerifiedWorkload w) throws IOException {
        assertEquals(0, w.errors.get(), "errors reached the application: " + w.problems());
        assertEquals(0, w.mismatches.get(), "reads returned wrong data: " + w.problems());
        assertEquals(0, w.verifyAll(), "blocks not holding their last acknowledged write");
    }

    @Test
    void discoversFourPathsFromOnePortalAndUsesTheOptimizedOnes() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(Fixture.nvmeDeviceConfig(array));
        List<Map<String, Object>> ps = MultipathDeviceTest.paths(device);
        assertEquals(4, ps.size(), ps.toString());
        assertEquals(List.of("P1", "P2"), ps.stream().filter(p -> (Boolean) p.get("inUse")).map(p -> p.get("id")).toList());
        for (Map<String, Object> p : ps) {
            assertEquals(((String) p.get("id")).length() == 2 ? "optimized" : "non-optimized", p.get("access"), p.toString());
        }
        assertEquals(64L << 20, device.info().sizeBytes());
        assertEquals(array.metadata().load().byName("lun0").wwid(), device.info().wwid());
        assertEquals("nvme-tcp", device.status().get("transport"));
        byte[] data = VerifiedWorkload.content(3, 1);
        Fixture.write(device, 3 * 4096, data);
        device.setPathOffline("P1", true);
        device.setPathOffline("P2", true);
        assertArrayEquals(data, Fixture.read(device, 3 * 4096, 4096));
        assertTrue(ios(device, "P17", "P18") > 0, "the read went through B");
        assertEquals(IoErrorKind.OUT_OF_RANGE, assertThrows(BlockIoException.class,
            () -> Fixture.read(device, 64L << 20, 4096)).kind());
    }

    @Test
    void ioSpillsToNonOptimizedPathsWhenTheOptimizedPortsGoDown() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(Fixture.nvmeDeviceConfig(array));
        VerifiedWorkload w = new VerifiedWorkload(device, 8, 2048);
        Fixture.await("I/O on A", 10_000, () -> ios(device, "P1", "P2") > 100);
        assertEquals(0, ios(device, "P17", "P18"), "nothing on the non-optimized paths while A's are usable");
        array.controller("A").setPortDown(Fixture.nvmePort(array, "A", 0), true);
        array.controller("A").setPortDown(Fixture.nvmePort(array, "A", 1), true);
        long before = ios(device, "P17", "P18");
        Fixture.await("I/O on B", 10_000, () -> ios(device, "P17", "P18") > before + 200);
        w.close();
        assertClean(w);
    }

    @Test
    void controllerKilledDuringVerifiedWritesLosesNothing() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(Fixture.nvmeDeviceConfig(array));
        VerifiedWorkload w = new VerifiedWorkload(device, 16, 4096);
        Fixture.await("I/O running", 10_000, () -> w.completed.get() > 300);
        w.resetStall();
        array.controller("A").kill();
        long at = w.completed.get();
        Fixture.await("I/O after the kill", 15_000, () -> w.completed.get() > at + 500);
        w.close();
        System.out.println("NVMe/TCP: longest stall with controller A killed: " + w.longestStallMillis() + " ms");
        assertClean(w);
        assertTrue(ios(device, "P17", "P18") > 0);
        assertEquals("failed", MultipathDeviceTest.path(device, "P1").get("health"));
        Fixture.await("B's paths optimized", 10_000, () -> "optimized".equals(MultipathDeviceTest.path(device, "P17").get("access")));
    }
}
