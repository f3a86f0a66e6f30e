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

/** The multipath device against a real emulated array on loopback: every test verifies its data. */
class MultipathDeviceTest {
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

    /** Opens the device and waits until all four ports are known (the array may still be linking up). */
    private MultipathDevice open(MultipathConfig cfg) throws IOException, InterruptedException {
        device = MultipathDevice.open(cfg);
        Fixture.await("four paths up", 10_000, () -> paths(device).stream().filter(p -> "up".equals(p.get("health"))).count() == 4);
        return device;
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> paths(MultipathDevice d) {
        List<Map<String, Object>> all = new java.util.ArrayList<>();
        for (Map<String, Object> g : (List<Map<String, Object>>) d.status().get("groups")) {
            all.addAll((List<Map<String, Object>>) g.get("paths"));
        }
        return all;
    }

    static Map<String, Object> path(MultipathDevice d, String id) {
        return paths(d).stream().filter(p -> p.get("id").equals(id)).findFirst().orElseThrow();
    }

    static long ios(MultipathDevice d, String id) {
        return ((Number) path(d, id).get("ios")).longValue();
    }

    static long controllerIos(MultipathDevice d, String controller) {
        return ios(d, controller + "0") + ios(d, controller + "1");
    }

    private void assertClean(VerifiedWorkload w) throws IOException {
        assertEquals(0, w.errors.get(), "errors reached the application: " + w.problems());
        assertEquals(0, w.mismatches.get(), "reads returned wrong data: " + w.problems());
        assertEquals(0, w.verifyAll(), "blocks not holding their last acknowledged write");
    }

    @Test
    void discoversAllFourPathsFromOnePortalAndRegistersOnEach() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(Fixture.deviceConfig(array));
        List<Map<String, Object>> ps = paths(device);
        assertEquals(4, ps.size(), ps.toString());
        for (Map<String, Object> p : ps) {
            assertEquals("up", p.get("health"), p.toString());
        }
        assertEquals(List.of("A0", "A1"), ps.stream().filter(p -> (Boolean) p.get("inUse")).map(p -> p.get("id")).toList());
        assertEquals(64L << 20, device.info().sizeBytes());
        assertEquals(32, device.info().wwid().length());
        // Registered on B's ports too: an I/O through B (shipped) is accepted for this host id.
        byte[] data = VerifiedWorkload.content(3, 1);
        Fixture.write(device, 3 * 4096, data);
        device.setPathOffline("A0", true);
        device.setPathOffline("A1", true);
        assertArrayEquals(data, Fixture.read(device, 3 * 4096, 4096));
        assertTrue(controllerIos(device, "B") > 0, "the read went through B");
    }

