package io.jmpio.emu.protocol;

import io.jmpio.netty.NettyTransport;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * An asynchronous connection to one front-end port. Requests carry host tags and may be answered out of
 * order; each {@link #submit} future completes with the reply frame (whose payload the caller releases),
 * or exceptionally with {@link ConnectionLostException} when the connection closes first.
 */
public final class ArrayClient implements AutoCloseable {
    private final Channel channel;
    private final Map<Long, CompletableFuture<Frame>> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextTag = new AtomicLong(1);
    private final Consumer<Frame> noticeListener;
    private final String address;

    /** Thrown into every outstanding request when the connection closes. */
    public static final class ConnectionLostException extends IOException {
        public ConnectionLostException(String message) {
            super(message);
        }
    }

    private ArrayClient(Channel channel, Consumer<Frame> noticeListener, String address) {
        this.channel = channel;
        this.noticeListener = noticeListener;
        this.address = address;
    }

    /** Connects, waiting at most {@code timeoutMillis}. Notices go to {@code noticeListener} (may be null). */
    public static ArrayClient connect(NettyTransport transport, InetSocketAddress address, Consumer<Frame> noticeListener,
                                      int timeoutMillis) throws IOException {
        return connect(transport.group(), transport.channelClass(), address, noticeListener, timeoutMillis);
    }

    /** As {@link #connect(NettyTransport, InetSocketAddress, Consumer, int)}, on the given event loops. */
    public static ArrayClient connect(io.netty.channel.EventLoopGroup group, Class<? extends Channel> channelClass,
                                      InetSocketAddress address, Consumer<Frame> noticeListener, int timeoutMillis)
            throws IOException {
        Holder holder = new Holder();
        Bootstrap b = new Bootstrap().group(group).channel(channelClass)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
            .handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new FrameDecoder(), FrameEncoder.INSTANCE, new ReplyHandler(holder));
                }
            });
        ChannelFuture f = b.connect(address).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new IOException("cannot connect to " + address.getHostString() + ":" + address.getPort() + ": "
                + f.cause().getMessage(), f.cause());
        }
        ArrayClient client = new ArrayClient(f.channel(), noticeListener, address.getHostString() + ":" + address.getPort());
        holder.client = client;
        f.channel().closeFuture().addListener(x -> client.failAll());
        return client;
    }

    public static ArrayClient connect(NettyTransport transport, String hostPort) throws IOException {
        return connect(transport, parseAddress(hostPort), null, 2000);
    }

    /** Parses "host:port" (IPv6 as "[::1]:port"). */
    public static InetSocketAddress parseAddress(String hostPort) {
        return io.jmpio.netty.HostPort.parse(hostPort);
    }

    private static final class Holder {
        volatile ArrayClient client;
    }

    private static final class ReplyHandler extends SimpleChannelInboundHandler<Frame> {
        private final Holder holder;

        ReplyHandler(Holder holder) {
            super(false);
            this.holder = holder;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
            ArrayClient c = holder.client;
            if (c == null) {
                frame.release();
                return;
            }
            c.onFrame(frame);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private void onFrame(Frame frame) {
        if (frame.isNotice()) {
            if (noticeListener != null) {
                noticeListener.accept(frame);
            } else {
                frame.release();
            }
            return;
        }
        CompletableFuture<Frame> f = pending.remove(frame.tag());
        if (f == null || !f.complete(frame)) {
            frame.release();
        }
    }

    private void failAll() {
        ConnectionLostException e = new ConnectionLostException("connection to " + address + " closed");
        for (Long tag : pending.keySet()) {
            CompletableFuture<Frame> f = pending.remove(tag);
            if (f != null) {
                f.completeExceptionally(e);
            }
        }
    }

    /** Sends one request; the payload is released by the transport. */
    public CompletableFuture<Frame> submit(int opcode, int flags, int lun, long offset, int length, ByteBuf payload) {
        long tag = nextTag.getAndIncrement();
        CompletableFuture<Frame> f = new CompletableFuture<>();
        pending.put(tag, f);
        Frame frame = new Frame(opcode, flags, tag, lun, Status.GOOD, Sense.NONE, offset, length, 0, payload);
        channel.writeAndFlush(frame).addListener(w -> {
            if (!w.isSuccess()) {
                CompletableFuture<Frame> p = pending.remove(tag);
                if (p != null) {
                    p.completeExceptionally(new ConnectionLostException("cannot send to " + address + ": " + w.cause()));
                }
            }
        });
        if (!channel.isActive()) {
            failAll();
        }
        return f;
    }

    public CompletableFuture<Frame> register(String hostId) {
        return submit(Opcode.REGISTER, 0, 0, 0, 0, Unpooled.wrappedBuffer(hostId.getBytes(StandardCharsets.UTF_8)));
    }

    public CompletableFuture<Frame> read(int lun, long offset, int length) {
        return submit(Opcode.READ, 0, lun, offset, length, null);
    }

    public CompletableFuture<Frame> write(int lun, long offset, byte[] data, boolean fua) {
        return submit(Opcode.WRITE, fua ? FrameHeader.FLAG_FUA : 0, lun, offset, data.length, Unpooled.wrappedBuffer(data));
    }

    public CompletableFuture<Frame> flush(int lun) {
        return submit(Opcode.FLUSH, 0, lun, 0, 0, null);
    }

    public CompletableFuture<Frame> simple(int opcode, int lun) {
        return submit(opcode, 0, lun, 0, 0, null);
    }

    /** Waits for a reply, turning interruption, timeout and connection loss into IOException. */
    public static Frame await(CompletableFuture<Frame> f, long timeoutMillis) throws IOException {
        try {
            return f.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException) {
                throw (IOException) e.getCause();
            }
            throw new IOException(e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("no reply within " + timeoutMillis + " ms");
        }
    }

    public int inFlight() {
        return pending.size();
    }

    public boolean isOpen() {
        return channel.isActive();
    }

    public String address() {
        return address;
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }
}
