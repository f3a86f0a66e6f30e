package io.jmpio.emu.nvme;

import io.jmpio.netty.ConnectionGuard;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The one codec of NVMe/TCP PDUs on a controller's connection: frames what the host sends into {@link Pdu}s
 * after checking the common header, the header length of the type, the size limit and the header digest;
 * and builds every PDU the controller sends. Digests are CRC32C, little-endian, once negotiated by ICReq.
 */
final class PduCodec extends ByteToMessageDecoder {
    private final int maxData;
    private boolean headerDigest;
    private boolean dataDigest;
    private boolean failed;

    /** @param maxData the most data one PDU may carry (in-capsule limit or MAXH2CDATA, whichever is larger) */
    PduCodec(int maxData) {
        this.maxData = maxData;
    }

    /** Digests as ICReq/ICResp settled them; applies to every later PDU both ways. */
    void digests(boolean header, boolean data) {
        this.headerDigest = header;
        this.dataDigest = data;
    }

    boolean headerDigest() {
        return headerDigest;
    }

    boolean dataDigest() {
        return dataDigest;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        try {
            while (!failed && in.readableBytes() >= Pdu.COMMON_LENGTH) {
                Pdu p = decodeOne(in);
                if (p == null) {
                    return;
                }
                out.add(p);
            }
            if (failed) {
                in.skipBytes(in.readableBytes());
            }
        } finally {
            ConnectionGuard.buffered(ctx.channel(), in.readableBytes());
        }
    }

    private Pdu decodeOne(ByteBuf in) {
        int base = in.readerIndex();
        int type = in.getUnsignedByte(base + Pdu.TYPE_OFFSET);
        int flags = in.getUnsignedByte(base + Pdu.FLAGS_OFFSET);
        int hlen = in.getUnsignedByte(base + Pdu.HLEN_OFFSET);
        int pdo = in.getUnsignedByte(base + Pdu.PDO_OFFSET);
        long plen = in.getUnsignedIntLE(base + Pdu.PLEN_OFFSET);
        int expected = Pdu.hostHeaderLength(type);
        if (expected < 0) {
            throw fail(Pdu.FES_INVALID_HEADER_FIELD, Pdu.TYPE_OFFSET, "PDU type 0x" + Integer.toHexString(type)
                + " is not one a host sends");
        }
        if (hlen != expected) {
            throw fail(Pdu.FES_INVALID_HEADER_FIELD, Pdu.HLEN_OFFSET, "PDU type 0x" + Integer.toHexString(type)
                + " with hlen " + hlen + " (must be " + expected + ")");
        }
        boolean digestable = type != Pdu.IC_REQ && type != Pdu.H2C_TERM_REQ;
        int hd = digestable && headerDigest ? 4 : 0;
        if (hd != 0 && (flags & Pdu.FLAG_HDGST) == 0) {
            throw fail(Pdu.FES_INVALID_HEADER_FIELD, Pdu.FLAGS_OFFSET, "header digest negotiated but HDGSTF not set");
        }
        if (plen < hlen + hd) {
            throw fail(Pdu.FES_INVALID_HEADER_FIELD, Pdu.PLEN_OFFSET, "plen " + plen + " shorter than its header");
        }
        if (plen > (long) hlen + hd + 255 + maxData + 4) {
            throw fail(Pdu.FES_DATA_LIMIT_EXCEEDED, Pdu.PLEN_OFFSET, "PDU of " + plen + " bytes exceeds the limit of "
                + maxData + " data bytes");
        }
        if (in.readableBytes() < plen) {
            return null;
        }
        if (hd != 0) {
            int want = crc(in, base, hlen);
            int got = in.getIntLE(base + hlen);
            if (want != got) {
                throw fail(Pdu.FES_HEADER_DIGEST, 0, String.format("header digest 0x%08x, computed 0x%08x", got, want));
            }
        }
        int dataStart = hlen + hd;
        boolean hasData = plen > dataStart;
        int dd = hasData && dataDigest && digestable ? 4 : 0;
        if (hasData && digestable) {
            if (pdo != 0) {
                if (pdo < dataStart || pdo > plen) {
                    throw fail(Pdu.FES_INVALID_HEADER_FIELD, Pdu.PDO_OFFSET, "PDO " + pdo + " outside the PDU");
                }
                dataStart = pdo;
            }
            if (dd != 0 && (flags & Pdu.FLAG_DDGST) == 0) {
                throw fail(Pdu.FES_INVALID_HEADER_FIELD, Pdu.FLAGS_OFFSET, "data digest negotiated but DDGSTF not set");
            }
        }
        long dataLength = plen - dataStart - dd;
        if (dataLength < 0) {
            throw fail(Pdu.FES_INVALID_HEADER_FIELD, Pdu.PLEN_OFFSET, "plen " + plen + " too short for its digests");
        }
        boolean digestBad = false;
        if (dd != 0) {
            digestBad = crc(in, base + dataStart, (int) dataLength) != in.getIntLE(base + dataStart + (int) dataLength);
        }
        Pdu p = new Pdu(type, flags, in.retainedSlice(base, hlen), in.retainedSlice(base + dataStart, (int) dataLength),
            digestBad);
        in.skipBytes((int) plen);
        return p;
    }