    @Test
    void ioStaysOnTheOptimizedGroupAndSpillsToNonOptimizedWhenItIsGone() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(Fixture.deviceConfig(array));
        VerifiedWorkload w = new VerifiedWorkload(device, 8, 2048);
        Thread.sleep(800);
        assertTrue(controllerIos(device, "A") > 100, "I/O ran on A");
        assertEquals(0, controllerIos(device, "B"), "nothing on the non-optimized group while A is usable");
        array.controller("A").setPortDown(Fixture.port(array, "A", 0), true);
        array.controller("A").setPortDown(Fixture.port(array, "A", 1), true);
        long before = controllerIos(device, "B");
        Fixture.await("I/O on B", 10_000, () -> controllerIos(device, "B") > before + 200);
        w.close();
        assertClean(w);
        assertEquals(IoErrorKind.OUT_OF_RANGE, assertThrows(BlockIoException.class,
            () -> Fixture.read(device, 64L << 20, 4096)).kind());
    }

    @Test
    void controllerKilledDuringMixedWorkloadLosesNothing() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(Fixture.deviceConfig(array));
        VerifiedWorkload w = new VerifiedWorkload(device, 16, 4096);
        Thread.sleep(700);
        w.resetStall();
        array.controller("A").kill();
        long at = w.completed.get();
        Fixture.await("I/O after the kill", 10_000, () -> w.completed.get() > at + 500);
        Thread.sleep(300);
        w.close();
        System.out.println("longest stall with controller A killed: " + w.longestStallMillis() + " ms");
        assertClean(w);
        assertTrue(controllerIos(device, "B") > 0);
        assertEquals("failed", path(device, "A0").get("health"));
    }

    @Test
    void pausedControllerIsDetectedByTimeoutAndFailedOver() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(Fixture.deviceConfig(array).ioTimeoutMillis(400));
        VerifiedWorkload w = new VerifiedWorkload(device, 8, 2048);
        Thread.sleep(500);
        array.controller("A").pause();
        long at = w.completed.get();
        Fixture.await("I/O after the pause", 15_000, () -> w.completed.get() > at + 500);
        w.close();
        assertClean(w);
        assertEquals("failed", path(device, "A0").get("health"));
        assertTrue(String.valueOf(path(device, "A0").get("reason")).matches(".*(no reply|probe).*"),
            String.valueOf(path(device, "A0").get("reason")));
    }

    @Test
    void immediateFailbackReturnsToTheRestoredOwner() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(Fixture.deviceConfig(array));
        VerifiedWorkload w = new VerifiedWorkload(device, 4, 1024);
        array.controller("A").kill();
        Fixture.await("I/O on B", 10_000, () -> controllerIos(device, "B") > 100);
        array.controller("A").restart();
        Fixture.await("paths of A restored", 15_000, () -> "up".equals(path(device, "A0").get("health")));
        long onA = controllerIos(device, "A");
        Fixture.await("I/O back on A", 15_000, () -> controllerIos(device, "A") > onA + 100);
        w.close();
        assertClean(w);
    }

    @Test
    void manualFailbackStaysUntilAsked() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(Fixture.deviceConfig(array).failback(Failback.parse("manual")));
        VerifiedWorkload w = new VerifiedWorkload(device, 4, 1024);
        array.controller("A").kill();
        Fixture.await("I/O on B", 10_000, () -> controllerIos(device, "B") > 100);
        array.controller("A").restart();
        Fixture.await("A optimized again", 15_000,
            () -> "up".equals(path(device, "A0").get("health")) && "optimized".equals(path(device, "A0").get("access")));
        Thread.sleep(500);
        long onA = controllerIos(device, "A");
        Thread.sleep(500);
        assertEquals(onA, controllerIos(device, "A"), "manual failback: I/O stays on B");
        device.failback();
        Fixture.await("I/O back on A", 10_000, () -> controllerIos(device, "A") > onA + 100);
        w.close();
        assertClean(w);
    }

    @Test
    void noPathRetryFailFailsAtOnce() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(Fixture.deviceConfig(array));
        allPortsDown(true);
        Fixture.await("no usable path", 5000, () -> ((Number) device.status().get("usablePaths")).intValue() == 0);
        long t0 = System.nanoTime();
        BlockIoException e = assertThrows(BlockIoException.class, () -> Fixture.read(device, 0, 4096));
        assertEquals(IoErrorKind.NO_PATH, e.kind());
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L);
        assertTrue(e.getMessage().contains("A0"), e.getMessage());
    }

    @Test
    void noPathRetryQueueWaitsForAPathAndDetachReleasesQueuedRequests() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(Fixture.deviceConfig(array).noPathRetry(NoPathRetry.QUEUE));
        byte[] data = VerifiedWorkload.content(9, 1);
        Fixture.write(device, 9 * 4096, data);
        allPortsDown(true);
        Fixture.await("no usable path", 5000, () -> ((Number) device.status().get("usablePaths")).intValue() == 0);
        Fixture.Done queued = new Fixture.Done();
        device.read(9 * 4096, 4096, queued);
        Thread.sleep(500);
        assertTrue(!queued.isDone(), "the read waits for a path");
        assertEquals(1, device.status().get("queued"));
        allPortsDown(false);
        assertArrayEquals(data, queued.get(15));

        allPortsDown(true);
        Fixture.await("no usable path", 5000, () -> ((Number) device.status().get("usablePaths")).intValue() == 0);
        Fixture.Done stuck = new Fixture.Done();
        device.read(0, 4096, stuck);
        Thread.sleep(200);
        device.close();
        BlockIoException e = assertThrows(BlockIoException.class, () -> stuck.get(5));
        assertEquals(IoErrorKind.DEVICE_CLOSED, e.kind());
    }

    @Test
    void noPathRetrySecondsFailsAfterItsTime() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(Fixture.deviceConfig(array).noPathRetry(NoPathRetry.parse("1")));
        allPortsDown(true);
        Fixture.await("no usable path", 5000, () -> ((Number) device.status().get("usablePaths")).intValue() == 0);
        long t0 = System.nanoTime();
        BlockIoException e = assertThrows(BlockIoException.class, () -> Fixture.read(device, 0, 4096));
        long waited = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(IoErrorKind.NO_PATH, e.kind());
        assertTrue(waited >= 900 && waited < 5000, "waited " + waited + " ms");
    }

    @Test
    void flakyPortIsMovedToTheMarginalGroup() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(Fixture.deviceConfig(array).marginalWindowMillis(500).marginalMinIos(10).marginalRecheckMillis(60_000));
        array.controller("A").setPortFlaky(Fixture.port(array, "A", 0), 0.3, "error");
        VerifiedWorkload w = new VerifiedWorkload(device, 8, 2048);
        Fixture.await("A0 marginal", 10_000, () -> Boolean.TRUE.equals(path(device, "A0").get("marginal")));
        Thread.sleep(200);
        long a0 = ios(device, "A0");
        Thread.sleep(500);
        assertEquals(a0, ios(device, "A0"), "no I/O on the marginal path while A1 is usable");
        assertTrue(ios(device, "A1") > 0);
        w.close();
        assertClean(w);
    }

    @Test
    void policySwitchesDuringIo() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(Fixture.deviceConfig(array));
        VerifiedWorkload w = new VerifiedWorkload(device, 8, 2048);
        Thread.sleep(300);
        device.setPolicy("queue-length", Map.of());
        long at = w.completed.get();
        Fixture.await("I/O under queue-length", 5000, () -> w.completed.get() > at + 300);
        device.setPolicy("failover", Map.of());
        Thread.sleep(300);
        long a0 = ios(device, "A0");
        long a1 = ios(device, "A1");
        Thread.sleep(300);
        assertTrue(ios(device, "A0") == a0 || ios(device, "A1") == a1, "failover policy keeps to one path");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> device.setPolicy("fastest", Map.of()));
        assertTrue(e.getMessage().contains("unknown policy 'fastest'") && e.getMessage().contains("round-robin"), e.getMessage());
        assertEquals("failover", device.policyName());
        w.close();
        assertClean(w);
    }

    @Test
    void badRequestsAndBadAttachArgumentsGetClearErrors() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        IOException noLun = assertThrows(IOException.class, () -> MultipathDevice.open(Fixture.deviceConfig(array).lun("nope")));
        assertTrue(noLun.getMessage().contains("LUN 'nope' not found") && noLun.getMessage().contains("lun0"), noLun.getMessage());
        IllegalArgumentException badPolicy = assertThrows(IllegalArgumentException.class,
            () -> MultipathDevice.open(Fixture.deviceConfig(array).policy("fastest")));
        assertTrue(badPolicy.getMessage().contains("known: "), badPolicy.getMessage());
        IllegalArgumentException badOption = assertThrows(IllegalArgumentException.class,
            () -> MultipathDevice.open(Fixture.deviceConfig(array).policyOption("bogus", "1")));
        assertTrue(badOption.getMessage().contains("no option 'bogus'"), badOption.getMessage());
        IOException noPortal = assertThrows(IOException.class,
            () -> MultipathDevice.open(new MultipathConfig().portal("127.0.0.1:1").lun("lun0").hostId("h")));
        assertTrue(noPortal.getMessage().contains("127.0.0.1:1"), noPortal.getMessage());
        open(Fixture.deviceConfig(array));
        assertEquals(IoErrorKind.INVALID_REQUEST, assertThrows(BlockIoException.class, () -> Fixture.read(device, 100, 4096)).kind());
        assertEquals(IoErrorKind.OUT_OF_RANGE,
            assertThrows(BlockIoException.class, () -> Fixture.write(device, (64L << 20) - 512, new byte[4096])).kind());
        assertEquals(IllegalArgumentException.class,
            assertThrows(IllegalArgumentException.class, () -> device.setPathOffline("Z9", true)).getClass());
        Fixture.write(device, 0, new byte[4096]);
    }

    private void allPortsDown(boolean down) throws IOException {
        for (String c : List.of("A", "B")) {
            for (int i = 0; i < 2; i++) {
                array.controller(c).setPortDown(Fixture.port(array, c, i), down);
            }
        }
    }
}
