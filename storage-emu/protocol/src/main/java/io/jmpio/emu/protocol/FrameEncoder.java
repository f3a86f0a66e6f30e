package io.jmpio.emu.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/** Writes a {@link Frame} as its header followed by its payload, without copying the payload. */
@ChannelHandler.Sharable
public final class FrameEncoder extends MessageToMessageEncoder<Frame> {
    public static final FrameEncoder INSTANCE = new FrameEncoder();

    private FrameEncoder() {
        super(Frame.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Frame frame, List<Object> out) {
        ByteBuf header = ctx.alloc().buffer(FrameHeader.LENGTH);
        FrameHeader.write(header, frame);
        out.add(header);
        if (frame.payload().isReadable()) {
            out.add(frame.payload());
        } else {
            frame.release();
        }
    }
}
