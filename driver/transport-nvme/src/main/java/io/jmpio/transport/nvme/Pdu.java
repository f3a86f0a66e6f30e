package io.jmpio.transport.nvme;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * One NVMe/TCP PDU as received: its type and flags, its header (the whole fixed header, common part
 * included, digest stripped) and its data (empty when none), released by {@link #release}. The decoder owns
 * one and fills it again for every PDU (a receive allocates nothing of its own): the handler after the decoder
 * reads it before {@code channelRead} returns and keeps only the data, retained.
 *
 * <pre>
 * Common header (8 B), every PDU:
 *   0 type u8 | 1 flags u8 (0 HDGSTF, 1 DDGSTF, 2 LAST, 3 SUCCESS) | 2 hlen u8 | 3 pdo u8 | 4 plen u32
 * ICReq / ICResp (hlen 128):            8 pfv u16 | 10 hpda/cpda u8 | 11 dgst u8 | 12 maxr2t / maxh2cdata u32
 * CapsuleCmd (72): 8 SQE (64 B)         CapsuleResp (24): 8 CQE (16 B)
 * H2CData / C2HData / R2T (24):         8 cccid u16 | 10 ttag u16 | 12 datao / r2to u32 | 16 datal / r2tl u32
 * C2HTermReq (24):                      8 fes u16 | 10 fei u32 | then the offending header
 * </pre>
 */
final class Pdu {
    static final int IC_REQ = 0x00;
    static final int IC_RESP = 0x01;
    static final int H2C_TERM_REQ = 0x02;
    static final int C2H_TERM_REQ = 0x03;
    static final int CAPSULE_CMD = 0x04;
    static final int CAPSULE_RESP = 0x05;
    static final int H2C_DATA = 0x06;
    static final int C2H_DATA = 0x07;
    static final int R2T = 0x09;

    static final int FLAG_HDGST = 0x01;
    static final int FLAG_DDGST = 0x02;
    static final int FLAG_LAST = 0x04;
    static final int FLAG_SUCCESS = 0x08;

    static final int COMMON_LENGTH = 8;
    static final int IC_LENGTH = 128;
    static final int CAPSULE_CMD_LENGTH = 72;
    static final int SHORT_LENGTH = 24;

    static final int TYPE_OFFSET = 0;
    static final int FLAGS_OFFSET = 1;
    static final int HLEN_OFFSET = 2;
    static final int PDO_OFFSET = 3;
    static final int PLEN_OFFSET = 4;
    /** ICResp. */
    static final int IC_PFV_OFFSET = 8;
    static final int IC_CPDA_OFFSET = 10;
    static final int IC_DGST_OFFSET = 11;
    static final int IC_MAXH2CDATA_OFFSET = 12;
    /** CapsuleResp: the CQE starts here. */
    static final int CQE_OFFSET = 8;
    /** C2HData, R2T. */
    static final int DATA_CCCID_OFFSET = 8;
    static final int DATA_TTAG_OFFSET = 10;
    static final int DATA_OFFSET_OFFSET = 12;
    static final int DATA_LENGTH_OFFSET = 16;
    /** C2HTermReq. */
    static final int TERM_FES_OFFSET = 8;

    /** The fixed header length each type must have. */
    static int headerLength(int type) {
        switch (type) {
            case IC_REQ:
            case IC_RESP:
                return IC_LENGTH;
            case CAPSULE_CMD:
                return CAPSULE_CMD_LENGTH;
            case H2C_TERM_REQ:
            case C2H_TERM_REQ:
            case CAPSULE_RESP:
            case H2C_DATA:
            case C2H_DATA:
            case R2T:
                return SHORT_LENGTH;
            default:
                return -1;
        }
    }

    static String name(int type) {
        switch (type) {
            case IC_REQ: return "ICReq";
            case IC_RESP: return "ICResp";
            case H2C_TERM_REQ: return "H2CTermReq";
            case C2H_TERM_REQ: return "C2HTermReq";
            case CAPSULE_CMD: return "CapsuleCmd";
            case CAPSULE_RESP: return "CapsuleResp";
            case H2C_DATA: return "H2CData";
            case C2H_DATA: return "C2HData";
            case R2T: return "R2T";
            default: return "PDU type 0x" + Integer.toHexString(type);
        }
    }

    private final ByteBuf header = Unpooled.buffer(IC_LENGTH, IC_LENGTH);
    private int type;
    private int flags;
    private ByteBuf data = Unpooled.EMPTY_BUFFER;
    private boolean dataDigestBad;

    /** This PDU becomes the one whose {@code hlen}-byte header is at {@code at} of {@code from}; it owns {@code data}. */
    Pdu fill(int type, int flags, ByteBuf from, int at, int hlen, ByteBuf data) {
        this.type = type;
        this.flags = flags;
        PduCodec.copyInto(header.clear(), from, at, hlen); // no view object per PDU
        this.data = data;
        this.dataDigestBad = false;
        return this;
    }

    /** Marks the data as having failed its digest (the header is good: it passed its own, or none was agreed). */
    Pdu dataDigestBad(boolean bad) {
        dataDigestBad = bad;
        return this;
    }

    boolean dataDigestBad() {
        return dataDigestBad;
    }

    int type() {
        return type;
    }

    int flags() {
        return flags;
    }

    ByteBuf header() {
        return header;
    }

    ByteBuf data() {
        return data;
    }

    /** Releases the data (the header is the decoder's, used again). */
    void release() {
        ByteBuf d = data;
        data = Unpooled.EMPTY_BUFFER;
        d.release();
    }
}
