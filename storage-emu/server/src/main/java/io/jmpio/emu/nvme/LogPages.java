package io.jmpio.emu.nvme;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Log pages (NVMe base spec, Get Log Page): SMART / health (02h), changed namespace list (04h), ANA (0Ch)
 * and the discovery log (70h). Each is built whole; the command slices [offset, offset + length).
 */
final class LogPages {
    static final int ERROR = 0x01;
    static final int SMART = 0x02;
    static final int CHANGED_NS = 0x04;
    static final int ANA = 0x0C;
    static final int DISCOVERY = 0x70;

    private LogPages() {
    }

    /** One ANA group: its id, state and namespaces (one per namespace here, so id = NSID). */
    record AnaGroup(int id, int state, int[] nsids) {
    }

    /**
     * ANA log: header CHGCNT @0 (u64), NGRPS @8 (u16), 16 bytes; per group ANAGRPID @0, NNSID @4, CHGCNT @8,
     * STATE @16, then the NSIDs from @32 (omitted with RGO, "return groups only").
     */
    static byte[] ana(long changeCount, List<AnaGroup> groups, boolean groupsOnly) {
        int size = 16;
        for (AnaGroup g : groups) {
            size += 32 + (groupsOnly ? 0 : 4 * g.nsids().length);
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(changeCount).putShort((short) groups.size()).position(16);
        for (AnaGroup g : groups) {
            int at = b.position();
            b.putInt(g.id()).putInt(groupsOnly ? 0 : g.nsids().length).putLong(changeCount).put((byte) g.state());
            b.position(at + 32);
            if (!groupsOnly) {
                for (int n : g.nsids()) {
                    b.putInt(n);
                }
            }
        }
        return b.array();
    }

    /** SMART / health information, 512 bytes: temperature, and the host read/write counters. */
    static byte[] smart(long readBytes, long writtenBytes, long reads, long writes) {
        ByteBuffer b = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(1, (short) 308);                          // composite temperature, kelvin
        b.put(3, (byte) 100);                                // available spare
        b.put(4, (byte) 10);                                 // spare threshold
        b.putLong(32, (readBytes + 511_999) / 512_000);      // data units read (1000 × 512 bytes)
        b.putLong(48, (writtenBytes + 511_999) / 512_000);   // data units written
        b.putLong(64, reads);                                // host read commands
        b.putLong(80, writes);                               // host write commands
        return b.array();
    }

    /** Changed namespace list: up to 1024 NSIDs, zero-filled, 4096 bytes. */
    static byte[] changedNamespaces(int[] nsids) {
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < Math.min(nsids.length, 1024); i++) {
            b.putInt(4 * i, nsids[i]);
        }
        return b.array();
    }

    /** One NVMe/TCP port of the subsystem, as a discovery log entry. */
    record DiscoveryEntry(int portId, String host, int port, String subnqn) {
    }

    /**
     * Discovery log: header GENCTR @0 (u64), NUMREC @8 (u64), RECFMT @16 (u16), 1024 bytes; then 1024-byte
     * entries: TRTYPE @0 (3 TCP), ADRFAM @1, SUBTYPE @2 (2 NVM subsystem), TREQ @3, PORTID @4, CNTLID @6
     * (FFFFh dynamic), ASQSZ @8, TRSVCID @32, SUBNQN @256, TRADDR @512, TSAS @768 (SECTYPE 0 none).
     */
    /** TREQ bit 2: hosts may disable SQ flow control at Connect (secure channel bits 1:0: not specified). */
    static final int TREQ_SQ_FLOW_DISABLE = 0x04;

    static byte[] discovery(long generation, List<DiscoveryEntry> entries) {
        ByteBuffer b = ByteBuffer.allocate(1024 * (1 + entries.size())).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, generation).putLong(8, entries.size()).putShort(16, (short) 0);
        int at = 1024;
        for (DiscoveryEntry e : entries) {
            boolean v6 = e.host().contains(":");
            b.put(at, (byte) 3).put(at + 1, (byte) (v6 ? 2 : 1)).put(at + 2, (byte) 2).put(at + 3, (byte) TREQ_SQ_FLOW_DISABLE);
            b.putShort(at + 4, (short) e.portId()).putShort(at + 6, (short) 0xFFFF).putShort(at + 8, (short) 32);
            text(b, at + 32, 32, Integer.toString(e.port()));
            text(b, at + 256, 256, e.subnqn());
            text(b, at + 512, 256, e.host());
            at += 1024;
        }
        return b.array();
    }

    private static void text(ByteBuffer b, int at, int len, String s) {
        byte[] t = s.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < Math.min(len - 1, t.length); i++) {
            b.put(at + i, t[i]);
        }
    }
}
