package io.jmpio.core.control;

import io.jmpio.core.MultipathDevice;
import io.jmpio.netty.FailureText;
import io.jmpio.netty.HostPort;
import io.jmpio.netty.ConnectionGuard;
import io.jmpio.netty.NettyTransport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The optional HTTP endpoint: {@code GET /metrics} in Prometheus text format, {@code GET /status} as JSON.
 * Binds to loopback addresses only, so statistics never leave the host unless a proxy is put in front.
 * Requests are read by its own event loop, never by a thread a slow client could hold: headers are limited
 * to 8 KiB, a connection that sends nothing for 10 s is closed, at most 64 are held, one request each.
 */
public final class MetricsServer implements AutoCloseable {
    static final long IDLE_MILLIS = 10_000;
    static final int MAX_CONNECTIONS = 64;

    private final NettyTransport transport;
    private final Channel server;

    private MetricsServer(NettyTransport transport, Channel server) {
        this.transport = transport;
        this.server = server;
    }

    public static MetricsServer start(MultipathDevice device, String listen) throws IOException {
        InetSocketAddress a = HostPort.parse(listen);
        if (a.getAddress() == null || !a.getAddress().isLoopbackAddress()) {
            throw new IllegalArgumentException("metrics endpoint must listen on a loopback address, got " + listen);
        }
        NettyTransport transport = NettyTransport.create("jmpio-metrics", 1);
        ConnectionGuard guard = new ConnectionGuard("metrics endpoint " + listen, MAX_CONNECTIONS, IDLE_MILLIS,
            IDLE_MILLIS, false);
        ChannelFuture f = guard.listen(transport, a, ch -> ch.pipeline().addLast(new HttpServerCodec(4096, 8192, 8192),
            new HttpObjectAggregator(8192), new Answer(device)));
        if (!f.isSuccess()) {
            transport.close();
            throw new IOException("cannot listen for metrics on " + listen + ": " + FailureText.of(f.cause()), f.cause());
        }
        return new MetricsServer(transport, f.channel());
    }

    private static final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final MultipathDevice device;

        Answer(MultipathDevice device) {
            this.device = device;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) throws Exception {
            ctx.channel().config().setAutoRead(false);
            String path = req.uri().split("\\?", 2)[0];
            if (!req.decoderResult().isSuccess()) {
                respond(ctx, 400, "text/plain", "malformed request\n");
            } else if (!req.method().equals(HttpMethod.GET)) {
                respond(ctx, 405, "text/plain", "only GET\n");
            } else if (path.equals("/metrics")) {
                respond(ctx, 200, "text/plain; version=0.0.4; charset=utf-8", device.prometheus());
            } else if (path.equals("/status")) {
                respond(ctx, 200, "application/json", ControlServer.JSON.writeValueAsString(device.status()));
            } else {
                respond(ctx, 404, "text/plain", "not found: try /metrics or /status\n");
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        private static void respond(ChannelHandlerContext ctx, int code, String type, String body) {
            ByteBuf content = Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8));
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code),
                content);
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, type).setInt(HttpHeaderNames.CONTENT_LENGTH,
                content.readableBytes()).set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** "127.0.0.1:9464" as bound (the port is real when 0 was asked). */
    public String address() {
        InetSocketAddress a = (InetSocketAddress) server.localAddress();
        return a.getHostString() + ":" + a.getPort();
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly();
        transport.close();
    }
}
