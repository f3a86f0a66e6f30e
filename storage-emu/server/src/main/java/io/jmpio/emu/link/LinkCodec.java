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
                if (in.getUnsignedByte(base + LinkFrame.KIND_OFFSET) == LinkFrame.BATCH) {
                    unbatch(in, base, (int) payloadLength, out);
                } else {
                    ByteBuf payload = in.retainedSlice(base + LinkFrame.HEADER_LENGTH, (int) payloadLength);
                    out.add(LinkFrame.readHeader(in, base, payload));
                }
                in.skipBytes(LinkFrame.HEADER_LENGTH + (int) payloadLength);
            }
        }

        /**
         * The messages of a whole BATCH frame at {@code base}, each with its payload sliced from the frame (no
         * copy). The descriptor table is checked in full before any message is emitted: a batch that does not
         * add up is refused as a whole.
         */
        private static void unbatch(ByteBuf in, int base, int payloadLength, List<Object> out) throws IOException {
            long count = in.getUnsignedIntLE(base + LinkFrame.LENGTH_OFFSET);
            int channel = in.getUnsignedByte(base + LinkFrame.CHANNEL_OFFSET);
            if (count < 1 || count > LinkFrame.MAX_BATCH) {
                throw new IOException("link: batch of " + count + " messages (1 to " + LinkFrame.MAX_BATCH + ")");
            }
            int table = base + LinkFrame.HEADER_LENGTH;
            long data = count * LinkFrame.HEADER_LENGTH;
            if (data > payloadLength) {
                throw new IOException("link: batch of " + count + " messages in " + payloadLength + " bytes");
            }
            for (int i = 0; i < count; i++) {
                int d = table + i * LinkFrame.HEADER_LENGTH;
                if (in.getIntLE(d) != LinkFrame.MAGIC) {
                    throw new IOException(String.format("link: batch message %d: bad magic 0x%08x", i, in.getIntLE(d)));
                }
                int kind = in.getUnsignedByte(d + LinkFrame.KIND_OFFSET);
                if (kind == LinkFrame.BATCH || in.getUnsignedByte(d + LinkFrame.CHANNEL_OFFSET) != channel) {
                    throw new IOException("link: batch message " + i + " is " + (kind == LinkFrame.BATCH
                        ? "a batch itself" : "for another channel"));
                }
                data += in.getUnsignedIntLE(d + LinkFrame.PAYLOAD_LENGTH_OFFSET);
            }
            if (data != payloadLength) {
                throw new IOException("link: batch messages' payloads add up to " + (data - count * LinkFrame.HEADER_LENGTH)
                    + " bytes, the batch carries " + (payloadLength - count * LinkFrame.HEADER_LENGTH));
            }
            int at = table + (int) count * LinkFrame.HEADER_LENGTH;
            for (int i = 0; i < count; i++) {
                int d = table + i * LinkFrame.HEADER_LENGTH;
                int n = (int) in.getUnsignedIntLE(d + LinkFrame.PAYLOAD_LENGTH_OFFSET);
                out.add(LinkFrame.readHeader(in, d, in.retainedSlice(at, n)));
                at += n;
            }
        }
    }

    /** Messages of one data channel sent as one BATCH frame; the encoder hands their payloads on as they are. */
    record Batch(int channel, List<LinkFrame> frames) {
    }

    @ChannelHandler.Sharable
    static final class Encoder extends MessageToMessageEncoder<Object> {
        static final Encoder INSTANCE = new Encoder();

        private Encoder() {
            super(Object.class);
        }

        @Override
        public boolean acceptOutboundMessage(Object msg) {
            return msg instanceof LinkFrame || msg instanceof Batch;
        }

        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) {
            if (msg instanceof Batch b) {
                encodeBatch(ctx, b, out);
                return;
            }
            LinkFrame f = (LinkFrame) msg;
            ByteBuf header = ctx.alloc().buffer(LinkFrame.HEADER_LENGTH);
            LinkFrame.writeHeader(header, f);
            out.add(header);
            if (f.payload().isReadable()) {
                out.add(f.payload());
            } else {
                f.release();
            }
        }

        /** The frame header and the descriptor table in one buffer, then each payload as it is (gathered on write). */
        private static void encodeBatch(ChannelHandlerContext ctx, Batch b, List<Object> out) {
            List<LinkFrame> frames = b.frames();
            int n = frames.size();
            long payloads = 0;
            for (LinkFrame f : frames) {
                payloads += f.payload().readableBytes();
            }
            ByteBuf table = ctx.alloc().buffer(LinkFrame.HEADER_LENGTH * (n + 1));
            LinkFrame.writeBatchHeader(table, b.channel(), n, LinkFrame.HEADER_LENGTH * (long) n + payloads);
            for (LinkFrame f : frames) {
                LinkFrame.writeHeader(table, f);
            }
            out.add(table);
            for (LinkFrame f : frames) {
                if (f.payload().isReadable()) {
                    out.add(f.payload());
                } else {
                    f.release();
                }
            }
        }
    }
}
