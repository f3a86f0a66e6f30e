package io.jmpio.emu.nvme;

import io.netty.buffer.ByteBuf;

/**
 * The 64-byte submission queue entry inside a CapsuleCmd (NVMe base spec, fabrics variant), read in place.
 *
 * <pre>
 *   0 OPC u8 | 1 FUSE 1:0, PSDT 7:6 u8 | 2 CID u16
 *   4 NSID u32 (Fabrics: FCTYPE u8 at 4)
 *   8 CDW2..3 | 16 MPTR
 *  24 SGL: address u64 | 32 length u32 | 39 identifier u8 (type 7:4, subtype 3:0)
 *  40 CDW10 | 44 CDW11 | 48 CDW12 | 52 CDW13 | 56 CDW14 | 60 CDW15
 * </pre>
 */
final class Sqe {
    static final int LENGTH = 64;
    static final int OPC = 0;
    static final int FLAGS = 1;
    static final int CID = 2;
    static final int NSID = 4;
    static final int FCTYPE = 4;
    static final int SGL_ADDRESS = 24;
    static final int SGL_LENGTH = 32;
    static final int SGL_ID = 39;
    static final int CDW10 = 40;
    static final int CDW11 = 44;
    static final int CDW12 = 48;
    static final int CDW13 = 52;
    static final int CDW14 = 56;

    /** SGL identifiers the Linux host uses: transport data block (data by R2T/C2HData), in-capsule offset. */
    static final int SGL_TRANSPORT_DATA_BLOCK = 0x5A;
    static final int SGL_DATA_BLOCK_OFFSET = 0x01;

    private final ByteBuf b;
    private final int base;

    Sqe(ByteBuf pduHeader) {
        this.b = pduHeader;
        this.base = pduHeader.readerIndex() + Pdu.CMD_SQE_OFFSET;
    }

    int opcode() {
        return b.getUnsignedByte(base + OPC);
    }

    int flags() {
        return b.getUnsignedByte(base + FLAGS);
    }

    int cid() {
        return b.getUnsignedShortLE(base + CID);
    }

    int nsid() {
        return b.getIntLE(base + NSID);
    }

    int fctype() {
        return b.getUnsignedByte(base + FCTYPE);
    }

    long sglAddress() {
        return b.getLongLE(base + SGL_ADDRESS);
    }

    long sglLength() {
        return b.getUnsignedIntLE(base + SGL_LENGTH);
    }

    int sglId() {
        return b.getUnsignedByte(base + SGL_ID);
    }

    int dw(int offset) {
        return b.getIntLE(base + offset);
    }

    int u8(int offset) {
        return b.getUnsignedByte(base + offset);
    }

    int u16(int offset) {
        return b.getUnsignedShortLE(base + offset);
    }

    long u64(int offset) {
        return b.getLongLE(base + offset);
    }

    /** The first 64 bytes, for the TermReq or a log. */
    ByteBuf slice() {
        return b.slice(base, LENGTH);
    }
}
