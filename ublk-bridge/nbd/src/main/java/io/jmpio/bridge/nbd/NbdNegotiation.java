package io.jmpio.bridge.nbd;

import static io.jmpio.bridge.nbd.NbdProtocol.*;

import io.jmpio.api.DeviceInfo;
import io.jmpio.netty.PeerText;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.nio.charset.StandardCharsets;

/**
 * The fixed newstyle negotiation of one connection, after the server's greeting: the client's flags, then its
 * options one at a time (list, info, go, structured replies, meta contexts, STARTTLS) answered as the protocol
 * says, until the client picks the export and transmission starts, or the connection must close. A malformed
 * option is answered with an error where the stream stays parseable and closes the connection where it does not.
 */
final class NbdNegotiation {
    /** Longest option payload read: names and queries are at most 4096 bytes each, so this is generous. */
    static final int MAX_OPTION_LENGTH = 64 * 1024;

    /** What one step of the negotiation came to. */
    enum Step {
        /** More bytes are needed. */
        MORE,
        /** One item was handled; the next may follow. */
        NEXT,
        /** The export is chosen: requests follow. */
        TRANSMISSION,
        /** The connection ends ({@link #failure()} says why, null when the client asked). */
        CLOSE
    }

    private final DeviceInfo info;
    private final String exportName;
    private final String description;
    private final int maxPayload;
    /** Non-null: the export requires TLS (FORCEDTLS in the protocol's terms). */
    private final SslContext tls;
    private boolean flagsRead;
    private boolean tlsActive;
    private boolean noZeroes;
    private boolean structured;
    private String failure;

    NbdNegotiation(DeviceInfo info, String exportName, String description, int maxPayload, SslContext tls) {
        this.info = info;
        this.exportName = exportName;
        this.description = description;
        this.maxPayload = maxPayload;
        this.tls = tls;
    }

