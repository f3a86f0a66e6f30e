package io.jmpio.transport.nvme;

import io.jmpio.netty.FailureText;
import io.jmpio.netty.RoundFlush;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One NVMe/TCP connection: a queue pair (admin when {@code qid} is 0). It opens with ICReq/ICResp and a Fabrics
 * Connect, then carries commands whose command identifiers are free slots of the submission queue (at most
 * SQSIZE in flight, the rest wait here in order). Writes go in the capsule up to the controller's limit, else
 * on R2T as H2CData; reads come back as C2HData. Everything runs on the connection's event loop.
 */
final class QueuePair {
    /** What the queue pair tells its owner, on its event loop. */
    interface Listener {
        void ready(QueuePair q, int cntlid);

        /** Closed; {@code unanswered} are the commands that got no completion (their callbacks are not called). */
        void closed(QueuePair q, String reason, boolean fault, List<Command> unanswered);
    }

    /** A command's completion: CQE status (15-bit, see {@link Sqe#status}), DW0, DW1, a read's data (owned by the callee). */
    interface Completion {
        void completed(int status, int dw0, int dw1, ByteBuf data);
    }

    /**
     * One command in the queue: its SQE (CID written when sent), its data out and data-in length. A reusable
     * command owns its SQE buffer (the codec copies the SQE into the PDU it writes) and is {@link #reset} for its
     * next use once its completion has run; any other command's SQE is released when it is done.
     */
    static final class Command {
        final ByteBuf sqe;
        ByteBuf dataOut;
        int dataInLength;
        final Completion completion;
        final Object attachment;
        private final boolean reusable;
        int cid = -1;
        ByteBuf dataIn;
        /** Data bytes the controller has sent for this command, kept or not (see {@link #dataDigestFailed}). */
        int dataInReceived;
        /**
         * A C2HData of this command failed its data digest: its data is dropped, and the command ends with Data
         * Transfer Error when the controller ends it (its CapsuleResp, or C2HData SUCCESS). Ending it at the bad PDU
         * would free its CID while the controller still sends for it, and what it sends next would land on the next
         * command given that CID.
         */
        boolean dataDigestFailed;
        int dataOutSent;

        Command(ByteBuf sqe, ByteBuf dataOut, int dataInLength, Completion completion, Object attachment) {
            this(sqe, dataOut, dataInLength, completion, attachment, false);
        }

        private Command(ByteBuf sqe, ByteBuf dataOut, int dataInLength, Completion completion, Object attachment,
                        boolean reusable) {
            this.sqe = sqe;
            this.dataOut = dataOut;
            this.dataInLength = dataInLength;
            this.completion = completion;
            this.attachment = attachment;
            this.reusable = reusable;
        }

        /** A command used again and again by one owner, with an SQE buffer of its own (heap, never released). */
        static Command reusable(Completion completion, Object attachment) {
            return new Command(Unpooled.buffer(Sqe.LENGTH, Sqe.LENGTH).writeZero(Sqe.LENGTH), null, 0, completion,
                attachment, true);
        }

        /** Ready for its next use: the SQE is the caller's to fill ({@link Sqe#clear}); data as given. */
        Command reset(ByteBuf dataOut, int dataInLength) {
            this.dataOut = dataOut;
            this.dataInLength = dataInLength;
            this.cid = -1;
            this.dataIn = null;
            this.dataInReceived = 0;
            this.dataDigestFailed = false;
            this.dataOutSent = 0;
            return this;
        }

        void releaseBuffers() {
            if (!reusable && sqe.refCnt() > 0) {
                sqe.release();
            }
            if (dataIn != null) {
                dataIn.release();
                dataIn = null;
            }
        }
    }

    enum State { CONNECTING, CONNECTED, READY, CLOSED }

    private final int qid;
    private final int sqsize;
    private final int kato;
    private final int requestedCntlid;
    private final String subnqn;
    private final String hostnqn;
    private final byte[] hostId;
    private final boolean wantHeaderDigest;
    private final boolean wantDataDigest;
    private final Listener listener;
    private final PduCodec codec = new PduCodec();
    private final Command[] inFlight;
    private final ArrayDeque<Integer> freeCids = new ArrayDeque<>();
    private final ArrayDeque<Command> waiting = new ArrayDeque<>();
    private Channel channel;
    private State state = State.CONNECTING;
    private int maxH2CData;
    /** Largest write sent in the capsule on this queue (admin 8 KiB; I/O from Identify's IOCCSZ). */
    private int inCapsuleLimit;
    private int cntlid = -1;
    private ScheduledFuture<?> setupTimer;
    /** Commands sent during one event-loop round go out in one write. */
    private RoundFlush roundFlush;
    /** Connect with CATTR bit 2: the controller completes reads by their C2HData's SUCCESS flag. */
    private boolean sqFlowOff;

