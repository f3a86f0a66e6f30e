package io.jmpio.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.api.BlockIoException;
import io.jmpio.api.IoErrorKind;
import io.jmpio.emu.array.ArrayServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The multipath device against a real emulated array on loopback, every test verifying its data: one suite,
 * run over each path transport (its subclasses). Tests name paths by array port ("A0" is controller A's first
 * port); {@link #id} turns that into the transport's path id.
 */
abstract class MultipathDeviceTest {
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

    /** A device config reaching the array through one port of controller A, over this suite's transport. */
    abstract MultipathConfig config() throws IOException;

    /** The array port (controller A or B, index) that carries this transport: for port faults. */
    abstract String arrayPort(String controller, int index);

    /** What the error of an attach to an unknown target names. */
    abstract String unknownTargetMessage();

    /** The device's id of the path to array port "A0", "B1", ... */
    String id(String logical) {
        String address = arrayPort(logical.substring(0, 1), Integer.parseInt(logical.substring(1)));
        return paths(device).stream().filter(p -> address.equals(p.get("address"))).map(p -> (String) p.get("id"))
            .findFirst().orElseThrow(() -> new AssertionError("no path to " + logical + " (" + address + ")"));
    }

    Map<String, Object> pathOf(String logical) {
        return path(device, id(logical));
    }

    long iosOf(String logical) {
        return ios(device, id(logical));
    }

    long controllerIos(String controller) {
        return iosOf(controller + "0") + iosOf(controller + "1");
    }

    boolean quietly(java.util.concurrent.Callable<Boolean> check) {
        try {
            return check.call();
        } catch (Exception e) {
            return false;
        }
    }

    /** Opens the device and waits until all four ports are known (the array may still be linking up). */
    MultipathDevice open(MultipathConfig cfg) throws IOException, InterruptedException {
        assertTrue(array.awaitLinked(10_000), "the controllers linked up");
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

    private void assertClean(VerifiedWorkload w) throws IOException {
        assertEquals(0, w.errors.get(), "errors reached the application: " + w.problems());
        assertEquals(0, w.mismatches.get(), "reads returned wrong data: " + w.problems());
        assertEquals(0, w.verifyAll(), "blocks not holding their last acknowledged write");
    }

    @Test
    void discoversAllFourPathsFromOnePortalAndRegistersOnEach() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(config());
        List<Map<String, Object>> ps = paths(device);
        assertEquals(4, ps.size(), ps.toString());
        for (Map<String, Object> p : ps) {
            assertEquals("up", p.get("health"), p.toString());
        }
        assertEquals(List.of(id("A0"), id("A1")), ps.stream().filter(p -> (Boolean) p.get("inUse")).map(p -> p.get("id")).toList());
        assertEquals(64L << 20, device.info().sizeBytes());
        assertEquals(32, device.info().wwid().length());
        // Registered on B's ports too: an I/O through B (shipped) is accepted for this host id.
        byte[] data = VerifiedWorkload.content(3, 1);
        Fixture.write(device, 3 * 4096, data);
        device.setPathOffline(id("A0"), true);
        device.setPathOffline(id("A1"), true);
        assertArrayEquals(data, Fixture.read(device, 3 * 4096, 4096));
        assertTrue(controllerIos("B") > 0, "the read went through B");
    }

    @Test
    void ioStaysOnTheOptimizedGroupAndSpillsToNonOptimizedWhenItIsGone() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(config());
        VerifiedWorkload w = new VerifiedWorkload(device, 8, 2048);
        Thread.sleep(800);
        assertTrue(controllerIos("A") > 100, "I/O ran on A");
        assertEquals(0, controllerIos("B"), "nothing on the non-optimized group while A is usable");
        array.controller("A").setPortDown(arrayPort("A", 0), true);
        array.controller("A").setPortDown(arrayPort("A", 1), true);
        long before = controllerIos("B");
        Fixture.await("I/O on B", 10_000, () -> controllerIos("B") > before + 200);
        w.close();
        assertClean(w);
        assertEquals(IoErrorKind.OUT_OF_RANGE, assertThrows(BlockIoException.class,
            () -> Fixture.read(device, 64L << 20, 4096)).kind());
    }

    @Test
    void controllerKilledDuringMixedWorkloadLosesNothing() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(config());
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
        assertTrue(controllerIos("B") > 0);
        assertEquals("failed", pathOf("A0").get("health"));
    }

    @Test
    void pausedControllerIsDetectedByTimeoutAndFailedOver() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(config().ioTimeoutMillis(400));
        VerifiedWorkload w = new VerifiedWorkload(device, 8, 2048);
        Thread.sleep(500);
        array.controller("A").pause();
        long at = w.completed.get();
        Fixture.await("I/O after the pause", 15_000, () -> w.completed.get() > at + 500);
        w.close();
        assertClean(w);
        assertEquals("failed", pathOf("A0").get("health"));
        assertTrue(String.valueOf(pathOf("A0").get("reason")).matches(".*(no reply|probe).*"),
            String.valueOf(pathOf("A0").get("reason")));
    }

    @Test
    void immediateFailbackReturnsToTheRestoredOwner() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(config());
        VerifiedWorkload w = new VerifiedWorkload(device, 4, 1024);
        array.controller("A").kill();
        Fixture.await("I/O on B", 10_000, () -> controllerIos("B") > 100);
        array.controller("A").restart();
        Fixture.await("paths of A restored", 15_000, () -> "up".equals(pathOf("A0").get("health")));
        long onA = controllerIos("A");
        Fixture.await("I/O back on A", 15_000, () -> controllerIos("A") > onA + 100);
        w.close();
        assertClean(w);
    }

    @Test
    void manualFailbackStaysUntilAsked() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(config().failback(Failback.parse("manual")));
        VerifiedWorkload w = new VerifiedWorkload(device, 4, 1024);
        array.controller("A").kill();
        Fixture.await("I/O on B", 10_000, () -> controllerIos("B") > 100);
        array.controller("A").restart();
        Fixture.await("A optimized again", 15_000,
            () -> "up".equals(pathOf("A0").get("health")) && "optimized".equals(pathOf("A0").get("access")));
        Thread.sleep(500);
        long onA = controllerIos("A");
        Thread.sleep(500);
        assertEquals(onA, controllerIos("A"), "manual failback: I/O stays on B");
        device.failback();
        Fixture.await("I/O back on A", 10_000, () -> controllerIos("A") > onA + 100);
        w.close();
        assertClean(w);
    }

    @Test
    void noPathRetryFailFailsAtOnce() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(config());
        allPortsDown(true);
        Fixture.await("no usable path", 5000, () -> ((Number) device.status().get("usablePaths")).intValue() == 0);
        long t0 = System.nanoTime();
        BlockIoException e = assertThrows(BlockIoException.class, () -> Fixture.read(device, 0, 4096));
        assertEquals(IoErrorKind.NO_PATH, e.kind());
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L);
        assertTrue(e.getMessage().contains(id("A0")), e.getMessage());

        // a caller whose failure callback submits its next request at once (a workload loop) gets its failures
        // one after another, not nested in each other until its stack overflows
        java.util.concurrent.CountDownLatch chain = new java.util.concurrent.CountDownLatch(50_000);
        java.util.concurrent.atomic.AtomicInteger deepest = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<Throwable> odd = new java.util.concurrent.atomic.AtomicReference<>();
        io.jmpio.api.IoCallback[] next = new io.jmpio.api.IoCallback[1];
        next[0] = new io.jmpio.api.IoCallback() {
            @Override
            public void completed(io.netty.buffer.ByteBuf data) {
                data.release();
                odd.set(new AssertionError("a read succeeded with every port down"));
            }

            @Override
            public void failed(BlockIoException f) {
                deepest.accumulateAndGet(Thread.currentThread().getStackTrace().length, Math::max);
                chain.countDown();
                if (chain.getCount() > 0) {
                    device.read(0, 4096, next[0]);
                }
            }
        };
        device.read(0, 4096, next[0]);
        assertTrue(chain.await(60, TimeUnit.SECONDS), "the chain of failed reads ended early: " + chain.getCount() + " left");
        assertNull(odd.get());
        assertTrue(deepest.get() < 200, "failure callbacks nest: a stack " + deepest.get() + " frames deep");
    }

    @Test
    void noPathRetryQueueWaitsForAPathAndDetachReleasesQueuedRequests() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(config().noPathRetry(NoPathRetry.QUEUE));
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
        open(config().noPathRetry(NoPathRetry.parse("1")));
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
        open(config().marginalWindowMillis(500).marginalMinIos(10).marginalRecheckMillis(60_000));
        array.controller("A").setPortFlaky(arrayPort("A", 0), 0.3, "error");
        VerifiedWorkload w = new VerifiedWorkload(device, 8, 2048);
        Fixture.await("A0 marginal", 10_000, () -> Boolean.TRUE.equals(pathOf("A0").get("marginal")));
        Thread.sleep(200);
        long a0 = iosOf("A0");
        Thread.sleep(500);
        assertEquals(a0, iosOf("A0"), "no I/O on the marginal path while A1 is usable");
        assertTrue(iosOf("A1") > 0);
        w.close();
        assertClean(w);
    }

    @Test
    void policySwitchesDuringIo() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(config());
        VerifiedWorkload w = new VerifiedWorkload(device, 8, 2048);
        Thread.sleep(300);
        device.setPolicy("queue-length", Map.of());
        long at = w.completed.get();
        Fixture.await("I/O under queue-length", 5000, () -> w.completed.get() > at + 300);
        device.setPolicy("failover", Map.of());
        Thread.sleep(300);
        long a0 = iosOf("A0");
        long a1 = iosOf("A1");
        long done = w.completed.get();
        Fixture.await("I/O under failover", 5000, () -> w.completed.get() > done + 300);
        long moved0 = iosOf("A0") - a0;
        long moved1 = iosOf("A1") - a1;
        assertTrue(moved0 + moved1 > 0 && (moved0 == 0 || moved1 == 0),
            "failover policy keeps to one path, and I/O moves on it: " + moved0 + " and " + moved1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> device.setPolicy("fastest", Map.of()));
        assertTrue(e.getMessage().contains("unknown policy 'fastest'") && e.getMessage().contains("round-robin"), e.getMessage());
        assertEquals("failover", device.policyName());
        w.close();
        assertClean(w);
    }

    @Test
    void badRequestsAndBadAttachArgumentsGetClearErrors() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        IOException noLun = assertThrows(IOException.class, () -> MultipathDevice.open(config().lun("nope")));
        assertTrue(noLun.getMessage().contains(unknownTargetMessage()), noLun.getMessage());
        IllegalArgumentException badPolicy = assertThrows(IllegalArgumentException.class,
            () -> MultipathDevice.open(config().policy("fastest")));
        assertTrue(badPolicy.getMessage().contains("known: "), badPolicy.getMessage());
        IllegalArgumentException badOption = assertThrows(IllegalArgumentException.class,
            () -> MultipathDevice.open(config().policyOption("bogus", "1")));
        assertTrue(badOption.getMessage().contains("no option 'bogus'"), badOption.getMessage());
        IOException noPortal = assertThrows(IOException.class,
            () -> MultipathDevice.open(new MultipathConfig().transport(config().transport()).portal("127.0.0.1:1")
                .hostId("h")));
        assertTrue(noPortal.getMessage().contains("127.0.0.1:1"), noPortal.getMessage());
        open(config());
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
                array.controller(c).setPortDown(arrayPort(c, i), down);
            }
        }
    }
}
