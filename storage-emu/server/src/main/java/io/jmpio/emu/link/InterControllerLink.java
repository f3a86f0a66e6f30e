package io.jmpio.emu.link;

import io.jmpio.netty.FailureText;
import io.jmpio.netty.NettyTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This controller's end of the link to its peer. One listening socket; the controller whose id sorts first
 * dials every channel (one management, N shipping, N mirroring) and re-dials lost ones; each connection
 * opens with a HELLO naming its channel. Requests carry a correlation id and complete with the peer's REPLY,
 * or fail with {@link LinkDownException} when their connection closes or the reply is late.
 */
public final class InterControllerLink {
    private static final Logger LOG = LoggerFactory.getLogger(InterControllerLink.class);
    private static final AttributeKey<int[]> SLOT = AttributeKey.valueOf("jmpio.link.slot");
    private static final AttributeKey<int[]> DIALED = AttributeKey.valueOf("jmpio.link.dialed");
    private static final AttributeKey<LinkOutbox> OUTBOX = AttributeKey.valueOf("jmpio.link.outbox");
    /** Longest a new connection may take to authenticate before it is closed. */
    static final long AUTH_TIMEOUT_MILLIS = 5000;
    /** Management messages (hello, port lists, transitions) are small; anything larger is refused. */
    static final int MAX_MANAGEMENT_PAYLOAD = 64 << 10;
    /** Connections still authenticating that the listener holds at once; more are closed on accept. */
    static final int MAX_UNAUTHENTICATED = 8;
    /** Outbound bytes queued on one link connection before it counts as congested. */
    static final int HIGH_WATER = 8 << 20;
    static final int LOW_WATER = 4 << 20;

    /** What the controller does with what arrives. Called on event-loop threads. */
    public interface Handler {
        /** The peer's management channel said hello; {@code payload} is its self-description. */
        void onHello(byte[] payload);

        void onHeartbeat();

        /** A request from the peer; the returned future's frame is sent back as the reply. */
        CompletableFuture<LinkFrame> onRequest(LinkFrame request);

        /** The management channel closed. */
        void onManagementDown();
    }

    /** The link cannot carry the request (no connection, connection lost, or no reply in time). */
    public static final class LinkDownException extends IOException {
        public LinkDownException(String message) {
            super(message);
        }
    }

    private final String selfId;
    private final String peerId;
    private final NettyTransport transport;
    private final InetSocketAddress bindAddress;
    private final int dataChannels;
    private final Handler handler;
    private final Supplier<byte[]> hello;
    private final long requestTimeoutMillis;
    private final LinkSecurity security;
    private final AtomicInteger unauthenticated = new AtomicInteger();

    private final AtomicReferenceArray<Channel> management = new AtomicReferenceArray<>(1);
    private final AtomicReferenceArray<Channel> ship;
    private final AtomicReferenceArray<Channel> mirror;
    /** Messages and frames sent on data channels: their ratio is the mean batch. */
    private final java.util.concurrent.atomic.LongAdder dataMessages = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder dataFrames = new java.util.concurrent.atomic.LongAdder();
    private final PendingReplies pending;
    private volatile java.util.concurrent.ScheduledFuture<?> sweeper;
    private final AtomicInteger shipRoundRobin = new AtomicInteger();
    private final ConcurrentHashMap<Channel, Boolean> connections = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, Boolean> dialing = new ConcurrentHashMap<>();

    private volatile InetSocketAddress peerAddress;
    private volatile Channel server;
    private volatile int boundPort;
    private volatile boolean running;
    private volatile boolean partitioned;
    private volatile long latencyNanos;

    public InterControllerLink(String selfId, String peerId, NettyTransport transport, InetSocketAddress bindAddress,
                               int dataChannels, long requestTimeoutMillis, Handler handler, Supplier<byte[]> hello,
                               LinkSecurity security) {
        if (dataChannels < 1) {
            throw new IllegalArgumentException("the link needs at least one data channel per kind, got " + dataChannels);
        }
        this.selfId = selfId;
        this.peerId = peerId;
        this.transport = transport;
        this.bindAddress = bindAddress;
        this.dataChannels = dataChannels;
        this.requestTimeoutMillis = requestTimeoutMillis;
        this.handler = handler;
        this.hello = hello;
        this.security = security;
        this.ship = new AtomicReferenceArray<>(dataChannels);
        this.mirror = new AtomicReferenceArray<>(dataChannels);
        this.pending = new PendingReplies(peerId, requestTimeoutMillis);
    }

