package io.jmpio.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.api.BlockIoException;
import io.jmpio.emu.array.ArrayServer;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The device suite over NVMe/TCP (paths from the discovery log of one port, grouped by ANA state, named by
 * port id: "P1", "P2" on A, "P17", "P18" on B), plus what only NVMe has.
 */
class NvmeTransportDeviceTest extends MultipathDeviceTest {
    @Override
    MultipathConfig config() throws IOException {
        return Fixture.deviceConfig(array);
    }

    @Override
    String arrayPort(String controller, int index) {
        return Fixture.port(array, controller, index);
    }

    @Override
    String unknownTargetMessage() {
        return "subsystem nope is not in the discovery log";
    }

    /**
     * Manual failback over ANA: paths are grouped by state, so when the array moves the namespace the groups
     * follow it. What manual failback holds back is a return to optimized paths that come back after failing
     * while I/O went to the non-optimized ones.
     */
    @Override
    @Test
    void manualFailbackStaysUntilAsked() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(config().failback(Failback.parse("manual")));
        VerifiedWorkload w = new VerifiedWorkload(device, 4, 1024);
        Fixture.await("I/O on A", 10_000, () -> controllerIos("A") > 100);
        for (int i = 0; i < 2; i++) {
            array.controller("A").setPortDown(arrayPort("A", i), true);
        }
        Fixture.await("I/O on B", 10_000, () -> controllerIos("B") > 100);
        for (int i = 0; i < 2; i++) {
            array.controller("A").setPortDown(arrayPort("A", i), false);
        }
        Fixture.await("A's paths back, optimized", 15_000,
            () -> "up".equals(pathOf("A0").get("health")) && "optimized".equals(pathOf("A0").get("access")));
        long onA = controllerIos("A");
        long onB = controllerIos("B");
        Fixture.await("I/O still moving on B", 5_000, () -> controllerIos("B") > onB + 200);
        assertEquals(onA, controllerIos("A"), "manual failback: I/O stays on the non-optimized paths");
        device.failback();
        Fixture.await("I/O back on A", 10_000, () -> controllerIos("A") > onA + 100);
        w.close();
        assertEquals(0, w.errors.get(), String.valueOf(w.problems()));
        assertEquals(0, w.verifyAll());
    }

    @Test
    void pathsAreNamedByPortIdAndTheAttachSaysWhatItFound() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(config());
        assertEquals(List.of("P1", "P2", "P17", "P18"), List.of(id("A0"), id("A1"), id("B0"), id("B1")));
        assertEquals("nvme-tcp", device.status().get("transport"));
        assertEquals(array.metadata().load().byName("lun0").wwid(), device.info().wwid(), "the NGUID is the LUN's WWID");
        String events = String.valueOf(device.status().get("events"));
        assertTrue(events.contains("namespace 1 through " + arrayPort("A", 0)), events);
    }

    @Test
    void aNamespaceReplacedUnderItsNsidFailsThePathsInsteadOfTakingTheDevicesWrites() throws Exception {
        array = ArrayServer.start(Fixture.arrayConfig(dir));
        open(config());
        Fixture.write(device, 0, VerifiedWorkload.content(1, 1));
        io.jmpio.emu.controller.Controller a = array.controller("A");
        a.deleteLun("lun0");
        a.createLun(io.jmpio.emu.array.LunSpec.parse("other:64M:A", "A", "file"));
        assertEquals(0, array.metadata().load().byName("other").id(), "the new LUN is NSID 1 too");
        // the deletion alone makes the paths unusable for a moment (the namespace is gone): wait for the verdict
        // on the namespace created under its NSID, which is what must fail them
        Fixture.await("every path failed: NSID 1 is another namespace now", 15_000,
            () -> ((Number) device.status().get("usablePaths")).intValue() == 0
                && String.valueOf(pathOf("A0").get("reason")).contains("another namespace"));
        String reason = String.valueOf(pathOf("A0").get("reason"));
        assertTrue(reason.contains("another namespace"), reason);
        assertThrows(BlockIoException.class, () -> Fixture.write(device, 4096, VerifiedWorkload.content(2, 1)));
        io.jmpio.emu.controller.IoResult r = a.hostIo(0, io.jmpio.emu.controller.Opcode.READ, false, 0, 8192, null, 0)
            .get(5, java.util.concurrent.TimeUnit.SECONDS);
        byte[] got = new byte[8192];
        r.data().readBytes(got);
        r.releaseData();
        assertArrayEquals(new byte[8192], got, "the new LUN holds nothing written through the old device");
    }
}
