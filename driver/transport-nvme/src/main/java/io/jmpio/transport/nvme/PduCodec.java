package io.jmpio.transport.nvme;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The host side of the NVMe/TCP wire format, in one place: PDUs to the controller (ICReq, CapsuleCmd,
 * H2CData, H2CTermReq) are built here, and PDUs from it are framed, checked (type, header length, sizes,
 * digests) and handed on as {@link Pdu}s by {@link Decoder}. Layouts are drawn on {@link Pdu}.
 */
final class PduCodec {
    /** Largest data one PDU from the controller may carry (a read is at most the MDTS we accept, 8 MiB). */
    static final int MAX_DATA = 8 << 20;

    private boolean headerDigest;
    private boolean dataDigest;

    /** Digests in force, once ICResp granted them. */
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

    static ByteBuf icReq(ByteBufAllocator alloc, boolean headerDigest, boolean dataDigest) {
        ByteBuf b = alloc.buffer(Pdu.IC_LENGTH);
        b.writeByte(Pdu.IC_REQ).writeByte(0).writeByte(Pdu.IC_LENGTH).writeByte(0).writeIntLE(Pdu.IC_LENGTH);
        b.writeShortLE(0);                                    // PFV 0
        b.writeByte(0);                                       // HPDA 0: no padding
        b.writeByte((headerDigest ? 1 : 0) | (dataDigest ? 2 : 0));
        b.writeIntLE(0);                                      // MAXR2T 0: one R2T at a time per command
        b.writeZero(Pdu.IC_LENGTH - 16);
        return b;
    }

    /**
     * Writes a command capsule: the 64-byte SQE ({@code sqe}: copied, not consumed, so the command keeps it), then
     * the in-capsule data when given (a retained slice: released once written).
     */
    void writeCapsule(Channel ch, ByteBuf sqe, ByteBuf inCapsule) {
        writePdu(ch, Pdu.CAPSULE_CMD, 0, sqe, inCapsule);
    }

    /** Writes one H2CData PDU answering an R2T: {@code data} (a retained slice) at {@code offset} of the command's data. */
    void writeH2cData(Channel ch, int cid, int ttag, long offset, ByteBuf data, boolean last) {
        ByteBuf h = ch.alloc().buffer(16);
        h.writeShortLE(cid).writeShortLE(ttag).writeIntLE((int) offset).writeIntLE(data.readableBytes()).writeIntLE(0);
        try {
            writePdu(ch, Pdu.H2C_DATA, last ? Pdu.FLAG_LAST : 0, h, data);
        } finally {
            h.release();
        }
    }

    /**
     * Header (the common part, then {@code specific}, copied) + header digest, then the data and its digest as
     * writes of their own: no composite buffer per PDU, the data never copied.
     */
    private void writePdu(Channel ch, int type, int flags, ByteBuf specific, ByteBuf data) {
        int hlen = Pdu.COMMON_LENGTH + specific.readableBytes();
        int dlen = data == null ? 0 : data.readableBytes();
        int hd = headerDigest ? 4 : 0;
        int dd = dataDigest && dlen > 0 ? 4 : 0;
        int plen = hlen + hd + dlen + dd;
        ByteBuf head = ch.alloc().buffer(hlen + hd);
        head.writeByte(type).writeByte(flags | (hd != 0 ? Pdu.FLAG_HDGST : 0) | (dd != 0 ? Pdu.FLAG_DDGST : 0))
            .writeByte(hlen).writeByte(dlen > 0 ? hlen + hd : 0).writeIntLE(plen);
        copyInto(head, specific, specific.readerIndex(), specific.readableBytes());
        if (hd != 0) {
            head.writeIntLE(crc(head, 0, hlen));
        }
        ch.write(head, ch.voidPromise());
        if (dlen == 0) {
            return;
        }
        int digest = dd != 0 ? crc(data, data.readerIndex(), dlen) : 0;
        ch.write(data, ch.voidPromise());
        if (dd != 0) {
            ch.write(ch.alloc().buffer(4).writeIntLE(digest), ch.voidPromise());
        }
    }

