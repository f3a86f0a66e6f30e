package io.jmpio.bridge.nbd;

import static io.jmpio.bridge.nbd.NbdProtocol.*;

import io.jmpio.api.BlockDevice;
import io.jmpio.api.BlockIoException;
import io.jmpio.api.DeviceInfo;
import io.jmpio.api.IoCallback;
import io.jmpio.netty.ConnectionGuard;
import io.jmpio.netty.FailureText;
import io.netty.buffer.ByteBuf;
import io.netty.handler.ssl.SslContext;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: the fixed newstyle negotiation ({@link NbdNegotiation}), then transmission with many
 * requests in flight, read no faster than the client takes the replies. Requests are checked here (range,
 * alignment, size, flags) and answered with the protocol's errors; valid ones go to the device, whose completions
 * come back on its threads and are written on this channel's loop. Input that leaves the stream unparseable (bad
 * magic, an option too long to skip) closes the connection.
 */
final class NbdConnection extends ByteToMessageDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(NbdConnection.class);
    /** Most requests outstanding before the connection stops reading (the client waits, nothing is lost). */
    static final int MAX_IN_FLIGHT = 512;
    /** Most bytes of data (read replies to come, write payloads held) outstanding before it stops reading. */
    static final long MAX_IN_FLIGHT_BYTES = 32L << 20;

    private enum State { NEGOTIATION, TRANSMISSION, SKIP_PAYLOAD, CLOSING }

    private final BlockDevice device;
    private final DeviceInfo info;
    private final int maxPayload;
    private final NbdNegotiation negotiation;
    private State state = State.NEGOTIATION;
    /** Replies are structured (negotiated before transmission). */
    private boolean structured;
    private long skipRemaining;
    private int inFlight;
    private long inFlightBytes;
    /** Decoding stopped at a request boundary until in-flight work or the outbound queue drains. */
    private boolean paused;
    private boolean disconnectRequested;
    private boolean flushPending;
    private ChannelHandlerContext ctx;

    NbdConnection(BlockDevice device, String exportName, String description, SslContext tls) {
        this.device = device;
        this.info = device.info();
        this.maxPayload = Math.min(32 << 20, info.maxTransferBytes());
        this.negotiation = new NbdNegotiation(info, exportName, description, maxPayload, tls);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        NbdNegotiation.greet(ctx);
        super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        try {
            decodeAll(ctx, in);
        } finally {
            // bytes kept, or a write payload still being skipped, are a request in progress (its time is limited)
            ConnectionGuard.buffered(ctx.channel(), state == State.SKIP_PAYLOAD ? 1 : in.readableBytes());
            if (state == State.TRANSMISSION) {
                ConnectionGuard.ready(ctx.channel());
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        // the guard resumes reading when the client has read its replies; in-flight limits still hold it
        if (paused || mustWait()) {
            ctx.channel().config().setAutoRead(false);
        }
        resumeLater();
        super.channelWritabilityChanged(ctx);
    }

    /** True when no more requests may start: too many in flight, too many bytes, or replies not taken. */
    private boolean mustWait() {
        return inFlight >= MAX_IN_FLIGHT || inFlightBytes >= MAX_IN_FLIGHT_BYTES || !ctx.channel().isWritable();
    }

    /** Decodes what waits in the buffer once the limits allow (from the loop, never inside a decode). */
    private void resumeLater() {
        if (!paused || mustWait()) {
            return;
        }
        paused = false;
        ctx.executor().execute(() -> {
            if (!ctx.channel().isActive() || paused) {
                return;
            }
            ctx.channel().config().setAutoRead(true);
            try {
                channelRead(ctx, io.netty.buffer.Unpooled.EMPTY_BUFFER); // decode the buffered requests
            } catch (Exception e) {
                exceptionCaught(ctx, e);
            }
        });
    }

    private void decodeAll(ChannelHandlerContext ctx, ByteBuf in) {
        while (ctx.channel().isActive()) {
            int before = in.readableBytes();
            switch (state) {
                case NEGOTIATION:
                    NbdNegotiation.Step step = negotiation.step(ctx, in);
                    if (step == NbdNegotiation.Step.MORE) {
                        return;
                    }
                    if (step == NbdNegotiation.Step.CLOSE) {
                        close(negotiation.failure());
                        return;
                    }
                    if (step == NbdNegotiation.Step.TRANSMISSION) {
                        structured = negotiation.structured();
                        state = State.TRANSMISSION;
                    }
                    break;
                case TRANSMISSION:
                    if (mustWait()) {
                        // the rest stays in the buffer, unread, until replies have been taken (see resume)
                        paused = true;
                        ctx.channel().config().setAutoRead(false);
                        return;
                    }
                    if (!request(in)) {
                        return;
                    }
                    break;
                case SKIP_PAYLOAD:
                    int n = (int) Math.min(skipRemaining, in.readableBytes());
                    in.skipBytes(n);
                    skipRemaining -= n;
                    if (skipRemaining > 0) {
                        return;
                    }
                    state = State.TRANSMISSION;
                    break;
                default:
                    in.skipBytes(in.readableBytes());
                    return;
            }
            if (in.readableBytes() == before && state != State.SKIP_PAYLOAD) {
                return;
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Transmission

    /** Handles one whole request (header, and payload for writes); false when more bytes are needed. */
    private boolean request(ByteBuf in) {
        if (in.readableBytes() < REQUEST_LENGTH) {
            return false;
        }
        int start = in.readerIndex();
        int magic = in.getInt(start);
        if (magic != REQUEST_MAGIC) {
            close("request without the request magic (0x" + Integer.toHexString(magic) + ")");
            return false;
        }
        int flags = in.getUnsignedShort(start + 4);
        int type = in.getUnsignedShort(start + 6);
        long cookie = in.getLong(start + 8);
        long offset = in.getLong(start + 16);
        long length = in.getUnsignedInt(start + 24);
        if (type == CMD_WRITE) {
            if (length > maxPayload) {
                // Too long to take: answer, then read past the payload so the stream stays in step.
                in.skipBytes(REQUEST_LENGTH);
                error(cookie, length > 32 << 20 ? EOVERFLOW : EINVAL,
                    "write of " + length + " bytes is over the maximum of " + maxPayload);
                skipRemaining = length;
                state = State.SKIP_PAYLOAD;
                return true;
            }
            if (in.readableBytes() < REQUEST_LENGTH + length) {
                return false;
            }
        }
        in.skipBytes(REQUEST_LENGTH);
        if (disconnectRequested) {
            // The client promised no more requests; drop them (their payload was read with the header).
            if (type == CMD_WRITE) {
                in.skipBytes((int) length);
            }
            return true;
        }
        int known = CMD_FLAG_FUA | CMD_FLAG_NO_HOLE | CMD_FLAG_DF;
        if ((flags & ~known) != 0) {
            skipWritePayload(in, type, length);
            error(cookie, EINVAL, "unknown command flags 0x" + Integer.toHexString(flags));
            return true;
        }
        switch (type) {
            case CMD_READ:
                if (checkRange(cookie, offset, length, false)) {
                    submitted(length);
                    device.read(offset, (int) length, new Reply(cookie, offset, true, length));
                }
                return true;
            case CMD_WRITE: {
                if ((flags & CMD_FLAG_FUA) != 0 && !info.fua()) {
                    in.skipBytes((int) length);
                    error(cookie, EINVAL, "FUA was not offered");
                    return true;
                }
                if (!checkRange(cookie, offset, length, true)) {
                    in.skipBytes((int) length);
                    return true;
                }
                ByteBuf data = in.readRetainedSlice((int) length);
                submitted(length);
                device.write(offset, data, (flags & CMD_FLAG_FUA) != 0, new Reply(cookie, offset, false, length));
                return true;
            }
            case CMD_FLUSH:
                submitted(0);
                device.flush(new Reply(cookie, 0, false, 0));
                return true;
            case CMD_TRIM:
                if (!info.discard()) {
                    error(cookie, EINVAL, "TRIM was not offered");
                } else if (checkRange(cookie, offset, length, true)) {
                    submitted(0);
                    device.discard(offset, length, new Reply(cookie, offset, false, 0));
                }
                return true;
            case CMD_WRITE_ZEROES:
                if (!info.writeZeroes()) {
                    error(cookie, EINVAL, "WRITE_ZEROES was not offered");
                } else if (checkRange(cookie, offset, length, true)) {
                    submitted(0);
                    device.writeZeroes(offset, length, new Reply(cookie, offset, false, 0));
                }
                return true;
            case CMD_DISC:
                disconnectRequested = true;
                if (inFlight == 0) {
                    close(null);
                }
                return true;
            default:
                skipWritePayload(in, type, length);
                error(cookie, EINVAL, NbdProtocol.commandName(type) + " is not supported");
                return true;
        }
    }

    private static void skipWritePayload(ByteBuf in, int type, long length) {
        if (type == CMD_WRITE) {
            in.skipBytes((int) length);
        }
    }

    /** Checks length, alignment and range; answers the error and returns false when the request is bad. */
    private boolean checkRange(long cookie, long offset, long length, boolean write) {
        int block = info.logicalBlockSize();
        boolean transfer = length <= Integer.MAX_VALUE;
        if (length == 0) {
            error(cookie, EINVAL, "zero-length request");
            return false;
        }
        if (offset < 0 || offset + length > info.sizeBytes() || offset + length < 0) {
            error(cookie, write ? ENOSPC : EINVAL, "request at " + offset + "+" + length + " is past the end of the "
                + info.sizeBytes() + "-byte export");
            return false;
        }
        if (offset % block != 0 || length % block != 0) {
            error(cookie, EINVAL, "request at " + offset + "+" + length + " is not aligned to the " + block
                + "-byte block size");
            return false;
        }
        if (!transfer) {
            error(cookie, EINVAL, "request of " + length + " bytes is too long");
            return false;
        }
        return true;
    }

    private void submitted(long bytes) {
        inFlight++;
        inFlightBytes += bytes;
    }

    /** On the channel's loop: one request answered. */
    private void answered(long bytes) {
        inFlight--;
        inFlightBytes -= bytes;
        resumeLater();
        if (disconnectRequested && inFlight == 0) {
            ctx.flush();
            close(null);
        }
    }

    private void error(long cookie, int errno, String message) {
        LOG.debug("nbd {}: {}", ctx.channel().remoteAddress(), message);
        writeError(cookie, errno, message);
        flushLater();
    }

    private void writeError(long cookie, int errno, String message) {
        if (structured) {
            byte[] m = message.getBytes(StandardCharsets.UTF_8);
            int len = Math.min(m.length, 4096);
            ByteBuf b = ctx.alloc().buffer(CHUNK_HEADER_LENGTH + 6 + len);
            b.writeInt(STRUCTURED_REPLY_MAGIC).writeShort(REPLY_FLAG_DONE).writeShort(REPLY_TYPE_ERROR).writeLong(cookie)
                .writeInt(6 + len).writeInt(errno).writeShort(len).writeBytes(m, 0, len);
            ctx.write(b);
        } else {
            ByteBuf b = ctx.alloc().buffer(SIMPLE_REPLY_LENGTH);
            b.writeInt(SIMPLE_REPLY_MAGIC).writeInt(errno).writeLong(cookie);
            ctx.write(b);
        }
    }

    private void writeSuccess(long cookie, long offset, ByteBuf data) {
        if (structured) {
            ByteBuf b = ctx.alloc().buffer(CHUNK_HEADER_LENGTH + 8);
            if (data != null) {
                b.writeInt(STRUCTURED_REPLY_MAGIC).writeShort(REPLY_FLAG_DONE).writeShort(REPLY_TYPE_OFFSET_DATA)
                    .writeLong(cookie).writeInt(8 + data.readableBytes()).writeLong(offset);
            } else {
                b.writeInt(STRUCTURED_REPLY_MAGIC).writeShort(REPLY_FLAG_DONE).writeShort(REPLY_TYPE_NONE)
                    .writeLong(cookie).writeInt(0);
            }
            ctx.write(b);
        } else {
            ByteBuf b = ctx.alloc().buffer(SIMPLE_REPLY_LENGTH);
            b.writeInt(SIMPLE_REPLY_MAGIC).writeInt(0).writeLong(cookie);
            ctx.write(b);
        }
        if (data != null) {
            ctx.write(data);
        }
    }

    /** Replies arriving together go out in one flush. */
    private void flushLater() {
        if (!flushPending) {
            flushPending = true;
            ctx.executor().execute(() -> {
                flushPending = false;
                ctx.flush();
            });
        }
    }

    /** The one table of every bridge ({@link io.jmpio.api.IoErrorKind#errno}): NBD's error values are errno values. */
    static int errno(BlockIoException e, boolean write) {
        return e.kind().errno(write);
    }

    /** A device completion, answered on the channel's loop (the only thread that writes to it). */
    private final class Reply implements IoCallback {
        private final long cookie;
        private final long offset;
        private final boolean read;
        private final long bytes;

        Reply(long cookie, long offset, boolean read, long bytes) {
            this.cookie = cookie;
            this.offset = offset;
            this.read = read;
            this.bytes = bytes;
        }

        @Override
        public void completed(ByteBuf data) {
            if (ctx.executor().inEventLoop()) {
                finish(data, null);
            } else {
                ctx.executor().execute(() -> finish(data, null));
            }
        }

        @Override
        public void failed(BlockIoException error) {
            if (ctx.executor().inEventLoop()) {
                finish(null, error);
            } else {
                ctx.executor().execute(() -> finish(null, error));
            }
        }

        private void finish(ByteBuf data, BlockIoException error) {
            if (!ctx.channel().isActive()) {
                if (data != null) {
                    data.release();
                }
                answered(bytes);
                return;
            }
            if (error != null) {
                LOG.warn("nbd {}: request failed: {}", ctx.channel().remoteAddress(), FailureText.of(error));
                writeError(cookie, errno(error, !read), FailureText.of(error));
            } else {
                writeSuccess(cookie, offset, read ? data : null);
                if (!read && data != null) {
                    data.release();
                }
            }
            flushLater();
            answered(bytes);
        }
    }

    private void close(String why) {
        if (why != null) {
            LOG.warn("nbd {}: closing: {}", ctx.channel().remoteAddress(), why);
        }
        state = State.CLOSING;
        ctx.channel().close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.warn("nbd {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
