package io.jmpio.emu.controller;

import io.jmpio.emu.protocol.Frame;
import io.jmpio.netty.ConnectionGuard;
import io.jmpio.emu.protocol.FrameDecoder;
import io.jmpio.emu.protocol.FrameEncoder;
import io.jmpio.netty.NettyTransport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/** One front-end port of a controller: a listening socket, its host connections, and its injected faults. */
final class FrontEndPort {
    enum FlakyMode { ERROR, DROP, MIXED }

    final int index;
    private final ConnectionGuard guard;
    private final ArrayFrontEnd frontEnd;
    private final NettyTransport transport;
    private final String host;
    private volatile int port;
    private volatile Channel server;
    final ChannelGroup sessions = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private volatile boolean adminDown;
    private volatile long latencyNanos;
    private volatile double flakyRate;
    private volatile FlakyMode flakyMode = FlakyMode.MIXED;
    final LongAdder requests = new LongAdder();
    final LongAdder errors = new LongAdder();
    final LongAdder injected = new LongAdder();

    FrontEndPort(ArrayFrontEnd frontEnd, NettyTransport transport, int index, String host, int port,
                 int maxConnections, long idleMillis, long partialFrameMillis) {
        this.guard = new ConnectionGuard("controller " + frontEnd.controllerId() + " port " + index, maxConnections, idleMillis,
            partialFrameMillis, false);
        this.frontEnd = frontEnd;
        this.transport = transport;
        this.index = index;
        this.host = host;
        this.port = port;
    }

    synchronized void bind() throws IOException {
        if (server != null && server.isOpen()) {
            return;
        }
        ChannelFuture f = guard.listen(transport, new InetSocketAddress(host, port), ch -> {
            sessions.add(ch);
            ch.pipeline().addLast(new FlushConsolidationHandler(256, true), new FrameDecoder(), FrameEncoder.INSTANCE,
                new FrontEndHandler(frontEnd, FrontEndPort.this));
        });
        if (!f.isSuccess()) {
            throw new IOException("controller " + frontEnd.controllerId() + ": cannot listen on " + host + ":" + port + ": "
                + f.cause().getMessage(), f.cause());
        }
        server = f.channel();
        port = ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Closes the listener and every connection. */
    synchronized void close() {
        Channel s = server;
        server = null;
        if (s != null) {
            s.close().awaitUninterruptibly();
        }
        sessions.close().awaitUninterruptibly();
    }

    boolean isUp() {
        Channel s = server;
        return s != null && s.isActive() && !adminDown;
    }

    void setAdminDown(boolean down) throws IOException {
        adminDown = down;
        if (down) {
            close();
        } else {
            bind();
        }
    }

    boolean adminDown() {
        return adminDown;
    }

    String address() {
        return host + ":" + port;
    }

    int port() {
        return port;
    }

    void setLatencyMillis(long ms) {
        latencyNanos = TimeUnit.MILLISECONDS.toNanos(ms);
    }

    long latencyMillis() {
        return TimeUnit.NANOSECONDS.toMillis(latencyNanos);
    }

    void setFlaky(double rate, FlakyMode mode) {
        if (rate < 0 || rate > 1) {
            throw new IllegalArgumentException("flaky rate must be within 0..1, got " + rate);
        }
        flakyRate = rate;
        flakyMode = mode;
    }

    double flakyRate() {
        return flakyRate;
    }

    FlakyMode flakyMode() {
        return flakyMode;
    }

    /** The fault to inflict on the next I/O request, if any: null, ERROR or DROP. */
    FlakyMode rollFlaky() {
        double r = flakyRate;
        if (r <= 0 || ThreadLocalRandom.current().nextDouble() >= r) {
            return null;
        }
        injected.increment();
        if (flakyMode == FlakyMode.MIXED) {
            return ThreadLocalRandom.current().nextBoolean() ? FlakyMode.ERROR : FlakyMode.DROP;
        }
        return flakyMode;
    }

    /** Sends a reply, after the injected latency if there is one. */
    void reply(ChannelHandlerContext ctx, Frame reply) {
        if (!reply.good()) {
            errors.increment();
        }
        long delay = latencyNanos;
        if (delay > 0) {
            ctx.executor().schedule(() -> write(ctx, reply), delay, TimeUnit.NANOSECONDS);
        } else {
            write(ctx, reply);
        }
    }

    private static void write(ChannelHandlerContext ctx, Frame reply) {
        if (ctx.channel().isActive()) {
            ctx.writeAndFlush(reply);
        } else {
            reply.release();
        }
    }
}
