package io.jmpio.core;

import io.jmpio.emu.protocol.ArrayClient;
import io.jmpio.emu.protocol.Frame;
import io.jmpio.emu.protocol.FrameDecoder;
import io.jmpio.emu.protocol.FrameEncoder;
import io.jmpio.emu.protocol.Opcode;
import io.jmpio.emu.protocol.Status;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.collection.LongObjectHashMap;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One I/O queue's private connection to one path: registered as the host, then carrying that queue's
 * requests only. Everything here runs on the queue's event loop, so nothing is locked.
 */
final class QueueConnection {
    enum State { CONNECTING, REGISTERING, READY, CLOSED }

    final IoQueue queue;
    final Path path;
    final LongObjectHashMap<Request> pending = new LongObjectHashMap<>();
    private final ArrayDeque<Request> waiting = new ArrayDeque<>();
    private final long openedNanos;
    private Channel channel;
    private State state = State.CONNECTING;
    private long registerTag;

    QueueConnection(IoQueue queue, Path path) {
        this.queue = queue;
        this.path = path;
        this.openedNanos = queue.device.ticker.nanos();
    }

    State state() {
        return state;
    }

    void connect() {
        MultipathDevice d = queue.device;
        Bootstrap b = new Bootstrap().group(queue.loop).channel(d.ioTransport.channelClass())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) d.config.connectTimeoutMillis())
            .handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new FlushConsolidationHandler(64, true), new FrameDecoder(),
                        FrameEncoder.INSTANCE, new Handler());
                }
            });
        ChannelFuture f = b.connect(ArrayClient.parseAddress(path.address));
        channel = f.channel();
        f.addListener(x -> {
            if (!f.isSuccess()) {
                closed("cannot connect: " + f.cause().getMessage(), true);
                return;
            }
            if (state != State.CONNECTING) {
                f.channel().close();
                return;
            }
            state = State.REGISTERING;
            registerTag = queue.nextTag();
            byte[] id = d.config.hostId().getBytes(StandardCharsets.US_ASCII);
            channel.writeAndFlush(Frame.request(Opcode.REGISTER, registerTag, 0, 0, 0, Unpooled.wrappedBuffer(id)));
        });
    }

    void send(Request r) {
        switch (state) {
            case READY:
                write(r);
                break;
            case CLOSED:
                queue.retryNow(r);
                break;
            default:
                waiting.add(r);
        }
    }

    private void write(Request r) {
        long tag = queue.nextTag();
        r.tag = tag;
        r.path = path;
        r.sentNanos = queue.device.ticker.nanos();
        pending.put(tag, r);
        path.inFlight.incrementAndGet();
        path.inFlightBytes.addAndGet(r.length);
        channel.write(queue.device.frameFor(r, tag), channel.voidPromise());
        channel.flush();
    }

    /** Oldest request still unanswered, as its send time; Long.MAX_VALUE when none. */
    long oldestSentNanos() {
        long oldest = Long.MAX_VALUE;
        for (Request r : pending.values()) {
            oldest = Math.min(oldest, r.sentNanos);
        }
        return oldest;
    }

    long openedNanos() {
        return openedNanos;
    }

    /**
     * Ends the connection and re-issues everything it held. {@code pathFault} says the path is to blame
     * (the device then fails the path for every queue); false when the device closed it on purpose.
     */
    void closed(String reason, boolean pathFault) {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (channel != null) {
            channel.close();
        }
        if (pathFault) {
            path.stats.pathErrors.increment();
            queue.device.pathFailed(path, reason);
        }
        List<Request> orphans = new ArrayList<>(pending.values());
        pending.clear();
        orphans.addAll(waiting);
        waiting.clear();
        for (Request r : orphans) {
            if (r.path == path && r.sentNanos != 0) {
                path.inFlight.decrementAndGet();
                path.inFlightBytes.addAndGet(-r.length);
            }
            r.avoid = path;
            r.path = null;
            r.sentNanos = 0;
            queue.retryNow(r);
        }
    }

    /** Fails everything held with the given failure (device close), without re-issuing. */
    void abort(io.jmpio.api.IoErrorKind kind, String message) {
        state = State.CLOSED;
        if (channel != null) {
            channel.close();
        }
        for (Request r : pending.values()) {
            path.inFlight.decrementAndGet();
            path.inFlightBytes.addAndGet(-r.length);
            r.fail(kind, message);
        }
        pending.clear();
        for (Request r : waiting) {
            r.fail(kind, message);
        }
        waiting.clear();
    }

    private void onFrame(Frame frame) {
        if (frame.isNotice()) {
            frame.release();
            queue.device.requestRefresh("ALUA change notice on " + path.id);
            return;
        }
        if (state == State.REGISTERING && frame.tag() == registerTag) {
            frame.release();
            if (frame.status() != Status.GOOD) {
                closed("registration refused: " + frame.describe(), true);
                return;
            }
            state = State.READY;
            while (!waiting.isEmpty() && state == State.READY) {
                write(waiting.poll());
            }
            return;
        }
        Request r = pending.remove(frame.tag());
        if (r == null) {
            frame.release();
            return;
        }
        path.inFlight.decrementAndGet();
        path.inFlightBytes.addAndGet(-r.length);
        queue.complete(this, r, frame);
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            onFrame((Frame) msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed("connection closed by " + path.address, true);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closed("connection error: " + cause.getMessage(), true);
        }
    }
}
