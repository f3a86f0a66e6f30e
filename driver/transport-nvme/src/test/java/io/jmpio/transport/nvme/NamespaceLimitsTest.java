package io.jmpio.transport.nvme;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** What a controller's Identify data may claim, and what the host makes of it: never a zero or negative limit. */
class NamespaceLimitsTest {
    private static Namespace withMdts(int mdts) {
        return new Namespace(1, 1, 1 << 20, 512, "00", true, mdts, 0, true, 0, 128, 1, 1, 10);
    }

    @Test
    void everyMdtsGivesATransferLimitBetween4KiBAnd8MiB() {
        assertEquals(Namespace.DEFAULT_MAX_TRANSFER, withMdts(0).maxTransferBytes(), "0: no limit, the driver's own");
        assertEquals(4096 << 1, withMdts(1).maxTransferBytes());
        assertEquals(4 << 20, withMdts(10).maxTransferBytes());
        for (int mdts = 11; mdts <= 255; mdts++) {
            assertEquals(8 << 20, withMdts(mdts).maxTransferBytes(), "MDTS " + mdts + " (2^52 x 4 KiB overflowed to 0)");
        }
    }
}
