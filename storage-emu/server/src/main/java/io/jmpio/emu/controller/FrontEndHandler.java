package io.jmpio.emu.controller;

import io.jmpio.emu.protocol.Frame;
import io.jmpio.emu.protocol.FrameHeader;
import io.jmpio.emu.protocol.ProtocolException;
import io.jmpio.emu.protocol.Status;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One host connection: hands each frame to the controller, answers what cannot be parsed, and closes. */
final class FrontEndHandler extends SimpleChannelInboundHandler<Frame> {
    private static final Logger LOG = LoggerFactory.getLogger(FrontEndHandler.class);
    static final AttributeKey<Session> SESSION = AttributeKey.valueOf("jmpio.session");

    private final ArrayFrontEnd frontEnd;
    private final FrontEndPort port;

    FrontEndHandler(ArrayFrontEnd frontEnd, FrontEndPort port) {
        super(false);
        this.frontEnd = frontEnd;
        this.port = port;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.channel().attr(SESSION).set(new Session(String.valueOf(ctx.channel().remoteAddress())));
        ctx.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
        port.requests.increment();
        frontEnd.onFrame(ctx, port, ctx.channel().attr(SESSION).get(), frame);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof ProtocolException) {
            ProtocolException pe = (ProtocolException) c;
            LOG.info("controller {} port {}: malformed frame from {}: {}; closing the connection", frontEnd.controllerId(),
                port.address(), ctx.channel().remoteAddress(), pe.getMessage());
            port.errors.increment();
            Frame reply = new Frame(0, FrameHeader.FLAG_REPLY, pe.tag(), 0, Status.MALFORMED_FRAME, pe.sense(), 0, 0, 0, null);
            ctx.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        LOG.debug("controller {} port {}: connection error: {}", frontEnd.controllerId(), port.address(), c.toString());
        ctx.close();
    }
}
