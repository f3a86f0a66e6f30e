package io.jmpio.transport.nvme;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * Builds the 64-byte submission queue entries this host sends, and holds the opcodes and status codes it
 * knows (NVMe base spec 2.x, NVMe over Fabrics, include/linux/nvme.h).
 *
 * <pre>
 *  0 OPC u8 | 1 FUSE/PSDT u8 (0x40: SGLs) | 2 CID u16 | 4 NSID u32 (Fabrics: 4 FCTYPE u8)
 *  8 CDW2-3 | 16 MPTR | 24 SGL: address u64 @24, length u32 @32, identifier u8 @39
 * 40 CDW10 | 44 CDW11 | 48 CDW12 | 52 CDW13 | 56 CDW14 | 60 CDW15
 * CQE (16 B): 0 DW0 | 4 DW1 | 8 SQHD u16 | 10 SQID u16 | 12 CID u16 | 14 status u16 (bit0 phase, 8:1 SC, 11:9 SCT, 15 DNR)
 * </pre>
 */
final class Sqe {
    static final int LENGTH = 64;
    static final int CID_OFFSET = 2;
    static final int NSID_OFFSET = 4;
    static final int SGL_ADDRESS_OFFSET = 24;
    static final int SGL_LENGTH_OFFSET = 32;
    static final int SGL_ID_OFFSET = 39;
    static final int CDW10 = 40;
    static final int CDW11 = 44;
    static final int CDW12 = 48;
    static final int CDW13 = 52;
    static final int CDW14 = 56;

    /** SGL identifiers: data in the capsule at offset 0; data moved by R2T/H2CData or C2HData. */
    static final int SGL_IN_CAPSULE = 0x01;
    static final int SGL_TRANSPORT = 0x5A;

    // Admin opcodes
    static final int ADMIN_GET_LOG = 0x02;
    static final int ADMIN_IDENTIFY = 0x06;
    static final int ADMIN_SET_FEATURES = 0x09;
    static final int ADMIN_ASYNC_EVENT = 0x0C;
    static final int ADMIN_KEEP_ALIVE = 0x18;
    static final int FABRICS = 0x7F;
    static final int FCTYPE_PROPERTY_SET = 0x00;
    static final int FCTYPE_CONNECT = 0x01;
    static final int FCTYPE_PROPERTY_GET = 0x04;
    /** Connect: SQSIZE u16 @44, CATTR u8 @46 (bit 2: SQ flow control disabled), KATO u32 @48. */
    static final int CATTR_DISABLE_SQ_FLOW = 0x04;
    // I/O opcodes
    static final int IO_FLUSH = 0x00;
    static final int IO_WRITE = 0x01;
    static final int IO_READ = 0x02;
    static final int IO_WRITE_ZEROES = 0x08;
    static final int IO_DSM = 0x09;

    // Log pages, features, properties
    static final int LOG_ANA = 0x0C;
    static final int LOG_CHANGED_NS = 0x04;
    static final int LOG_DISCOVERY = 0x70;
    static final int FEAT_NUM_QUEUES = 0x07;
    static final int FEAT_ASYNC_EVENT = 0x0B;
    static final int PROP_CAP = 0x00;
    static final int PROP_CC = 0x14;
    static final int PROP_CSTS = 0x1C;

    static final String DISCOVERY_NQN = "nqn.2014-08.org.nvmexpress.discovery";

    private final ByteBuf b;

    private Sqe(ByteBufAllocator alloc, int opcode) {
        b = clear(alloc.buffer(LENGTH, LENGTH).writerIndex(LENGTH), opcode);
    }

    /** {@code b}'s 64 bytes become an SQE of {@code opcode} (SGLs for data), every other field zero. */
    static ByteBuf clear(ByteBuf b, int opcode) {
        b.setZero(0, LENGTH);
        b.setByte(0, opcode);
        b.setByte(1, 0x40);
        return b;
    }

    static Sqe of(ByteBufAllocator alloc, int opcode) {
        return new Sqe(alloc, opcode);
    }

