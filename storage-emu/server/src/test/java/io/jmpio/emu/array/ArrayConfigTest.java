package io.jmpio.emu.array;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settings that would make the array misbehave are refused before it starts, naming the setting and the value. */
class ArrayConfigTest {
    @TempDir
    Path dir;

    @Test
    void aHeartbeatTimeoutUnderTwoIntervalsIsRefusedBeforeTheArrayStarts() {
        ArrayConfig cfg = new ArrayConfig().dataDir(dir).basePort(0).heartbeatIntervalMillis(100).heartbeatTimeoutMillis(150);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ArrayServer.start(cfg));
        assertTrue(e.getMessage().contains("heartbeat timeout (150 ms)") && e.getMessage().contains("(100 ms)"),
            e.getMessage());
        assertDoesNotThrow(() -> new ArrayConfig().heartbeatIntervalMillis(100).heartbeatTimeoutMillis(200).validate());
    }

    @Test
    void negativeDelaysAndCountsAreRefusedNotClamped() {
        IllegalArgumentException delay = assertThrows(IllegalArgumentException.class,
            () -> new ArrayConfig().failbackDelayMillis(-1));
        assertTrue(delay.getMessage().contains("failback delay must not be negative, got -1"), delay.getMessage());
        IllegalArgumentException ios = assertThrows(IllegalArgumentException.class,
            () -> new ArrayConfig().autoTransferMinIos(-3));
        assertTrue(ios.getMessage().contains("got -3"), ios.getMessage());
        assertDoesNotThrow(() -> new ArrayConfig().failbackDelayMillis(0).autoTransferMinIos(0));
    }

    @Test
    void aLunNamedTwiceIsRefusedNotDropped() {
        ArrayConfig cfg = new ArrayConfig().lun(LunSpec.parse("lun0:1G:A", "A", "file"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> cfg.lun(LunSpec.parse("lun0:2G:B", "A", "file")));
        assertTrue(e.getMessage().contains("LUN 'lun0' is given twice"), e.getMessage());
        assertDoesNotThrow(() -> cfg.lun(LunSpec.parse("lun1:1G:B", "A", "file")));
    }

    @Test
    void aListenAddressThisHostDoesNotHaveIsRefusedBeforeTheDataDirectoryIsTouched() {
        Path data = dir.resolve("array");
        for (String[] bad : new String[][] {
            {"999.1.1.1", "front-end listen address (--listen) '999.1.1.1' is not an address or a name that resolves"},
            {"a b", "is not an address"},
            {"192.0.2.1", "(192.0.2.1) is not an address of this host"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ArrayServer.start(new ArrayConfig().dataDir(data).basePort(0).listenAddress(bad[0])));
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
        IllegalArgumentException admin = assertThrows(IllegalArgumentException.class,
            () -> new ArrayConfig().adminListenAddress("192.0.2.1").validate());
        assertTrue(admin.getMessage().contains("--admin-listen"), admin.getMessage());
        assertTrue(!java.nio.file.Files.exists(data), "nothing was made");
        assertDoesNotThrow(() -> new ArrayConfig().listenAddress("0.0.0.0").linkListenAddress("localhost").validate());
    }
}
