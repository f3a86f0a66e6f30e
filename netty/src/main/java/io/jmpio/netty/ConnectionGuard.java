package io.jmpio.netty;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one listener grants a client it has not learned to trust: a bounded number of connections, a bounded
 * outbound queue (past the high-water mark the connection's reads stop until the client has read below the
 * low mark, so a client that never reads its replies costs at most the high-water mark), and time limits —
 * a frame must arrive whole within {@code partialMillis} of its first byte, and a connection that sends
 * nothing for {@code idleMillis} is closed (or, for protocols that idle legitimately once set up, only until
 * it is {@link #ready ready}).
 *
 * <p>Usage: {@link #configure} on the bootstrap; in the child initializer, {@link #admit} first (false: the
 * connection was closed), then {@link #head()} first in the pipeline; the decoder reports what it keeps
 * buffered through {@link #buffered} at the end of each decode.
 */
public final class ConnectionGuard {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionGuard.class);
    private static final AttributeKey<Head> HEAD = AttributeKey.valueOf("jmpio.guard.head");

    /** Outbound bytes queued per connection before its reads stop. */
    public static final int HIGH_WATER = 4 << 20;
    public static final int LOW_WATER = 1 << 20;

    private final String listener;
    private final int maxConnections;
    private final long idleNanos;
    private final long partialNanos;
    private final boolean idleUntilReadyOnly;
    private final AtomicInteger open = new AtomicInteger();

    /**
     * @param listener           named in log lines
     * @param maxConnections     connections held at once; more are closed on accept
     * @param idleMillis         a connection silent this long is closed
     * @param partialMillis      longest a frame may take from its first byte to its last
     * @param idleUntilReadyOnly the idle limit ends once the protocol calls {@link #ready}
     */
    public ConnectionGuard(String listener, int maxConnections, long idleMillis, long partialMillis,
                           boolean idleUntilReadyOnly) {
        if (maxConnections < 1 || idleMillis < 1 || partialMillis < 1) {
            throw new IllegalArgumentException("connection limits must be positive");
        }
        this.listener = listener;
        this.maxConnections = maxConnections;
        this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMillis);
        this.partialNanos = TimeUnit.MILLISECONDS.toNanos(partialMillis);
        this.idleUntilReadyOnly = idleUntilReadyOnly;
    }

    /** Sets the children's outbound water marks. */
    public ServerBootstrap configure(ServerBootstrap b) {
        return b.childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(LOW_WATER, HIGH_WATER));
    }

    /**
     * Binds a TCP listener on {@code transport} whose connections pass this guard first (admitted, then its
     * {@link #head()}), with reuse-address, no-delay and the water marks; {@code pipeline} adds the
     * protocol's handlers after the guard's.
     */
    public io.netty.channel.ChannelFuture listen(NettyTransport transport, java.net.InetSocketAddress address,
                                                 java.util.function.Consumer<Channel> pipeline) {
        return configure(new ServerBootstrap()).group(transport.group()).channel(transport.serverChannelClass())
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(new io.netty.channel.ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    if (admit(ch)) {
                        ch.pipeline().addLast(head());
                        pipeline.accept(ch);
                    }
                }
            })
            .bind(address).awaitUninterruptibly();
    }

    /** Counts the connection in; false (and the connection closed) when the listener is full. */
    public boolean admit(Channel ch) {
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            LOG.warn("{}: {} connections open; refusing {}", listener, maxConnections, ch.remoteAddress());
            ch.close();
            return false;
        }
        ch.closeFuture().addListener(f -> open.decrementAndGet());
        return true;
    }

    /** The first handler of an admitted connection's pipeline. */
    public ChannelDuplexHandler head() {
        return new Head();
    }

    /**
     * Called by the decoder of {@code ch} at the end of each decode with the bytes it keeps buffered: more
     * than zero is a frame in progress, whose clock starts now unless it already runs; zero stops it.
     */
    public static void buffered(Channel ch, int bytes) {
        Head h = ch.attr(HEAD).get();
        if (h == null) {
            return;
        }
        if (bytes <= 0) {
            h.partialSinceNanos = 0;
        } else if (h.partialSinceNanos == 0) {
            h.partialSinceNanos = System.nanoTime();
        }
    }

    /** The protocol of {@code ch} is set up (handshake done): an idle-until-ready limit ends. */
    public static void ready(Channel ch) {
        Head h = ch.attr(HEAD).get();
        if (h != null) {
            h.ready = true;
        }
    }

    private final class Head extends ChannelDuplexHandler {
        volatile long partialSinceNanos;
        volatile boolean ready;
        private long lastReadNanos;
        private long unwritableSinceNanos;
        private ScheduledFuture<?> check;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.channel().attr(HEAD).set(this);
            lastReadNanos = System.nanoTime();
            if (ctx.channel().isActive()) {
                schedule(ctx);
            }
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (check == null) {
                schedule(ctx);
            }
            ctx.fireChannelActive();
        }

        private void schedule(ChannelHandlerContext ctx) {
            long every = Math.max(TimeUnit.MILLISECONDS.toNanos(50), Math.min(idleNanos, partialNanos) / 4);
            check = ctx.executor().scheduleAtFixedRate(() -> check(ctx), every, every, TimeUnit.NANOSECONDS);
        }

        private void check(ChannelHandlerContext ctx) {
            long now = System.nanoTime();
            if (!ctx.channel().isWritable()) {
                // reads are stopped because the client does not take its replies: its clocks wait with it,
                // but a client that takes nothing for the idle limit is gone for good
                if (unwritableSinceNanos == 0) {
                    unwritableSinceNanos = now;
                } else if (now - unwritableSinceNanos > idleNanos) {
                    LOG.info("{}: {} read none of its replies for {} ms; closing", listener,
                        ctx.channel().remoteAddress(), TimeUnit.NANOSECONDS.toMillis(now - unwritableSinceNanos));
                    ctx.close();
                    return;
                }
                lastReadNanos = now;
                if (partialSinceNanos != 0) {
                    partialSinceNanos = now;
                }
                return;
            }
            unwritableSinceNanos = 0;
            if (!ctx.channel().config().isAutoRead()) {
                // the protocol itself stopped reading (too many requests in flight): not the client's time
                lastReadNanos = now;
                if (partialSinceNanos != 0) {
                    partialSinceNanos = now;
                }
                return;
            }
            long partial = partialSinceNanos;
            if (partial != 0 && now - partial > partialNanos) {
                LOG.info("{}: {} left a frame unfinished for {} ms; closing", listener, ctx.channel().remoteAddress(),
                    TimeUnit.NANOSECONDS.toMillis(now - partial));
                ctx.close();
            } else if (now - lastReadNanos > idleNanos && !(idleUntilReadyOnly && ready)) {
                LOG.info("{}: {} sent nothing for {} ms{}; closing", listener, ctx.channel().remoteAddress(),
                    TimeUnit.NANOSECONDS.toMillis(now - lastReadNanos), idleUntilReadyOnly ? " before its handshake" : "");
                ctx.close();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            lastReadNanos = System.nanoTime();
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            // a client that does not read its replies gets nothing more read until it has caught up
            ctx.channel().config().setAutoRead(ctx.channel().isWritable());
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (check != null) {
                check.cancel(false);
            }
            ctx.fireChannelInactive();
        }
    }
}