    Sqe nsid(int nsid) {
        b.setIntLE(NSID_OFFSET, nsid);
        return this;
    }

    Sqe dw(int offset, int value) {
        b.setIntLE(offset, value);
        return this;
    }

    Sqe u64(int offset, long value) {
        b.setLongLE(offset, value);
        return this;
    }

    Sqe u8(int offset, int value) {
        b.setByte(offset, value);
        return this;
    }

    Sqe u16(int offset, int value) {
        b.setShortLE(offset, value);
        return this;
    }

    /** The SGL for {@code length} bytes of data: in the capsule, or moved by the transport. */
    Sqe sgl(int identifier, long length) {
        b.setLongLE(SGL_ADDRESS_OFFSET, 0);
        b.setIntLE(SGL_LENGTH_OFFSET, (int) length);
        b.setByte(SGL_ID_OFFSET, identifier);
        return this;
    }

    ByteBuf buf() {
        return b;
    }

    /** The 1024-byte Connect data: host identifier, controller id, subsystem and host NQNs. */
    static ByteBuf connectData(ByteBufAllocator alloc, byte[] hostId, int cntlid, String subnqn, String hostnqn) {
        ByteBuf d = alloc.buffer(1024, 1024);
        d.writeZero(1024);
        d.setBytes(0, hostId, 0, 16);
        d.setShortLE(16, cntlid);
        byte[] s = subnqn.getBytes(StandardCharsets.US_ASCII);
        byte[] h = hostnqn.getBytes(StandardCharsets.US_ASCII);
        if (s.length > 223 || h.length > 223) {
            throw new IllegalArgumentException("an NQN is at most 223 characters");
        }
        d.setBytes(256, s);
        d.setBytes(512, h);
        return d;
    }

    // ------------------------------------------------------------------------------------------------
    // Status

    /** The 15-bit status of a CQE: SC 7:0, SCT 10:8, DNR bit 14 (kernel NVME_SC_* style: wire status >> 1). */
    static int status(int wire) {
        return wire >>> 1 & 0x7FFF;
    }

    static final int DNR = 0x4000;
    static final int SC_DATA_TRANSFER_ERROR = 0x004;
    static final int SC_LBA_RANGE = 0x080;
    static final int SC_NS_NOT_READY = 0x082;
    static final int SC_RESERVATION_CONFLICT = 0x083;
    static final int SC_INVALID_OPCODE = 0x001;
    static final int SC_INVALID_FIELD = 0x002;
    static final int SC_INVALID_NS = 0x00B;
    static final int SCT_PATH = 0x300;

    static String describe(int status) {
        int code = status & 0x7FF;
        String name;
        switch (code) {
            case 0: name = "success"; break;
            case 0x001: name = "invalid opcode"; break;
            case 0x002: name = "invalid field"; break;
            case 0x004: name = "data transfer error"; break;
            case 0x006: name = "internal error"; break;
            case 0x00B: name = "invalid namespace"; break;
            case 0x080: name = "LBA out of range"; break;
            case 0x081: name = "capacity exceeded"; break;
            case 0x082: name = "namespace not ready"; break;
            case 0x083: name = "reservation conflict"; break;
            case 0x180: name = "connect: incompatible format"; break;
            case 0x181: name = "connect: controller busy"; break;
            case 0x182: name = "connect: invalid parameter"; break;
            case 0x184: name = "connect: invalid host"; break;
            case 0x280: name = "write fault"; break;
            case 0x281: name = "unrecovered read error"; break;
            case 0x300: name = "internal path error"; break;
            case 0x301: name = "ANA persistent loss"; break;
            case 0x302: name = "ANA inaccessible"; break;
            case 0x303: name = "ANA transition"; break;
            case 0x370: name = "host pathing error"; break;
            default: name = "status";
        }
        return name + " (0x" + Integer.toHexString(code) + ((status & DNR) != 0 ? ", DNR" : "") + ")";
    }
}