    /** Binds the listening socket (the same port again after a restart). */
    public void start() throws IOException {
        int port = boundPort != 0 ? boundPort : bindAddress.getPort();
        ChannelFuture f = new ServerBootstrap().group(transport.group()).channel(transport.serverChannelClass())
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(LOW_WATER, HIGH_WATER))
            .childHandler(initializer(false))
            .bind(new InetSocketAddress(bindAddress.getAddress(), port)).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new IOException("cannot listen for the inter-controller link on " + bindAddress.getHostString() + ":"
                + port + ": " + FailureText.of(f.cause()), f.cause());
        }
        server = f.channel();
        boundPort = ((InetSocketAddress) server.localAddress()).getPort();
        running = true;
        // one sweep of the requests in flight, rather than a timer task per request
        long every = Math.max(20, Math.min(250, requestTimeoutMillis / 4));
        sweeper = server.eventLoop().scheduleAtFixedRate(pending::sweep, every, every, TimeUnit.MILLISECONDS);
    }

    /** Closes every connection and the listener; pending requests fail. */
    public void stop() {
        running = false;
        java.util.concurrent.ScheduledFuture<?> sw = sweeper;
        if (sw != null) {
            sw.cancel(false);
        }
        Channel s = server;
        if (s != null) {
            s.close().awaitUninterruptibly();
        }
        disconnectAll();
    }

    public InetSocketAddress boundAddress() {
        return new InetSocketAddress(bindAddress.getAddress(), boundPort);
    }

    public void setPeerAddress(InetSocketAddress address) {
        this.peerAddress = address;
    }

    /** True when this end dials: its id sorts before the peer's. */
    public boolean dials() {
        return selfId.compareTo(peerId) < 0;
    }

    /** Closes every link connection; the dialing end reconnects at its next {@link #maintain()}. */
    public void disconnectAll() {
        for (Channel c : connections.keySet()) {
            c.close();
        }
        pending.failAll("link to " + peerId + " disconnected");
    }

    /** Fault: cut the link both ways until {@link #heal()}. */
    public void partition() {
        partitioned = true;
        disconnectAll();
    }

    public void heal() {
        partitioned = false;
    }

    public boolean isPartitioned() {
        return partitioned;
    }

    /** Fault: delay every message this end receives. */
    public void setLatencyMillis(long millis) {
        latencyNanos = TimeUnit.MILLISECONDS.toNanos(millis);
    }

    public long latencyMillis() {
        return TimeUnit.NANOSECONDS.toMillis(latencyNanos);
    }

    public boolean managementUp() {
        Channel c = management.get(0);
        return c != null && c.isActive();
    }

    public int connectedChannels() {
        int n = 0;
        for (Channel c : connections.keySet()) {
            if (c.isActive()) {
                n++;
            }
        }
        return n;
    }

    /** Messages sent on the data channels so far. */
    public long dataMessagesSent() {
        return dataMessages.sum();
    }

    /** Frames those messages left in (a batch is one frame). */
    public long dataFramesSent() {
        return dataFrames.sum();
    }

    public int dataChannels() {
        return dataChannels;
    }

    /** Dials the channels that are not connected (dialing end only). Called periodically. */
    public void maintain() {
        if (!running || partitioned || !dials() || peerAddress == null) {
            return;
        }
        dialIfMissing(management, LinkFrame.CHANNEL_MANAGEMENT, 0);
        for (int i = 0; i < dataChannels; i++) {
            dialIfMissing(ship, LinkFrame.CHANNEL_SHIP, i);
            dialIfMissing(mirror, LinkFrame.CHANNEL_MIRROR, i);
        }
    }

    private void dialIfMissing(AtomicReferenceArray<Channel> slots, int kind, int index) {
        Channel c = slots.get(index);
        if (c != null && c.isOpen() || dialing.putIfAbsent(kind * 1000 + index, Boolean.TRUE) != null) {
            return;
        }
        new Bootstrap().group(transport.group()).channel(transport.channelClass())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 1000)
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(LOW_WATER, HIGH_WATER))
            .attr(DIALED, new int[] {kind, index})
            .handler(initializer(true))
            .connect(peerAddress).addListener((ChannelFuture f) -> {
                if (!f.isSuccess()) {
                    dialing.remove(kind * 1000 + index);
                    return;
                }
                // the slot is taken once the peer has proved itself (see onAuthenticated); until then the
                // dial stays in progress so no second one starts
                f.channel().closeFuture().addListener(closed -> dialing.remove(kind * 1000 + index));
                if (!running || partitioned) {
                    f.channel().close();
                }
            });
    }

    /** A dialed connection passed authentication: it takes its slot and says hello. */
    private void onAuthenticated(Channel ch) {
        int[] dialed = ch.attr(DIALED).get();
        if (dialed == null) {
            return; // accepted: its HELLO names the slot
        }
        int kind = dialed[0];
        int index = dialed[1];
        dialing.remove(kind * 1000 + index);
        if (!running || partitioned) {
            ch.close();
            return;
        }
        takeSlot(ch, kind, index);
    }

    /** An authenticated connection becomes channel {@code kind/index} (closing the one it replaces) and says hello. */
    private void takeSlot(Channel ch, int kind, int index) {
        if (kind != LinkFrame.CHANNEL_MANAGEMENT) {
            // data channels batch what they send; management sends each message at once (a heartbeat never waits)
            ch.attr(OUTBOX).set(new LinkOutbox(ch, kind, f -> {
                if (f.kind() != LinkFrame.REPLY) {
                    pending.fail(f.correlation(), "cannot send to controller " + peerId + ": its " + channelName(kind)
                        + " connection closed");
                }
            }, dataMessages, dataFrames));
        }
        Channel previous = slotsOf(kind).getAndSet(index, ch);
        if (previous != null && previous != ch) {
            previous.close();
        }
        ch.attr(SLOT).set(new int[] {kind, index});
        connections.put(ch, Boolean.TRUE);
        ch.writeAndFlush(helloFrame(kind, index));
    }

    private AtomicReferenceArray<Channel> slotsOf(int kind) {
        return kind == LinkFrame.CHANNEL_MANAGEMENT ? management : kind == LinkFrame.CHANNEL_SHIP ? ship : mirror;
    }

    private LinkFrame helloFrame(int kind, int index) {
        byte[] h = kind == LinkFrame.CHANNEL_MANAGEMENT ? hello.get() : new byte[0];
        return LinkFrame.message(kind, LinkFrame.HELLO, index, 0, 0, 0, 0, 0, Unpooled.wrappedBuffer(h));
    }

    private ChannelInitializer<Channel> initializer(boolean dialer) {
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (partitioned || !running) {
                    ch.close();
                    return;
                }
                if (!dialer) {
                    if (unauthenticated.incrementAndGet() > MAX_UNAUTHENTICATED) {
                        unauthenticated.decrementAndGet();
                        LOG.warn("link: {} connections are already authenticating; refusing {}", MAX_UNAUTHENTICATED,
                            ch.remoteAddress());
                        ch.close();
                        return;
                    }
                    boolean[] counted = {true};
                    Runnable uncount = () -> {
                        if (counted[0]) {
                            counted[0] = false;
                            unauthenticated.decrementAndGet();
                        }
                    };
                    ch.closeFuture().addListener(c -> ch.eventLoop().execute(uncount));
                    ch.attr(UNCOUNT).set(uncount);
                }
                if (security.tls()) {
                    // the dialer checks that the peer's certificate names the address it dials
                    InetSocketAddress peer = peerAddress;
                    ch.pipeline().addLast(dialer ? security.clientTls().newHandler(ch.alloc(), peer.getHostString(),
                        peer.getPort()) : security.serverTls().newHandler(ch.alloc()));
                }
                // no flush consolidation here: data channels batch in their LinkOutbox, management flushes at once
                ch.pipeline().addLast(new LinkAuthenticator(security.secret(), dialer, AUTH_TIMEOUT_MILLIS,
                    ctx -> ctx.pipeline().addLast(new LinkCodec.Decoder(), LinkCodec.Encoder.INSTANCE,
                        new InboundHandler())));
            }
        };
    }

    private static final AttributeKey<Runnable> UNCOUNT = AttributeKey.valueOf("jmpio.link.uncount");

    /** Sends a request on the given channel kind and completes with the peer's reply. */
    public CompletableFuture<LinkFrame> request(LinkFrame message, int routeHint) {
        Channel ch = pick(message.channel(), routeHint);
        if (ch == null) {
            message.release();
            return CompletableFuture.failedFuture(new LinkDownException("no " + channelName(message.channel())
                + " channel to controller " + peerId));
        }
        CompletableFuture<LinkFrame> f = new CompletableFuture<>();
        long id = pending.add(f, ch);
        LinkOutbox outbox = ch.attr(OUTBOX).get();
        if (outbox != null) {
            outbox.send(message.withCorrelation(id));
        } else {
            ch.writeAndFlush(message.withCorrelation(id)).addListener(w -> {
                if (!w.isSuccess()) {
                    pending.fail(id, "cannot send to controller " + peerId + ": " + w.cause());
                }
            });
        }
        return f;
    }

    /** Sends a message that expects no reply. Returns false when no channel is connected. */
    public boolean send(LinkFrame message) {
        Channel ch = pick(message.channel(), 0);
        if (ch == null) {
            message.release();
            return false;
        }
        LinkOutbox outbox = ch.attr(OUTBOX).get();
        if (outbox != null) {
            outbox.send(message);
        } else {
            ch.writeAndFlush(message);
        }
        return true;
    }

    private Channel pick(int kind, int hint) {
        if (partitioned) {
            return null;
        }
        AtomicReferenceArray<Channel> slots = slotsOf(kind);
        int n = slots.length();
        if (kind == LinkFrame.CHANNEL_SHIP && hint == 0) {
            // a shipping channel served by the caller's own event loop: the request, its reply and the answer to
            // the host then stay on one thread, with no hand-off in either direction
            for (int i = 0; i < n; i++) {
                Channel c = slots.get(i);
                if (c != null && c.isActive() && c.isWritable() && c.eventLoop().inEventLoop()) {
                    return c;
                }
            }
        }
        if (kind == LinkFrame.CHANNEL_SHIP && hint != 0) {
            // the parts of one streamed write (a hint) stay in order on its one channel, congested or not: on
            // another they could overtake each other, and the owner drops a stream whose parts arrive out of
            // order. What a stream can queue is bounded by the room its front end gave it
            Channel c = slots.get(Math.floorMod(hint, n));
            return c != null && c.isActive() ? c : null;
        }
        // shipping spreads over its channels; the other kinds keep a message's hint (its LUN) on one
        int start = kind == LinkFrame.CHANNEL_SHIP
            ? (shipRoundRobin.getAndIncrement() & Integer.MAX_VALUE) % n : Math.floorMod(hint, n);
        Channel congested = null;
        for (int i = 0; i < n; i++) {
            Channel c = slots.get((start + i) % n);
            if (c != null && c.isActive()) {
                if (c.isWritable()) {
                    return c;
                }
                congested = c;
            }
        }
        // every connected channel of this kind is past its high-water mark: the peer is not reading. The
        // heartbeat still goes (it is tiny); data waits for the caller's retry rather than growing the queue.
        return kind == LinkFrame.CHANNEL_MANAGEMENT ? congested : null;
    }

    private static String channelName(int kind) {
        switch (kind) {
            case LinkFrame.CHANNEL_MANAGEMENT: return "management";
            case LinkFrame.CHANNEL_SHIP: return "shipping";
            default: return "mirroring";
        }
    }

    private final class InboundHandler extends SimpleChannelInboundHandler<LinkFrame> {
        InboundHandler() {
            super(false);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt == LinkAuthenticator.AUTHENTICATED) {
                Runnable uncount = ctx.channel().attr(UNCOUNT).get();
                if (uncount != null) {
                    uncount.run();
                }
                onAuthenticated(ctx.channel());
                return;
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
            // a peer that does not read our replies gets no more of its requests read until it does
            ctx.channel().config().setAutoRead(ctx.channel().isWritable());
            super.channelWritabilityChanged(ctx);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, LinkFrame f) {
            String bad = misplaced(ctx.channel(), f);
            if (bad != null) {
                LOG.warn("link: {} from {}; closing the connection", bad, ctx.channel().remoteAddress());
                f.release();
                ctx.close();
                return;
            }
            long delay = latencyNanos;
            if (delay > 0 && f.kind() != LinkFrame.HELLO) {
                ctx.executor().schedule(() -> dispatch(ctx, f), delay, TimeUnit.NANOSECONDS);
            } else {
                dispatch(ctx, f);
            }
        }

        /** Why a frame cannot arrive on this connection, or null: each channel carries its own kinds only. */
        private String misplaced(Channel ch, LinkFrame f) {
            int[] slot = ch.attr(SLOT).get();
            if (slot == null) {
                return f.kind() == LinkFrame.HELLO ? null : "message kind " + f.kind() + " before the channel's HELLO";
            }
            int channel = slot[0];
            if (f.channel() != channel) {
                return "message for the " + channelName(f.channel()) + " channel on the " + channelName(channel) + " one";
            }
            if (channel == LinkFrame.CHANNEL_MANAGEMENT && f.payload().readableBytes() > MAX_MANAGEMENT_PAYLOAD) {
                return "management message of " + f.payload().readableBytes() + " bytes (at most "
                    + MAX_MANAGEMENT_PAYLOAD + ")";
            }
            switch (f.kind()) {
                case LinkFrame.REPLY:
                    return null;
                case LinkFrame.HELLO:
                    return f.op() == slot[1] ? null : "second HELLO naming another channel";
                case LinkFrame.HEARTBEAT:
                case LinkFrame.MANAGEMENT:
                    return channel == LinkFrame.CHANNEL_MANAGEMENT ? null : kindName(f.kind()) + " on a data channel";
                case LinkFrame.SHIP_IO:
                case LinkFrame.SHIP_STREAM:
                    return channel == LinkFrame.CHANNEL_SHIP ? null : kindName(f.kind()) + " off the shipping channel";
                case LinkFrame.MIRROR_WRITE:
                case LinkFrame.MIRROR_RELEASE:
                    return channel == LinkFrame.CHANNEL_MIRROR ? null : kindName(f.kind()) + " off the mirroring channel";
                default:
                    return "unknown message kind " + f.kind();
            }
        }

        private void dispatch(ChannelHandlerContext ctx, LinkFrame f) {
            if (partitioned || !running) {
                f.release();
                ctx.close();
                return;
            }
            switch (f.kind()) {
                case LinkFrame.HELLO:
                    onHello(ctx, f);
                    return;
                case LinkFrame.HEARTBEAT:
                    f.release();
                    handler.onHeartbeat();
                    return;
                case LinkFrame.REPLY:
                    if (!pending.complete(f, ctx.channel())) {
                        // late (timed out), or a reply to a request this connection never carried
                        f.release();
                    }
                    return;
                default:
                    Channel ch = ctx.channel();
                    CompletableFuture<LinkFrame> reply;
                    try {
                        reply = handler.onRequest(f);
                    } catch (RuntimeException e) {
                        LOG.warn("link request kind {} failed", f.kind(), e);
                        f.release();
                        return;
                    }
                    if (reply != null) {
                        reply.whenComplete((r, e) -> {
                            LinkOutbox outbox = ch.attr(OUTBOX).get();
                            if (r != null && ch.isActive() && outbox != null) {
                                outbox.send(r.withCorrelation(f.correlation()));
                            } else if (r != null && ch.isActive()) {
                                ch.writeAndFlush(r.withCorrelation(f.correlation()));
                            } else if (r != null) {
                                r.release();
                            }
                        });
                    }
            }
        }

        private void onHello(ChannelHandlerContext ctx, LinkFrame f) {
            Channel ch = ctx.channel();
            int kind = f.channel();
            int index = f.op();
            byte[] payload = new byte[f.payload().readableBytes()];
            f.payload().readBytes(payload);
            f.release();
            if (kind > LinkFrame.CHANNEL_MIRROR) {
                LOG.warn("link: peer opened unknown channel kind {}; closing it", kind);
                ch.close();
                return;
            }
            if (ch.attr(DIALED).get() == null && ch.attr(SLOT).get() == null) {
                // accepted: register the slot and answer with our own hello
                AtomicReferenceArray<Channel> slots = slotsOf(kind);
                if (index >= slots.length()) {
                    LOG.warn("link: peer opened {} channel {} but only {} are configured here; closing it",
                        channelName(kind), index, slots.length());
                    ch.close();
                    return;
                }
                takeSlot(ch, kind, index);
            }
            if (kind == LinkFrame.CHANNEL_MANAGEMENT) {
                handler.onHello(payload);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            connections.remove(ch);
            int[] slot = ch.attr(SLOT).get();
            if (slot != null) {
                slotsOf(slot[0]).compareAndSet(slot[1], ch, null);
            }
            pending.failCarriedBy(ch, "link connection to controller " + peerId + " closed");
            if (slot != null && slot[0] == LinkFrame.CHANNEL_MANAGEMENT) {
                handler.onManagementDown();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof IOException) {
                LOG.info("link connection with {} closed: {}", ctx.channel().remoteAddress(), FailureText.of(cause));
            } else {
                LOG.warn("link connection with {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
            }
            ctx.close();
        }
    }

    private static String kindName(int kind) {
        switch (kind) {
            case LinkFrame.HELLO: return "HELLO";
            case LinkFrame.HEARTBEAT: return "HEARTBEAT";
            case LinkFrame.REPLY: return "REPLY";
            case LinkFrame.SHIP_IO: return "SHIP_IO";
            case LinkFrame.SHIP_STREAM: return "SHIP_STREAM";
            case LinkFrame.MIRROR_WRITE: return "MIRROR_WRITE";
            case LinkFrame.MIRROR_RELEASE: return "MIRROR_RELEASE";
            case LinkFrame.MANAGEMENT: return "MANAGEMENT";
            default: return "kind " + kind;
        }
    }

    /** Sends one heartbeat on the management channel (no reply expected). */
    public void heartbeat() {
        send(LinkFrame.message(LinkFrame.CHANNEL_MANAGEMENT, LinkFrame.HEARTBEAT, 0, 0, 0, 0, 0, 0, null));
    }
}
