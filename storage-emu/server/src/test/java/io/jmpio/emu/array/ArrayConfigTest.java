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
}
