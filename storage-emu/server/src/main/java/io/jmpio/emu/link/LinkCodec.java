package io.jmpio.emu.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.io.IOException;
import java.util.List;

/** Frames the link's byte stream into {@link LinkFrame}s and back. */
final class LinkCodec {
    private LinkCodec() {
    }

    static final class Decoder extends ByteToMessageDecoder {
        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws IOException {
            while (in.readableBytes() >= LinkFrame.HEADER_LENGTH) {
                int base = in.readerIndex();
                if (in.getIntLE(base) != LinkFrame.MAGIC) {
                    throw new IOException(String.format("link: bad magic 0x%08x", in.getIntLE(base)));
                }
                long payloadLength = in.getUnsignedIntLE(base + LinkFrame.PAYLOAD_LENGTH_OFFSET);
                if (payloadLength > LinkFrame.MAX_PAYLOAD) {
                    throw new IOException("link: payload of " + payloadLength + " bytes exceeds the limit");
                }
                if (in.readableBytes() < LinkFrame.HEADER_LENGTH + payloadLength) {
                    return;
                }
                ByteBuf payload = in.retainedSlice(base + LinkFrame.HEADER_LENGTH, (int) payloadLength);
                out.add(LinkFrame.readHeader(in, base, payload));
                in.skipBytes(LinkFrame.HEADER_LENGTH + (int) payloadLength);
            }
        }
    }

    @ChannelHandler.Sharable
    static final class Encoder extends MessageToMessageEncoder<LinkFrame> {
        static final Encoder INSTANCE = new Encoder();

        private Encoder() {
            super(LinkFrame.class);
        }

        @Override
        protected void encode(ChannelHandlerContext ctx, LinkFrame f, List<Object> out) {
            ByteBuf header = ctx.alloc().buffer(LinkFrame.HEADER_LENGTH);
            LinkFrame.writeHeader(header, f);
            out.add(header);
            if (f.payload().isReadable()) {
                out.add(f.payload());
            } else {
                f.release();
            }
        }
    }
}