    /** The greeting the server sends first. */
    static void greet(ChannelHandlerContext ctx) {
        ByteBuf greeting = ctx.alloc().buffer(GREETING_LENGTH);
        greeting.writeLong(NBDMAGIC).writeLong(IHAVEOPT).writeShort(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
        ctx.writeAndFlush(greeting);
    }

    /** Takes the client's flags, then one whole option, from {@code in}. */
    Step step(ChannelHandlerContext ctx, ByteBuf in) {
        if (flagsRead) {
            return option(ctx, in);
        }
        if (in.readableBytes() < 4) {
            return Step.MORE;
        }
        int flags = in.readInt();
        if ((flags & ~CLIENT_FLAGS_KNOWN) != 0) {
            return close("client flags 0x" + Integer.toHexString(flags) + " have bits this server does not know");
        }
        noZeroes = (flags & FLAG_NO_ZEROES) != 0;
        flagsRead = true;
        return Step.NEXT;
    }

    /** Whether the client asked for structured replies. */
    boolean structured() {
        return structured;
    }

    /** Why the connection must close (after {@link Step#CLOSE}); null when the client ended it. */
    String failure() {
        return failure;
    }

    private Step close(String why) {
        failure = why;
        return Step.CLOSE;
    }

    /** One whole option, answered; {@link Step#MORE} while its bytes have not all arrived. */
    private Step option(ChannelHandlerContext ctx, ByteBuf in) {
        if (in.readableBytes() < OPTION_HEADER_LENGTH) {
            return Step.MORE;
        }
        int start = in.readerIndex();
        long magic = in.getLong(start);
        int option = in.getInt(start + 8);
        long length = in.getUnsignedInt(start + 12);
        if (magic != IHAVEOPT) {
            return close("option without the IHAVEOPT magic (0x" + Long.toHexString(magic) + ")");
        }
        if (length > MAX_OPTION_LENGTH) {
            optionReply(ctx, option, REP_ERR_TOO_BIG, "option " + option + " data of " + length + " bytes is too long");
            ctx.flush();
            return close("option " + option + " with " + length + " bytes of data");
        }
        if (in.readableBytes() < OPTION_HEADER_LENGTH + length) {
            return Step.MORE;
        }
        in.skipBytes(OPTION_HEADER_LENGTH);
        ByteBuf data = in.readSlice((int) length);
        if (tls != null && !tlsActive && option != OPT_STARTTLS && option != OPT_ABORT) {
            if (option == OPT_EXPORT_NAME) {
                return close("NBD_OPT_EXPORT_NAME before NBD_OPT_STARTTLS on an export that requires TLS");
            }
            optionReply(ctx, option, REP_ERR_TLS_REQD, "this export requires TLS: send NBD_OPT_STARTTLS first");
            ctx.flush();
            return Step.NEXT;
        }
        switch (option) {
            case OPT_EXPORT_NAME:
                String name = data.toString(StandardCharsets.UTF_8);
                if (!knownExport(name)) {
                    return close("client asked for unknown export '" + PeerText.printable(name) + "' with NBD_OPT_EXPORT_NAME");
                }
                ByteBuf reply = ctx.alloc().buffer(134);
                reply.writeLong(info.sizeBytes()).writeShort(transmissionFlags());
                if (!noZeroes) {
                    reply.writeZero(124);
                }
                ctx.writeAndFlush(reply);
                return Step.TRANSMISSION;
            case OPT_ABORT:
                optionReply(ctx, option, REP_ACK, null);
                ctx.flush();
                return close(null);
            case OPT_LIST:
                if (length != 0) {
                    optionReply(ctx, option, REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
                } else {
                    byte[] n = exportName.getBytes(StandardCharsets.UTF_8);
                    ByteBuf server = ctx.alloc().buffer(4 + n.length);
                    server.writeInt(n.length).writeBytes(n);
                    optionReply(ctx, option, REP_SERVER, server);
                    optionReply(ctx, option, REP_ACK, null);
                }
                break;
            case OPT_STARTTLS:
                if (tls == null) {
                    optionReply(ctx, option, REP_ERR_POLICY, "TLS is not offered by this export (it is started with "
                        + "--nbd-tls-cert and --nbd-tls-key when it should be)");
                } else if (tlsActive) {
                    optionReply(ctx, option, REP_ERR_INVALID, "TLS is already on");
                } else if (length != 0) {
                    optionReply(ctx, option, REP_ERR_INVALID, "NBD_OPT_STARTTLS takes no data");
                } else if (in.isReadable()) {
                    return close("client sent more before the TLS handshake that NBD_OPT_STARTTLS starts");
                } else {
                    // the acknowledgement is the last plaintext: the handler passes the first write through
                    ctx.pipeline().addBefore(ctx.name(), "nbd-tls", new SslHandler(tls.newEngine(ctx.alloc()), true));
                    ByteBuf ack = ctx.alloc().buffer(20);
                    ack.writeLong(OPT_REPLY_MAGIC).writeInt(option).writeInt(REP_ACK).writeInt(0);
                    ctx.writeAndFlush(ack);
                    tlsActive = true;
                    return Step.NEXT;
                }
                break;
            case OPT_INFO:
            case OPT_GO:
                if (infoOrGo(ctx, option, data)) {
                    ctx.flush();
                    return Step.TRANSMISSION;
                }
                break;
            case OPT_STRUCTURED_REPLY:
                if (length != 0) {
                    optionReply(ctx, option, REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                } else if (structured) {
                    optionReply(ctx, option, REP_ERR_INVALID, "structured replies already negotiated");
                } else {
                    structured = true;
                    optionReply(ctx, option, REP_ACK, null);
                }
                break;
            case OPT_LIST_META_CONTEXT:
            case OPT_SET_META_CONTEXT:
                if (option == OPT_SET_META_CONTEXT && !structured) {
                    optionReply(ctx, option, REP_ERR_INVALID, "NBD_OPT_SET_META_CONTEXT needs structured replies first");
                } else if (!validMetaContextRequest(data)) {
                    optionReply(ctx, option, REP_ERR_INVALID, "malformed meta context request");
                } else {
                    // No metadata contexts are served: every query gets the empty answer.
                    optionReply(ctx, option, REP_ACK, null);
                }
                break;
            default:
                optionReply(ctx, option, REP_ERR_UNSUP, "option " + option + " is not supported");
        }
        ctx.flush();
        return Step.NEXT;
    }

    /** NBD_OPT_INFO / NBD_OPT_GO; true when GO succeeded and transmission starts. */
    private boolean infoOrGo(ChannelHandlerContext ctx, int option, ByteBuf data) {
        if (data.readableBytes() < 6) {
            optionReply(ctx, option, REP_ERR_INVALID, "request too short");
            return false;
        }
        long nameLength = data.readUnsignedInt();
        if (nameLength > data.readableBytes() - 2) {
            optionReply(ctx, option, REP_ERR_INVALID, "export name length " + nameLength + " past the end of the option");
            return false;
        }
        String name = data.readCharSequence((int) nameLength, StandardCharsets.UTF_8).toString();
        int requests = data.readUnsignedShort();
        if (data.readableBytes() != requests * 2) {
            optionReply(ctx, option, REP_ERR_INVALID, requests + " information requests do not match the option length");
            return false;
        }
        if (!knownExport(name)) {
            optionReply(ctx, option, REP_ERR_UNKNOWN, "no export '" + name + "' (this server exports '" + exportName + "')");
            return false;
        }
        boolean wantName = false;
        boolean wantDescription = false;
        boolean wantBlockSize = false;
        for (int i = 0; i < requests; i++) {
            int type = data.readUnsignedShort();
            wantName |= type == INFO_NAME;
            wantDescription |= type == INFO_DESCRIPTION;
            wantBlockSize |= type == INFO_BLOCK_SIZE;
        }
        ByteBuf export = ctx.alloc().buffer(12);
        export.writeShort(INFO_EXPORT).writeLong(info.sizeBytes()).writeShort(transmissionFlags());
        optionReply(ctx, option, REP_INFO, export);
        if (wantName) {
            optionReply(ctx, option, REP_INFO, infoString(ctx, INFO_NAME, exportName));
        }
        if (wantDescription) {
            optionReply(ctx, option, REP_INFO, infoString(ctx, INFO_DESCRIPTION, description));
        }
        if (wantBlockSize) {
            ByteBuf bs = ctx.alloc().buffer(14);
            bs.writeShort(INFO_BLOCK_SIZE).writeInt(info.logicalBlockSize())
                .writeInt(Math.max(info.logicalBlockSize(), info.physicalBlockSize())).writeInt(maxPayload);
            optionReply(ctx, option, REP_INFO, bs);
        }
        optionReply(ctx, option, REP_ACK, null);
        return option == OPT_GO;
    }

    private static ByteBuf infoString(ChannelHandlerContext ctx, int type, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return ctx.alloc().buffer(2 + b.length).writeShort(type).writeBytes(b);
    }

    private static boolean validMetaContextRequest(ByteBuf data) {
        ByteBuf d = data.duplicate();
        if (d.readableBytes() < 4) {
            return false;
        }
        long nameLength = d.readUnsignedInt();
        if (nameLength > d.readableBytes() - 4) {
            return false;
        }
        d.skipBytes((int) nameLength);
        long queries = d.readUnsignedInt();
        for (long i = 0; i < queries; i++) {
            if (d.readableBytes() < 4) {
                return false;
            }
            long l = d.readUnsignedInt();
            if (l > d.readableBytes()) {
                return false;
            }
            d.skipBytes((int) l);
        }
        return d.readableBytes() == 0;
    }

    private boolean knownExport(String name) {
        return name.isEmpty() || name.equals(exportName);
    }

    int transmissionFlags() {
        int f = TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | TFLAG_CAN_MULTI_CONN;
        if (info.fua()) {
            f |= TFLAG_SEND_FUA;
        }
        if (info.discard()) {
            f |= TFLAG_SEND_TRIM;
        }
        if (info.writeZeroes()) {
            f |= TFLAG_SEND_WRITE_ZEROES;
        }
        if (structured) {
            f |= TFLAG_SEND_DF;
        }
        return f;
    }

    /** Writes one option reply; {@code data} is a ByteBuf, a message String (errors) or null. */
    private static void optionReply(ChannelHandlerContext ctx, int option, int type, Object data) {
        ByteBuf payload = data instanceof ByteBuf ? (ByteBuf) data
            : data instanceof String ? ctx.alloc().buffer().writeBytes(((String) data).getBytes(StandardCharsets.UTF_8))
            : ctx.alloc().buffer(0);
        ByteBuf header = ctx.alloc().buffer(20);
        header.writeLong(OPT_REPLY_MAGIC).writeInt(option).writeInt(type).writeInt(payload.readableBytes());
        ctx.write(header);
        ctx.write(payload);
    }
}
