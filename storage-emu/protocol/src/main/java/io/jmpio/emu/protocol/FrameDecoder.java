package io.jmpio.emu.protocol;

import io.jmpio.netty.ConnectionGuard;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits the byte stream into {@link Frame}s. A header with a bad magic or version, or a payload longer
 * than the limit, raises a {@link ProtocolException} carrying the sense and (when readable) the tag; the
 * stream cannot be resynchronised after that, so the handler answers and closes.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    private final int maxPayload;
    private boolean failed;

    public FrameDecoder() {
        this(FrameHeader.MAX_PAYLOAD);
    }

    public FrameDecoder(int maxPayload) {
        this.maxPayload = maxPayload;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        try {
            decodeFrames(in, out);
        } finally {
            ConnectionGuard.buffered(ctx.channel(), in.readableBytes());
        }
    }

    private void decodeFrames(ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (in.readableBytes() >= FrameHeader.LENGTH) {
            int base = in.readerIndex();
            long tag = FrameHeader.tag(in, base);
            if (FrameHeader.magic(in, base) != FrameHeader.MAGIC) {
                failed = true;
                throw new ProtocolException(String.format("bad magic 0x%08x (expected 0x%08x)",
                    FrameHeader.magic(in, base), FrameHeader.MAGIC), Sense.BAD_MAGIC, 0);
            }
            if (FrameHeader.version(in, base) != FrameHeader.VERSION) {
                failed = true;
                throw new ProtocolException("unsupported protocol version " + FrameHeader.version(in, base),
                    Sense.BAD_VERSION, tag);
            }
            long payloadLength = FrameHeader.payloadLength(in, base);
            if (payloadLength > maxPayload) {
                failed = true;
                throw new ProtocolException("payload of " + payloadLength + " bytes exceeds the limit of " + maxPayload,
                    Sense.FRAME_TOO_LARGE, tag);
            }
            if (in.readableBytes() < FrameHeader.LENGTH + payloadLength) {
                return;
            }
            ByteBuf payload = in.retainedSlice(base + FrameHeader.LENGTH, (int) payloadLength);
            out.add(new Frame(FrameHeader.opcode(in, base), FrameHeader.flags(in, base), tag, FrameHeader.lun(in, base),
                FrameHeader.status(in, base), FrameHeader.sense(in, base), FrameHeader.ioOffset(in, base),
                (int) FrameHeader.ioLength(in, base), FrameHeader.aux(in, base), payload));
            in.skipBytes(FrameHeader.LENGTH + (int) payloadLength);
        }
    }
}
