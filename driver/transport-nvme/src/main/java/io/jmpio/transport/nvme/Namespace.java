package io.jmpio.transport.nvme;

import io.jmpio.transport.TargetInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One namespace as Identify describes it through one controller, with what the host needs of that controller.
 *
 * <pre>
 * Identify Controller: 76 CMIC u8 (bit3 ANA) | 77 MDTS u8 (2^n x 4 KiB, 0 unlimited) | 78 CNTLID u16
 *   512 SQES | 514 MAXCMD u16 | 516 NN u32 | 520 ONCS u16 (bit2 DSM, bit3 Write Zeroes) | 525 VWC u8
 *   342 ANATT u8 (s) | 344 ANAGRPMAX u32 | 348 NANAGRPID u32 | 540 MNAN u32 | 768 SUBNQN | 1792 IOCCSZ u32 (16 B units)
 * Identify Namespace: 0 NSZE u64 | 8 NCAP u64 | 26 FLBAS u8 | 30 NMIC u8 | 92 ANAGRPID u32 | 104 NGUID (16 B)
 *   120 EUI64 (8 B) | 128 LBAF[n] (4 B each: 0 MS u16, 2 LBADS u8)
 * Namespace identification descriptors (CNS 3): NIDT u8 | NIDL u8 | 2 reserved | NIDL bytes (1 EUI64, 2 NGUID, 3 UUID)
 * </pre>
 */
record Namespace(int nsid, int anagrpid, long blocks, int blockSize, String id, boolean ana, int mdts, int oncs,
                 boolean volatileWriteCache, int inCapsuleLimit, int maxCommands, int nanagrpid, int nn, int anattSeconds) {
    /** The largest transfer the driver sends in one command when the controller sets no limit. */
    static final int DEFAULT_MAX_TRANSFER = 1 << 20;

    /** Reads the namespace {@code nsid} (0: the controller's first active one) through {@code q}. */
    static Namespace read(AdminQueue q, int nsid) throws IOException {
        byte[] ctrl = q.controllerData();
        ByteBuffer c = ByteBuffer.wrap(ctrl).order(ByteOrder.LITTLE_ENDIAN);
        int nn = c.getInt(516);
        if (nsid == 0) {
            byte[] list = q.identify(2, 0);
            nsid = ByteBuffer.wrap(list).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
            if (nsid == 0) {
                throw new IOException(q.address() + " shows this host no namespace (is the host allowed?)");
            }
        }
        byte[] ns = q.identifyNamespace(0, nsid);
        ByteBuffer n = ns == null ? null : ByteBuffer.wrap(ns).order(ByteOrder.LITTLE_ENDIAN);
        if (n == null || n.getLong(8) == 0 || n.getLong(0) == 0) {
            throw new NotVisible("namespace " + nsid + " is not active on " + q.address() + " for this host");
        }
        long nsze = n.getLong(0);
        int lbaf = n.get(26) & 0xF;
        int lbads = n.get(128 + 4 * lbaf + 2) & 0xFF;
        if (lbads < 9 || lbads > 12) {
            throw new IOException("namespace " + nsid + ": block size 2^" + lbads + " is not one the driver serves");
        }
        if (nsze < 0 || nsze > Long.MAX_VALUE >> lbads) {
            throw new IOException("namespace " + nsid + " on " + q.address() + ": size of " + Long.toUnsignedString(nsze)
                + " blocks of 2^" + lbads + " bytes is more than any device can be");
        }
        String id = hex(ns, 104, 16);
        if (id.matches("0+")) {
            id = descriptorId(q.identify(3, nsid));
        }
        if (id == null) {
            String eui = hex(ns, 120, 8);
            id = eui.matches("0+") ? null : eui + "0000000000000000";
        }
        if (id == null) {
            throw new IOException("namespace " + nsid + " on " + q.address() + " has no NGUID, UUID or EUI-64 to recognise it by on every path");
        }
        int cmic = ctrl[76] & 0xFF;
        int ioccsz = c.getInt(1792);
        int inCapsule = ioccsz >= 4 ? Math.max(0, ioccsz * 16 - 64) : 0;
        return new Namespace(nsid, n.getInt(92), nsze, 1 << lbads, id, (cmic & 8) != 0, ctrl[77] & 0xFF,
            c.getShort(520) & 0xFFFF, (ctrl[525] & 1) != 0, inCapsule, c.getShort(514) & 0xFFFF, c.getInt(348), nn,
            ctrl[342] & 0xFF);
    }

    /** The controller does not show this host the namespace (masking, or no such namespace). */
    static final class NotVisible extends IOException {
        NotVisible(String message) {
            super(message);
        }
    }

    private static String descriptorId(byte[] d) {
        int at = 0;
        String uuid = null;
        while (at + 4 <= d.length) {
            int type = d[at] & 0xFF;
            int len = d[at + 1] & 0xFF;
            if (type == 0 || at + 4 + len > d.length) {
                break;
            }
            if (type == 2 && len == 16) {
                return hex(d, at + 4, 16);
            }
            if (type == 3 && len == 16) {
                uuid = hex(d, at + 4, 16);
            }
            at += 4 + len;
        }
        return uuid;
    }

    static String hex(byte[] b, int at, int len) {
        StringBuilder sb = new StringBuilder();
        for (int i = at; i < at + len; i++) {
            sb.append(String.format("%02x", b[i] & 0xFF));
        }
        return sb.toString();
    }

    long sizeBytes() {
        return blocks * blockSize;
    }

    int maxTransferBytes() {
        // 2^11 x 4 KiB is already the 8 MiB the driver caps at; larger MDTS values would overflow the shift
        return mdts == 0 ? DEFAULT_MAX_TRANSFER : mdts >= 11 ? 8 << 20 : (int) ((1L << mdts) * 4096);
    }

    TargetInfo target(String subnqn) {
        boolean vwc = volatileWriteCache;
        return new TargetInfo(id, subnqn + " namespace " + nsid, sizeBytes(), blockSize, blockSize, maxTransferBytes(), vwc,
            (oncs & 4) != 0, (oncs & 8) != 0, vwc, anattSeconds * 1000L);
    }

    /** Bytes of the ANA log that hold every group and namespace this controller can report. */
    int anaLogLength() {
        int groups = Math.max(1, Math.min(nanagrpid, 1024));
        return (AnaLog.length(groups, Math.max(1, Math.min(nn, 4096))) + 3) / 4 * 4;
    }
}