    QueuePair(int qid, int sqsize, int kato, int cntlid, String subnqn, String hostnqn, byte[] hostId,
              boolean headerDigest, boolean dataDigest, int inCapsuleLimit, Listener listener) {
        this.qid = qid;
        this.sqsize = sqsize;
        this.kato = kato;
        this.requestedCntlid = cntlid;
        this.subnqn = subnqn;
        this.hostnqn = hostnqn;
        this.hostId = hostId.clone();
        this.wantHeaderDigest = headerDigest;
        this.wantDataDigest = dataDigest;
        this.inCapsuleLimit = inCapsuleLimit;
        this.listener = listener;
        this.inFlight = new Command[sqsize];
        for (int i = 0; i < sqsize; i++) {
            freeCids.add(i);
        }
    }

    /**
     * Asks the controller at Connect to run this queue without SQ flow control (only where its discovery entry
     * offers it, TREQ bit 2): SQHD is not tracked by this host anyway, and a read then completes with its data.
     */
    QueuePair withoutSqFlowControl() {
        sqFlowOff = true;
        return this;
    }

    /** Connects on {@code loop}; the listener hears ready or closed. */
    void connect(EventLoop loop, Class<? extends Channel> channelClass, InetSocketAddress address, long timeoutMillis) {
        Bootstrap b = new Bootstrap().group(loop).channel(channelClass)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMillis))
            .handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(codec.new Decoder(), new Handler());
                }
            });
        ChannelFuture f = b.connect(address);
        channel = f.channel();
        roundFlush = new RoundFlush(channel);
        setupTimer = loop.schedule(() -> close("no ICResp and Connect answer within " + timeoutMillis + " ms", true),
            timeoutMillis, TimeUnit.MILLISECONDS);
        f.addListener(x -> {
            if (!f.isSuccess()) {
                close("cannot connect to " + address.getHostString() + ":" + address.getPort() + ": "
                    + (f.cause() == null ? "refused" : FailureText.of(f.cause())), true);
                return;
            }
            if (state != State.CONNECTING) {
                f.channel().close();
                return;
            }
            channel.writeAndFlush(PduCodec.icReq(channel.alloc(), wantHeaderDigest, wantDataDigest));
        });
    }

    State state() {
        return state;
    }

    int cntlid() {
        return cntlid;
    }

    EventLoop loop() {
        return channel.eventLoop();
    }

    void inCapsuleLimit(int bytes) {
        inCapsuleLimit = bytes;
    }

    int inFlightCount() {
        return sqsize - freeCids.size();
    }

    /** Queues a command (on the event loop); it goes out when the queue is ready and has a free slot. */
    void submit(Command c) {
        if (state == State.CLOSED) {
            c.completion.completed(0x370 /* host pathing error */, 0, 0, null);
            c.releaseBuffers();
            return;
        }
        waiting.add(c);
        drain();
    }

    private void drain() {
        if (state != State.READY) {
            return;
        }
        boolean wrote = false;
        while (!waiting.isEmpty() && !freeCids.isEmpty()) {
            send(waiting.poll(), freeCids.poll());
            wrote = true;
        }
        if (wrote) {
            roundFlush.request();
        }
    }

    private void send(Command c, int cid) {
        c.cid = cid;
        inFlight[cid] = c;
        c.sqe.setShortLE(Sqe.CID_OFFSET, cid);
        int out = c.dataOut == null ? 0 : c.dataOut.readableBytes();
        ByteBuf inCapsule = null;
        if (out > 0 && out <= inCapsuleLimit) {
            c.sqe.setLongLE(Sqe.SGL_ADDRESS_OFFSET, 0);
            c.sqe.setIntLE(Sqe.SGL_LENGTH_OFFSET, out);
            c.sqe.setByte(Sqe.SGL_ID_OFFSET, Sqe.SGL_IN_CAPSULE);
            inCapsule = c.dataOut.retainedSlice();
            c.dataOutSent = out;
        } else if (out > 0 || c.dataInLength > 0) {
            c.sqe.setLongLE(Sqe.SGL_ADDRESS_OFFSET, 0);
            c.sqe.setIntLE(Sqe.SGL_LENGTH_OFFSET, Math.max(out, c.dataInLength));
            c.sqe.setByte(Sqe.SGL_ID_OFFSET, Sqe.SGL_TRANSPORT);
        }
        codec.writeCapsule(channel, c.sqe, inCapsule);
    }

    /** Closes: everything waiting or in flight is handed back unanswered. */
    void close(String reason, boolean fault) {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (setupTimer != null) {
            setupTimer.cancel(false);
        }
        if (channel != null) {
            channel.close();
        }
        List<Command> unanswered = new ArrayList<>();
        for (int i = 0; i < inFlight.length; i++) {
            if (inFlight[i] != null) {
                unanswered.add(inFlight[i]);
                inFlight[i].releaseBuffers();
                inFlight[i] = null;
            }
        }
        for (Command c : waiting) {
            c.releaseBuffers();
            unanswered.add(c);
        }
        waiting.clear();
        for (Command c : unanswered) {
            if (c.attachment == null && c.dataOut != null && c.dataOut.refCnt() > 0) {
                c.dataOut.release(); // this queue's own (the Connect's data): its completion will not run
            }
        }
        listener.closed(this, reason, fault, unanswered);
    }

    // ------------------------------------------------------------------------------------------------
    // Receiving

    private void onPdu(Pdu p) {
        try {
            switch (p.type()) {
                case Pdu.IC_RESP:
                    icResp(p.header());
                    break;
                case Pdu.CAPSULE_RESP:
                    capsuleResp(p.header());
                    break;
                case Pdu.C2H_DATA:
                    c2hData(p);
                    break;
                case Pdu.R2T:
                    r2t(p.header());
                    break;
                case Pdu.C2H_TERM_REQ:
                    throw new NvmeTransportException("the controller ended the connection (C2HTermReq FES "
                        + p.header().getUnsignedShortLE(Pdu.TERM_FES_OFFSET) + ")");
                default:
                    throw new NvmeTransportException("unexpected " + Pdu.name(p.type()));
            }
        } finally {
            p.release();
        }
    }

    private void icResp(ByteBuf h) {
        if (state != State.CONNECTING) {
            throw new NvmeTransportException("ICResp after the connection was set up");
        }
        int pfv = h.getUnsignedShortLE(Pdu.IC_PFV_OFFSET);
        int cpda = h.getUnsignedByte(Pdu.IC_CPDA_OFFSET);
        int dgst = h.getUnsignedByte(Pdu.IC_DGST_OFFSET);
        long maxh2c = h.getUnsignedIntLE(Pdu.IC_MAXH2CDATA_OFFSET);
        int asked = (wantHeaderDigest ? 1 : 0) | (wantDataDigest ? 2 : 0);
        if (pfv != 0 || cpda != 0 || dgst != asked || maxh2c < 4096 || maxh2c % 4 != 0) {
            throw new NvmeTransportException("ICResp refused: PFV " + pfv + ", CPDA " + cpda + ", digests " + dgst
                + " (asked " + asked + "), MAXH2CDATA " + maxh2c);
        }
        maxH2CData = (int) Math.min(maxh2c, 1 << 20);
        codec.digests(wantHeaderDigest, wantDataDigest);
        state = State.CONNECTED;
        ByteBuf sqe = Sqe.of(channel.alloc(), Sqe.FABRICS).u8(Sqe.NSID_OFFSET, Sqe.FCTYPE_CONNECT)
            .u16(Sqe.CDW10 + 2, qid).u16(Sqe.CDW11, sqsize - 1).u8(Sqe.CDW11 + 2, sqFlowOff ? Sqe.CATTR_DISABLE_SQ_FLOW : 0)
            .dw(Sqe.CDW12, kato).buf();
        ByteBuf data = Sqe.connectData(channel.alloc(), hostId, requestedCntlid, subnqn, hostnqn);
        int saved = inCapsuleLimit;
        inCapsuleLimit = 8192; // Fabrics commands always carry their data in the capsule
        Command connect = new Command(sqe, data, 0, (status, dw0, dw1, in) -> {
            data.release();
            if (status != 0) {
                close("Connect to " + subnqn + " refused: " + Sqe.describe(status), true);
                return;
            }
            cntlid = dw0 & 0xFFFF;
            state = State.READY;
            if (setupTimer != null) {
                setupTimer.cancel(false);
            }
            listener.ready(this, cntlid);
            drain();
        }, null);
        // the Connect goes first, whatever waits
        int cid = freeCids.poll();
        send(connect, cid);
        channel.flush();
        inCapsuleLimit = saved;
    }

    private Command inFlightAt(int cid, String what) {
        Command c = cid < inFlight.length ? inFlight[cid] : null;
        if (c == null) {
            throw new NvmeTransportException(what + " for command " + cid + ", which is not outstanding");
        }
        return c;
    }

    private void capsuleResp(ByteBuf h) {
        int at = Pdu.CQE_OFFSET;
        int dw0 = h.getIntLE(at);
        int dw1 = h.getIntLE(at + 4);
        int cid = h.getUnsignedShortLE(at + 12);
        int status = Sqe.status(h.getUnsignedShortLE(at + 14));
        Command c = inFlightAt(cid, "CapsuleResp");
        finish(c, status, dw0, dw1);
    }

    private void finish(Command c, int status, int dw0, int dw1) {
        ByteBuf data = c.dataIn;
        if (c.dataDigestFailed) {
            status = Sqe.SC_DATA_TRANSFER_ERROR; // whatever the controller said: the data did not arrive intact
        }
        if (status == 0 && c.dataInLength > 0 && (data == null || data.readableBytes() != c.dataInLength)) {
            // left in flight: the close this protocol error causes hands it back unanswered with the others (to be
            // issued again on another path), and releases what it received
            throw new NvmeTransportException("command " + c.cid + " completed with "
                + (data == null ? 0 : data.readableBytes()) + " of " + c.dataInLength + " data bytes");
        }
        inFlight[c.cid] = null;
        freeCids.add(c.cid);
        c.dataIn = null;
        if (status != 0 && data != null) {
            data.release();
            data = null;
        }
        c.releaseBuffers();
        c.completion.completed(status, dw0, dw1, data);
        drain();
    }

    private void c2hData(Pdu p) {
        ByteBuf h = p.header();
        int cid = h.getUnsignedShortLE(Pdu.DATA_CCCID_OFFSET);
        long datao = h.getUnsignedIntLE(Pdu.DATA_OFFSET_OFFSET);
        long datal = h.getUnsignedIntLE(Pdu.DATA_LENGTH_OFFSET);
        Command c = inFlightAt(cid, "C2HData");
        int have = c.dataInReceived;
        if (datal != p.data().readableBytes() || datao != have || datao + datal > c.dataInLength) {
            throw new NvmeTransportException("C2HData for command " + cid + " at " + datao + "+" + datal + " ("
                + p.data().readableBytes() + " bytes; " + have + " of " + c.dataInLength + " received)");
        }
        c.dataInReceived += (int) datal;
        if (p.dataDigestBad() || c.dataDigestFailed) {
            c.dataDigestFailed = true; // this PDU's data, and the rest of the command's, is dropped (p.release)
        } else if (c.dataIn == null) {
            // keep the received buffers as they are: the caller gets them without a copy (one PDU: that buffer
            // itself; several: a composite of them)
            c.dataIn = p.data().retain();
        } else {
            if (!(c.dataIn instanceof CompositeByteBuf)) {
                c.dataIn = channel.alloc().compositeBuffer(16).addComponent(true, c.dataIn);
            }
            ((CompositeByteBuf) c.dataIn).addComponent(true, p.data().retain());
        }
        if ((p.flags() & Pdu.FLAG_SUCCESS) != 0) {
            if ((p.flags() & Pdu.FLAG_LAST) == 0) {
                throw new NvmeTransportException("C2HData SUCCESS without LAST");
            }
            finish(c, 0, 0, 0);
        }
    }

    private void r2t(ByteBuf h) {
        int cid = h.getUnsignedShortLE(Pdu.DATA_CCCID_OFFSET);
        int ttag = h.getUnsignedShortLE(Pdu.DATA_TTAG_OFFSET);
        long r2to = h.getUnsignedIntLE(Pdu.DATA_OFFSET_OFFSET);
        long r2tl = h.getUnsignedIntLE(Pdu.DATA_LENGTH_OFFSET);
        Command c = inFlightAt(cid, "R2T");
        int total = c.dataOut == null ? 0 : c.dataOut.readableBytes();
        if (r2tl == 0 || r2to < c.dataOutSent || r2to + r2tl > total) {
            throw new NvmeTransportException("R2T for command " + cid + " asks " + r2to + "+" + r2tl + " of " + total
                + " bytes (" + c.dataOutSent + " sent)");
        }
        long at = r2to;
        long end = r2to + r2tl;
        while (at < end) {
            int n = (int) Math.min(maxH2CData, end - at);
            ByteBuf chunk = c.dataOut.retainedSlice(c.dataOut.readerIndex() + (int) at, n);
            codec.writeH2cData(channel, cid, ttag, at, chunk, at + n == end);
            at += n;
        }
        c.dataOutSent = (int) end;
        roundFlush.request();
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            onPdu((Pdu) msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            close("connection closed by the controller", true);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            close(c instanceof NvmeTransportException ? "protocol error: " + c.getMessage()
                : "connection error: " + FailureText.of(c), true);
        }
    }

}
