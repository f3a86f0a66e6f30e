package io.jmpio.emu.nvme;

import io.jmpio.emu.array.LunRecord;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/**
 * The 4096-byte Identify data structures (NVMe base spec, Identify command): controller (CNS 01h), namespace
 * (CNS 00h), active namespace list (CNS 02h) and namespace identification descriptors (CNS 03h). Offsets are
 * the spec's; each field is written where it is named.
 */
final class IdentifyData {
    static final int LENGTH = 4096;
    /** Logical block size of every namespace. */
    static final int BLOCK = 512;
    /** Namespaces (and ANA groups, one per namespace) a controller can expose. */
    static final int MAX_NAMESPACES = 128;
    /** Largest transfer: 2^MDTS pages of 4 KiB (4 MiB, the array's maximum transfer). */
    static final int MDTS = 10;
    static final int MAX_TRANSFER = (1 << MDTS) * 4096;
    /** Entries per queue (MQES + 1). */
    static final int QUEUE_ENTRIES = 128;
    /** Bytes of data a CapsuleCmd may carry on an I/O queue. */
    static final int IN_CAPSULE_DATA = 16384;
    static final int ANATT_SECONDS = 10;

    private IdentifyData() {
    }

    static byte[] controller(int cntlid, String serial, String subnqn, boolean discovery) {
        ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        ascii(b, 4, 20, serial);                             // SN
        ascii(b, 24, 40, "jmpio storage-emu");              // MN
        ascii(b, 64, 8, "0.1");                             // FR
        b.put(72, (byte) 6);                                // RAB
        b.put(76, (byte) (discovery ? 0 : 0x0B));           // CMIC: multi-port, multi-controller, ANA
        b.put(77, (byte) MDTS);
        b.putShort(78, (short) cntlid);
        b.putInt(80, 0x00010400);                           // VER 1.4
        b.putInt(92, discovery ? 1 << 31 : (1 << 8) | (1 << 11)); // OAES: NS attribute + ANA change notices
        b.put(111, (byte) (discovery ? 2 : 1));             // CNTRLTYPE
        b.put(258, (byte) 3);                               // ACL
        b.put(259, (byte) (NvmeController.AER_LIMIT - 1));  // AERL
        b.put(260, (byte) 1);                               // FRMW
        b.put(261, (byte) 0);                               // LPA: no effects log
        b.put(262, (byte) 63);                              // ELPE: 64 error log entries
        b.putShort(320, (short) 10);                        // KAS: 100 ms units
        if (!discovery) {
            b.put(342, (byte) ANATT_SECONDS);               // ANATT
            b.put(343, (byte) 0x0F);                        // ANACAP: optimized, non-optimized, inaccessible, loss
            b.putInt(344, MAX_NAMESPACES);                  // ANAGRPMAX
            b.putInt(348, MAX_NAMESPACES);                  // NANAGRPID
        }
        b.put(512, (byte) 0x66);                            // SQES
        b.put(513, (byte) 0x44);                            // CQES
        b.putShort(514, (short) QUEUE_ENTRIES);             // MAXCMD
        b.putInt(516, discovery ? 0 : MAX_NAMESPACES);      // NN
        b.putShort(520, (short) (discovery ? 0 : (1 << 2) | (1 << 3) | (1 << 5))); // ONCS: DSM, Write Zeroes, Reservations
        b.put(525, (byte) (discovery ? 0 : 5));             // VWC present; Flush of NSID FFFFFFFFh not supported (10b)
        b.putInt(536, 0x00100001);                          // SGLS: supported, offsets
        b.putInt(540, discovery ? 0 : MAX_NAMESPACES);      // MNAN
        ascii0(b, 768, 256, subnqn);                        // SUBNQN
        b.putInt(1792, (64 + IN_CAPSULE_DATA) / 16);        // IOCCSZ
        b.putInt(1796, 1);                                  // IORCSZ
        b.putShort(1800, (short) 0);                        // ICDOFF
        b.put(1802, (byte) 0);                              // FCATT: dynamic controller model
        b.put(1803, (byte) 1);                              // MSDBD
        return b.array();
    }

    static byte[] namespace(LunRecord r, int nsid) {
        ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        long blocks = r.bytes() / BLOCK;
        b.putLong(0, blocks);                               // NSZE
        b.putLong(8, blocks);                               // NCAP
        b.putLong(16, blocks);                              // NUSE
        b.put(24, (byte) 0);                                // NSFEAT
        b.put(25, (byte) 0);                                // NLBAF: one format
        b.put(26, (byte) 0);                                // FLBAS: format 0
        b.put(30, (byte) 1);                                // NMIC: shared
        b.put(31, (byte) 0x7F);                             // RESCAP: persist through power loss, types 1-6
        b.putInt(92, nsid);                                 // ANAGRPID: one group per namespace
        b.put(104, nguid(r));                               // NGUID
        b.putInt(128, 9 << 16);                             // LBAF0: MS 0, LBADS 9 (512), RP 0
        return b.array();
    }

    /** Active NSIDs above {@code after}, ascending, at most 1024. */
    static byte[] activeList(List<Integer> nsids, int after) {
        ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        int i = 0;
        for (int n : nsids) {
            if (Integer.compareUnsigned(n, after) > 0 && i < 1024) {
                b.putInt(4 * i++, n);
            }
        }
        return b.array();
    }

    /** NGUID and UUID descriptors: the same on both controllers, so hosts merge the paths. */
    static byte[] descriptors(LunRecord r) {
        ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, (byte) 2).put(1, (byte) 16).put(4, nguid(r));
        b.put(20, (byte) 3).put(21, (byte) 16).put(24, uuid(r));
        return b.array();
    }

    /** The LUN's 16-byte WWID from the array metadata, as the NGUID. */
    static byte[] nguid(LunRecord r) {
        byte[] out = new byte[16];
        String w = r.wwid();
        for (int i = 0; i < 16; i++) {
            out[i] = (byte) Integer.parseInt(w.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    static byte[] uuid(LunRecord r) {
        UUID u = UUID.nameUUIDFromBytes(("jmpio-lun-" + r.wwid()).getBytes(StandardCharsets.US_ASCII));
        return ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
    }

    private static void ascii(ByteBuffer b, int at, int len, String s) {
        byte[] t = s.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < len; i++) {
            b.put(at + i, i < t.length ? t[i] : (byte) ' ');
        }
    }

    private static void ascii0(ByteBuffer b, int at, int len, String s) {
        byte[] t = s.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < Math.min(len - 1, t.length); i++) {
            b.put(at + i, t[i]);
        }
    }
}
