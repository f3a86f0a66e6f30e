package io.jmpio.bridge.ublk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.api.KernelBridgeProvider;
import io.jmpio.nativeio.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every control-plane error path says what is wrong and what to do, checked here on a host without ublk:
 * the missing control device for real, the kernel's refusals through the same reporting the live path uses,
 * and a command the kernel never answers (a URING_CMD on /dev/null answers, so a file that does not
 * implement it stands in for a wrong device) through the real ring.
 */
class UblkControlTest {
    @TempDir
    Path tmp;

    @Test
    void missingControlDeviceSaysToLoadTheModule() {
        if (Files.exists(Path.of(UblkLayout.CONTROL_PATH))) {
            return; // a ublk host: the guest tier covers it
        }
        IOException e = assertThrows(IOException.class, () -> UblkControl.open(UblkLayout.CONTROL_PATH, 1000));
        assertEquals("no /dev/ublk-control: load ublk_drv (modprobe ublk_drv; kernel >= 6.0 built with CONFIG_BLK_DEV_UBLK)",
            e.getMessage());
        KernelBridgeProvider.Availability a = new UblkBridgeProvider().availability();
        assertTrue(!a.usable() && a.reason().contains("load ublk_drv"), a.reason());
        IOException start = assertThrows(IOException.class, () -> new UblkBridgeProvider().start(null, java.util.Map.of()));
        assertTrue(start.getMessage().contains("load ublk_drv"), start.getMessage());
    }

    @Test
    void permissionAndRefusalMessages() {
        assertEquals("/dev/ublk-control: permission denied: ublk needs root (CAP_SYS_ADMIN)",
            UblkControl.openError("/dev/ublk-control", Native.EACCES));
        assertEquals("ublk ADD_DEV: permission denied: ublk needs root (CAP_SYS_ADMIN)",
            UblkControl.failure("ADD_DEV", -1, -Native.EPERM, 0).getMessage());
        assertEquals("ublk ADD_DEV: the kernel refused the request (EINVAL); flags asked for: "
                + "USER_RECOVERY|CMD_IOCTL_ENCODE|USER_COPY|USER_RECOVERY_FAIL_IO - an older ublk_drv may not know some of them",
            UblkControl.failure("ADD_DEV", -1, -Native.EINVAL,
                UblkLayout.F_USER_RECOVERY | UblkLayout.F_CMD_IOCTL_ENCODE | UblkLayout.F_USER_COPY
                    | UblkLayout.F_USER_RECOVERY_FAIL_IO).getMessage());
        assertEquals("ublk START_DEV (device 3): no answer from the kernel in time",
            UblkControl.failure("START_DEV", 3, -Native.ETIME, 0).getMessage());
        assertEquals("ublk GET_DEV_INFO (device 9): no such ublk device",
            UblkControl.failure("GET_DEV_INFO", 9, -Native.ENODEV, 0).getMessage());
    }

    @Test
    void aCommandOnADeviceWithoutUringCmdFailsWithItsErrnoAndNeverHangs() throws Exception {
        Path notUblk = Files.writeString(tmp.resolve("not-ublk"), "");
        try (UblkControl c = UblkControl.open(notUblk.toString(), 2000)) {
            long t0 = System.nanoTime();
            IOException e = assertThrows(IOException.class, () -> c.start(0, 1));
            assertEquals("ublk START_DEV (device 0): not supported by this kernel's ublk_drv (EOPNOTSUPP)", e.getMessage());
            assertTrue(c.legacyOpcodes() == false, "EOPNOTSUPP for both encodings does not switch to legacy numbers");
            assertTrue(System.nanoTime() - t0 < 2_000_000_000L);
            assertEquals(-1, c.features(), "no GET_FEATURES: features unknown");
        }
    }

    @Test
    void badOptionsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> UblkBridgeProvider.number("0", "depth", 128, 1, 4096));
        assertEquals("ublk option depth must be a number in 1..4096, got '0'", e.getMessage());
        assertEquals(128, UblkBridgeProvider.number("", "depth", 128, 1, 4096));
    }
}
