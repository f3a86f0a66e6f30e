package io.jmpio.transport.array;

import io.jmpio.api.IoErrorKind;
import io.jmpio.emu.protocol.ArrayClient;
import io.jmpio.emu.protocol.Frame;
import io.jmpio.emu.protocol.FrameDecoder;
import io.jmpio.emu.protocol.FrameEncoder;
import io.jmpio.emu.protocol.FrameHeader;
import io.jmpio.emu.protocol.Opcode;
import io.jmpio.emu.protocol.Status;
import io.jmpio.transport.IoCommand;
import io.jmpio.transport.Outcome;
import io.jmpio.transport.PortInfo;
import io.jmpio.transport.QueueChannel;
import io.jmpio.transport.QueueListener;
import io.jmpio.transport.TransportContext;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.collection.LongObjectHashMap;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One I/O queue's private connection to one path: registered as the host, then carrying that queue's
 * commands as frames tagged per command. Everything runs on the queue's event loop.
 */
final class ArrayQueueChannel implements QueueChannel {
    private enum State { CONNECTING, REGISTERING, READY, CLOSED }

    private final TransportContext ctx;
    private final PortInfo port;
    private final int lunId;
    private final EventLoop loop;
    private final QueueListener listener;
    private final LongObjectHashMap<IoCommand> pending = new LongObjectHashMap<>();
    private final ArrayDeque<IoCommand> waiting = new ArrayDeque<>();
    private Channel channel;
    private State state = State.CONNECTING;
    private long nextTag = 1;
    private long registerTag;

    ArrayQueueChannel(TransportContext ctx, PortInfo port, int lunId, EventLoop loop, QueueListener listener) {
        this.ctx = ctx;
        this.port = port;
        this.lunId = lunId;
        this.loop = loop;
        this.listener = listener;
    }

    void connect(Class<? extends Channel> channelClass) {
        Bootstrap b = new Bootstrap().group(loop).channel(channelClass)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) ctx.connectTimeoutMillis())
            .handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new FlushConsolidationHandler(64, true), new FrameDecoder(),
                        FrameEncoder.INSTANCE, new Handler());
                }
            });
        ChannelFuture f = b.connect(ArrayClient.parseAddress(port.address()));
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
            registerTag = nextTag++;
            byte[] id = ctx.hostName().getBytes(StandardCharsets.US_ASCII);
            channel.writeAndFlush(Frame.request(Opcode.REGISTER, registerTag, 0, 0, 0, Unpooled.wrappedBuffer(id)));
        });
    }

    @Override
    public void send(IoCommand c) {
        if (state == State.READY) {
            write(c);
        } else if (state == State.CLOSED) {
            listener.closed(this, "connection closed", false, List.of(c));
        } else {
            waiting.add(c);
        }
    }

    private void write(IoCommand c) {
        long tag = nextTag++;
        pending.put(tag, c);
        int opcode;
        ByteBuf payload = null;
        switch (c.op()) {
            case READ: opcode = Opcode.READ; break;
            case WRITE: opcode = Opcode.WRITE; payload = c.data().retainedDuplicate(); break;
            case FLUSH: opcode = Opcode.FLUSH; break;
            case DISCARD: opcode = Opcode.DISCARD; break;
            default: opcode = Opcode.WRITE_ZEROES;
        }
        channel.write(new Frame(opcode, c.fua() ? FrameHeader.FLAG_FUA : 0, tag, lunId, Status.GOOD, 0, c.offset(),
            c.length(), 0, payload), channel.voidPromise());
        channel.flush();
    }

    @Override
    public void close(String reason) {
        closed(reason, false);
    }

    private void closed(String reason, boolean pathFault) {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (channel != null) {
            channel.close();
        }
        List<IoCommand> back = new ArrayList<>(pending.values());
        pending.clear();
        back.addAll(waiting);
        waiting.clear();
        listener.closed(this, reason, pathFault, back);
    }

    private void onFrame(Frame frame) {
        if (frame.isNotice()) {
            frame.release(); // the path's admin connection hears the same notice and refreshes
            return;
        }
        if (state == State.REGISTERING && frame.tag() == registerTag) {
            frame.release();
            if (frame.status() != Status.GOOD) {
                closed("registration refused: " + frame.describe(), true);
                return;
            }
            state = State.READY;
            listener.ready(this);
            while (!waiting.isEmpty() && state == State.READY) {
                write(waiting.poll());
            }
            return;
        }
        IoCommand c = pending.remove(frame.tag());
        if (c == null) {
            frame.release();
            return;
        }
        int status = frame.status();
        if (status == Status.GOOD && c.op() == io.jmpio.api.IoOp.READ && frame.payload().readableBytes() != c.length()) {
            int got = frame.payloadLength();
            frame.release();
            pending.put(frame.tag(), c);
            closed("read reply of " + got + " bytes for " + c.length() + " asked", true);
            return;
        }
        if (status == Status.GOOD) {
            ByteBuf data = c.op() == io.jmpio.api.IoOp.READ ? frame.payload() : null;
            if (data == null) {
                frame.release();
            }
            listener.completed(this, c, Outcome.DONE, data);
            return;
        }
        String what = frame.describe() + " on " + port.id();
        frame.release();
        listener.completed(this, c, outcome(status, what), null);
    }

    static Outcome outcome(int status, String what) {
        if (!Status.isPathError(status)) {
            switch (status) {
                case Status.OUT_OF_RANGE: return Outcome.failed(IoErrorKind.OUT_OF_RANGE, what);
                case Status.ACCESS_DENIED: return Outcome.failed(IoErrorKind.ACCESS_DENIED, what);
                case Status.MEDIUM_ERROR: return Outcome.failed(IoErrorKind.MEDIUM_ERROR, what);
                case Status.INVALID_OPCODE: return Outcome.failed(IoErrorKind.UNSUPPORTED, what);
                default: return Outcome.failed(IoErrorKind.INVALID_REQUEST, what);
            }
        }
        switch (status) {
            case Status.TRANSPORT_ERROR: return Outcome.retryElsewhere(what);
            case Status.TRANSITIONING:
            case Status.BUSY: return Outcome.retryLater(what);
            default: return Outcome.staleState(what); // NOT_OWNER, STANDBY, UNAVAILABLE
        }
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            onFrame((Frame) msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed("connection closed by " + port.address(), true);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closed("connection error: " + (cause.getMessage() == null ? cause.toString() : cause.getMessage()), true);
        }
    }
}
