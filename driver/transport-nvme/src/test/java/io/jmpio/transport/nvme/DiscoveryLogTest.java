package io.jmpio.transport.nvme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Discovery log entries as a target writes them (NVMe over Fabrics, Discovery Log Page Entry). */
class DiscoveryLogTest {
    private static void entry(ByteBuffer b, int i, int trtype, int adrfam, int subtype, int treq, int portId,
                              String svc, String nqn, String addr) {
        int at = i * DiscoveryLog.RECORD;
        b.put(at, (byte) trtype).put(at + 1, (byte) adrfam).put(at + 2, (byte) subtype).put(at + 3, (byte) treq);
        b.putShort(at + 4, (short) portId);
        b.put(at + 32, svc.getBytes(StandardCharsets.US_ASCII));
        b.put(at + 256, nqn.getBytes(StandardCharsets.US_ASCII));
        b.put(at + 512, addr.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void entriesSayWhereWhichSubsystemAndWhetherSqFlowControlMayBeDisabled() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * DiscoveryLog.RECORD).order(ByteOrder.LITTLE_ENDIAN);
        entry(b, 0, 3, 1, 2, 0x04, 1, "4420", "nqn.test:a", "127.0.0.1");
        entry(b, 1, 3, 2, 2, 0x01, 2, "4421", "nqn.test:a", "::1");       // secure channel required, flow control kept
        entry(b, 2, 1, 1, 2, 0x04, 3, "4422", "nqn.test:a", "127.0.0.1"); // RDMA: not ours, skipped
        entry(b, 3, 3, 1, 1, 0x00, 4, "8009", "nqn.2014-08.org.nvmexpress.discovery", "127.0.0.1");
        List<DiscoveryLog.Entry> entries = DiscoveryLog.parse(b.array(), 4, "test");
        assertEquals(3, entries.size());
        assertEquals(new DiscoveryLog.Entry(2, "127.0.0.1:4420", "nqn.test:a", 1, true), entries.get(0));
        assertEquals("[::1]:4421", entries.get(1).address());
        assertFalse(entries.get(1).sqFlowDisable(), "TREQ bit 2 clear");
        assertEquals(DiscoveryLog.SUBTYPE_REFERRAL, entries.get(2).subtype());
        assertFalse(entries.get(2).sqFlowDisable());
    }

    @Test
    void anEntryWithoutAnAddressOrWithABadServiceIdIsNamed() {
        ByteBuffer b = ByteBuffer.allocate(DiscoveryLog.RECORD).order(ByteOrder.LITTLE_ENDIAN);
        entry(b, 0, 3, 1, 2, 0, 1, "44x0", "nqn.test:a", "127.0.0.1");
        IOException e = assertThrows(IOException.class, () -> DiscoveryLog.parse(b.array(), 1, "portal:1"));
        assertTrue(e.getMessage().contains("44x0") && e.getMessage().contains("portal:1"), e.getMessage());
    }

    @Test
    void whatAHostileTargetWritesIntoTheLogIsRefusedByNameAndDefused() {
        String[][] bad = {
            {"99999", "127.0.0.1", "nqn.test:a", "service id '99999'"},
            {"0", "127.0.0.1", "nqn.test:a", "service id '0'"},
            {"4420", "evil host/x", "nqn.test:a", "bad host"},
            {"4420", "127.0.0.1\u001b[2J", "nqn.test:a", "bad host in '127.0.0.1?[2J:4420'"},
            {"4420", "127.0.0.1", "nqn.test:\nforged log line", "subsystem NQN 'nqn.test:?forged log line'"},
        };
        for (String[] c : bad) {
            ByteBuffer b = ByteBuffer.allocate(DiscoveryLog.RECORD).order(ByteOrder.LITTLE_ENDIAN);
            entry(b, 0, 3, 1, 2, 0, 1, c[0], c[2], c[1]);
            IOException e = assertThrows(IOException.class, () -> DiscoveryLog.parse(b.array(), 1, "portal:1"));
            assertTrue(e.getMessage().contains(c[3]) && e.getMessage().contains("portal:1"), e.getMessage());
        }
    }
}