    /**
     * Appends {@code length} bytes at {@code at} of {@code from} to {@code to}, 8 at a time: headers are at most
     * 128 bytes, and a buffer-to-buffer copy between heap and pooled direct memory would make a view object or two
     * each time.
     */
    static void copyInto(ByteBuf to, ByteBuf from, int at, int length) {
        int end = at + length;
        for (; at + 8 <= end; at += 8) {
            to.writeLong(from.getLong(at));
        }
        for (; at < end; at++) {
            to.writeByte(from.getByte(at));
        }
    }

    /** CRC32C (as NVMe/TCP digests use it: standard inversion), of {@code len} bytes at {@code at}. */
    static int crc(ByteBuf b, int at, int len) {
        CRC32C c = new CRC32C();
        if (b.nioBufferCount() == 1) {
            c.update(b.nioBuffer(at, len));
        } else {
            for (ByteBuffer part : b.nioBuffers(at, len)) {
                c.update(part);
            }
        }
        return (int) c.getValue();
    }

    /**
     * Frames the controller's PDUs; a malformed one ends the connection with a {@link NvmeTransportException}.
     * One PDU per {@code decode} call, so each reaches the next handler before the next is framed into the same
     * {@link Pdu} (the next handler must consume it in {@code channelRead}).
     */
    final class Decoder extends ByteToMessageDecoder {
        private final Pdu pdu = new Pdu();

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            if (in.readableBytes() >= Pdu.COMMON_LENGTH) {
                int at = in.readerIndex();
                int type = in.getUnsignedByte(at + Pdu.TYPE_OFFSET);
                int flags = in.getUnsignedByte(at + Pdu.FLAGS_OFFSET);
                int hlen = in.getUnsignedByte(at + Pdu.HLEN_OFFSET);
                long plen = in.getUnsignedIntLE(at + Pdu.PLEN_OFFSET);
                int want = Pdu.headerLength(type);
                if (want < 0 || type == Pdu.IC_REQ || type == Pdu.CAPSULE_CMD || type == Pdu.H2C_DATA
                    || type == Pdu.H2C_TERM_REQ) {
                    throw new NvmeTransportException("the controller sent " + Pdu.name(type) + ", which a host never receives");
                }
                if (hlen != want) {
                    throw new NvmeTransportException(Pdu.name(type) + " with header length " + hlen + " (" + want + " expected)");
                }
                boolean ic = type == Pdu.IC_RESP;
                int hd = !ic && type != Pdu.C2H_TERM_REQ && headerDigest ? 4 : 0;
                boolean hasData = type == Pdu.C2H_DATA || type == Pdu.C2H_TERM_REQ;
                long minPlen = hlen + hd;
                long maxPlen = hasData ? minPlen + MAX_DATA + 4 : minPlen;
                if (type == Pdu.C2H_TERM_REQ) {
                    maxPlen = minPlen + 128;
                }
                if (plen < minPlen || plen > maxPlen) {
                    throw new NvmeTransportException(Pdu.name(type) + " with PDU length " + plen + " (header " + hlen + ")");
                }
                if (in.readableBytes() < plen) {
                    return;
                }
                if (hd != 0) {
                    if ((flags & Pdu.FLAG_HDGST) == 0) {
                        throw new NvmeTransportException(Pdu.name(type) + " without the header digest that was agreed");
                    }
                    if (in.getIntLE(at + hlen) != crc(in, at, hlen)) {
                        throw new NvmeTransportException(Pdu.name(type) + ": header digest error");
                    }
                }
                int dd = type == Pdu.C2H_DATA && dataDigest ? 4 : 0;
                int dataStart = hlen + hd;
                int dataLen = (int) (plen - dataStart - dd);
                if (dataLen < 0) {
                    throw new NvmeTransportException(Pdu.name(type) + " too short for its data digest");
                }
                // a data digest error fails the command (retried elsewhere), not the connection: the PDU goes on,
                // marked, so that the command still ends where the controller ends it
                boolean digestBad = dd != 0 && in.getIntLE(at + dataStart + dataLen) != crc(in, at + dataStart, dataLen);
                ByteBuf data = dataLen == 0 ? Unpooled.EMPTY_BUFFER : in.retainedSlice(at + dataStart, dataLen);
                out.add(pdu.fill(type, flags, in, at, hlen, data).dataDigestBad(digestBad));
                in.skipBytes((int) plen);
            }
        }
    }
}