    private PduException fail(int fes, int fei, String message) {
        failed = true;
        return new PduException(fes, fei, message);
    }

    static int crc(ByteBuf b, int index, int length) {
        CRC32C c = new CRC32C();
        if (b.hasArray()) {
            c.update(b.array(), b.arrayOffset() + index, length);
        } else {
            c.update(b.nioBuffer(index, length));
        }
        return (int) c.getValue();
    }

    // ------------------------------------------------------------------------------------------------
    // What the controller sends

    /** ICResp: PFV 0, CPDA 0, the digests granted, MAXH2CDATA. Never digested. */
    static ByteBuf icResp(ByteBufAllocator alloc, int digestBits, int maxH2CData) {
        ByteBuf b = alloc.buffer(Pdu.IC_LENGTH);
        b.writeByte(Pdu.IC_RESP).writeByte(0).writeByte(Pdu.IC_LENGTH).writeByte(0).writeIntLE(Pdu.IC_LENGTH);
        b.writeShortLE(0).writeByte(0).writeByte(digestBits).writeIntLE(maxH2CData);
        b.writeZero(Pdu.IC_LENGTH - b.writerIndex());
        return b;
    }

    /** A PDU with a 24-byte header (CapsuleResp, R2T, C2HData) and optional data, digested as negotiated. */
    ByteBuf pdu24(ByteBufAllocator alloc, int type, int flags, ByteBuf header16, ByteBuf data) {
        boolean hasData = data != null && data.isReadable();
        int dd = hasData && dataDigest ? 4 : 0;
        ByteBuf h = header24(alloc, type, flags, header16, hasData ? data.readableBytes() : 0, dd != 0);
        if (!hasData) {
            if (data != null) {
                data.release();
            }
            return h;
        }
        CompositeByteBuf c = alloc.compositeBuffer(3);
        c.addComponent(true, h);
        c.addComponent(true, data);
        if (dd != 0) {
            c.addComponent(true, alloc.buffer(4).writeIntLE(crc(data, data.readerIndex(), data.readableBytes())));
        }
        return c;
    }

    /**
     * Writes (without flushing) a 24-byte-header PDU that carries {@code data}: the header, the data and its
     * digest as writes of their own, so the data is neither copied nor wrapped in a composite buffer.
     */
    void write24(ChannelHandlerContext ctx, int type, int flags, ByteBuf header16, ByteBuf data) {
        int dd = dataDigest && data.isReadable() ? 4 : 0;
        int digest = dd != 0 ? crc(data, data.readerIndex(), data.readableBytes()) : 0;
        ctx.write(header24(ctx.alloc(), type, flags, header16, data.readableBytes(), dd != 0), ctx.voidPromise());
        ctx.write(data, ctx.voidPromise());
        if (dd != 0) {
            ctx.write(ctx.alloc().buffer(4).writeIntLE(digest), ctx.voidPromise());
        }
    }

    /** The 24-byte header (plus its digest) of a PDU whose data is {@code dataLength} bytes; releases {@code header16}. */
    private ByteBuf header24(ByteBufAllocator alloc, int type, int flags, ByteBuf header16, int dataLength,
                             boolean dataDigested) {
        int hd = headerDigest ? 4 : 0;
        int dd = dataDigested ? 4 : 0;
        int plen = 24 + hd + dataLength + dd;
        ByteBuf h = alloc.buffer(24 + hd);
        int f = flags | (hd != 0 ? Pdu.FLAG_HDGST : 0) | (dd != 0 ? Pdu.FLAG_DDGST : 0);
        h.writeByte(type).writeByte(f).writeByte(24).writeByte(dataLength > 0 ? 24 + hd : 0).writeIntLE(plen);
        h.writeBytes(header16, header16.readerIndex(), 16);
        header16.release();
        if (hd != 0) {
            h.writeIntLE(crc(h, 0, 24));
        }
        return h;
    }

    /** C2HTermReq: FES, FEI and up to 128 bytes of the offending header; never digested. */
    static ByteBuf termReq(ByteBufAllocator alloc, int fes, int fei, ByteBuf offending) {
        int n = offending == null ? 0 : Math.min(offending.readableBytes(), Pdu.TERM_MAX_HEADER);
        ByteBuf b = alloc.buffer(Pdu.TERM_LENGTH + n);
        b.writeByte(Pdu.C2H_TERM_REQ).writeByte(0).writeByte(Pdu.TERM_LENGTH).writeByte(n == 0 ? 0 : Pdu.TERM_LENGTH)
            .writeIntLE(Pdu.TERM_LENGTH + n);
        b.writeShortLE(fes).writeIntLE(fei).writeZero(Pdu.TERM_LENGTH - b.writerIndex());
        if (n > 0) {
            b.writeBytes(offending, offending.readerIndex(), n);
        }
        return b;
    }
}
