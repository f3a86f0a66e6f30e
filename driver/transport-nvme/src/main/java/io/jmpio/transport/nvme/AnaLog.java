package io.jmpio.transport.nvme;

import io.jmpio.transport.AccessState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The ANA log page (0x0C) as one controller reports it: the state of the group a namespace belongs to.
 *
 * <pre>
 * Header (16 B):     0 CHGCNT u64 | 8 NGRPS u16
 * Group descriptor:  0 ANAGRPID u32 | 4 NNSID u32 | 8 CHGCNT u64 | 16 STATE u8 (1 optimized, 2 non-optimized,
 *                    3 inaccessible, 4 persistent loss, 0xF change) | 32 NSIDs (u32 each)
 * </pre>
 */
final class AnaLog {
    private AnaLog() {
    }

    /** Bytes to read: the header, {@code groups} descriptors and up to {@code namespaces} NSIDs in all. */
    static int length(int groups, int namespaces) {
        return 16 + 32 * groups + 4 * namespaces;
    }

    /** The state of group {@code anagrpid} (the namespace's); INACCESSIBLE when the log does not list it. */
    static AccessState stateOf(byte[] log, int anagrpid) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(log).order(ByteOrder.LITTLE_ENDIAN);
        if (log.length < 16) {
            throw new IOException("ANA log of " + log.length + " bytes");
        }
        int groups = b.getShort(8) & 0xFFFF;
        int at = 16;
        for (int g = 0; g < groups; g++) {
            if (at + 32 > log.length) {
                throw new IOException("ANA log overruns its " + log.length + " bytes at group " + g);
            }
            int id = b.getInt(at);
            long nnsid = b.getInt(at + 4) & 0xFFFFFFFFL;
            int state = b.get(at + 16) & 0xFF;
            if (nnsid > (log.length - at - 32) / 4) {
                throw new IOException("ANA group " + id + " lists " + nnsid + " namespaces past the log's end");
            }
            if (id == anagrpid) {
                return of(state);
            }
            at += 32 + 4 * (int) nnsid;
        }
        return AccessState.INACCESSIBLE;
    }

    static AccessState of(int state) throws IOException {
        switch (state) {
            case 0x01: return AccessState.OPTIMIZED;
            case 0x02: return AccessState.NON_OPTIMIZED;
            case 0x03: return AccessState.INACCESSIBLE;
            case 0x04: return AccessState.PERSISTENT_LOSS;
            case 0x0F: return AccessState.CHANGE;
            default: throw new IOException("ANA state 0x" + Integer.toHexString(state) + " is not one the specification defines");
        }
    }
}
