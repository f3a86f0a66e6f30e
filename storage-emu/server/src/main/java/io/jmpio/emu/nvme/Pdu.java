package io.jmpio.emu.nvme;

import io.netty.buffer.ByteBuf;

/**
 * One NVMe/TCP PDU as received: its type and flags, its header (hlen bytes, from the common header on) and
 * its data (empty when none). Layouts (little-endian):
 *
 * <pre>
 *  common header (8 bytes), first in every PDU
 *  +---------------+---------------+---------------+---------------+
 *  |   type (u8)   |  flags (u8)   |   hlen (u8)   |   pdo (u8)    |  0
 *  +---------------+---------------+---------------+---------------+
 *  |        plen (u32): hlen + header digest + pad + data + data digest  |  4
 *  +---------------------------------------------------------------+
 *
 *  ICReq / ICResp (hlen 128)       CapsuleCmd (hlen 72)         CapsuleResp (hlen 24)
 *   8 PFV u16                        8 SQE (64 bytes)              8 CQE (16 bytes)
 *  10 HPDA / CPDA u8
 *  11 DGST u8 (bit0 header, bit1 data)
 *  12 MAXR2T (req) / MAXH2CDATA (resp) u32
 *
 *  H2CData / C2HData / R2T (hlen 24)          C2HTermReq (hlen 24, then the offending header)
 *   8 CCCID u16                               8 FES u16
 *  10 TTAG u16 (H2CData, R2T)                10 FEI u32
 *  12 DATAO / R2TO u32
 *  16 DATAL / R2TL u32
 * </pre>
 */
record Pdu(int type, int flags, ByteBuf header, ByteBuf data, boolean dataDigestBad) {
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
    static final int FLAG_DATA_LAST = 0x04;
    static final int FLAG_DATA_SUCCESS = 0x08;

    static final int TYPE_OFFSET = 0;
    static final int FLAGS_OFFSET = 1;
    static final int HLEN_OFFSET = 2;
    static final int PDO_OFFSET = 3;
    static final int PLEN_OFFSET = 4;
    static final int COMMON_LENGTH = 8;

    static final int IC_LENGTH = 128;
    static final int IC_PFV_OFFSET = 8;
    static final int IC_PDA_OFFSET = 10;
    static final int IC_DGST_OFFSET = 11;
    static final int IC_MAX_OFFSET = 12;

    static final int CMD_LENGTH = 72;
    static final int CMD_SQE_OFFSET = 8;
    static final int RESP_LENGTH = 24;
    static final int RESP_CQE_OFFSET = 8;

    static final int DATA_HEADER_LENGTH = 24;
    static final int DATA_CCCID_OFFSET = 8;
    static final int DATA_TTAG_OFFSET = 10;
    static final int DATA_OFFSET_OFFSET = 12;
    static final int DATA_LENGTH_OFFSET = 16;

    static final int TERM_LENGTH = 24;
    static final int TERM_FES_OFFSET = 8;
    static final int TERM_FEI_OFFSET = 10;
    /** Most of the offending header a TermReq carries. */
    static final int TERM_MAX_HEADER = 128;

    /** Fatal error status of a TermReq. */
    static final int FES_INVALID_HEADER_FIELD = 1;
    static final int FES_PDU_SEQUENCE = 2;
    static final int FES_HEADER_DIGEST = 3;
    static final int FES_DATA_OUT_OF_RANGE = 4;
    static final int FES_DATA_LIMIT_EXCEEDED = 5;
    static final int FES_UNSUPPORTED_PARAMETER = 6;

    /** The hlen each PDU type a host may send must have. */
    static int hostHeaderLength(int type) {
        switch (type) {
            case IC_REQ: return IC_LENGTH;
            case H2C_TERM_REQ: return TERM_LENGTH;
            case CAPSULE_CMD: return CMD_LENGTH;
            case H2C_DATA: return DATA_HEADER_LENGTH;
            default: return -1;
        }
    }

    void release() {
        header.release();
        data.release();
    }
}
