package io.jmpio.emu.nvme;

import io.jmpio.emu.controller.IoResult;
import io.jmpio.netty.RoundFlush;
import io.jmpio.emu.controller.Opcode;
import io.jmpio.emu.controller.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NVMe/TCP connection: one queue (admin, QID 0, or an I/O queue) of one controller. Runs ICReq, then
 * Connect ({@link FabricsConnect}), then the queue's commands: Fabrics (Property Get/Set), admin (Identify, Get
 * Log Page, Set/Get Features, Asynchronous Event Request, Keep Alive; those answered from the subsystem's state are
 * {@link AdminCommands}) or I/O (Read, Write, Flush, Write Zeroes, Dataset Management, reservations: {@link
 * IoCommands}); this class is the queue's transport: PDUs, data movement, flow control and answers. Writes
 * take their data in the capsule up to {@link IdentifyData#IN_CAPSULE_DATA}, by R2T and H2CData beyond
 * ({@link DataOutTransfers}). A transport error is answered with a C2HTermReq and the connection is closed; a bad
 * command gets its status. Everything runs on the connection's event loop.
 */
final class QueueHandler extends SimpleChannelInboundHandler<Pdu> {
    private static final Logger LOG = LoggerFactory.getLogger(QueueHandler.class);

    private final NvmeSubsystem subsystem;
    private final PduCodec codec;
    private final AdminCommands commands;
    private final IoCommands ioCommands;
    private final int portIndex;
    private ChannelHandlerContext ctx;
    /** The answers of one event-loop round go to the host in one write. */
    private RoundFlush roundFlush;
    private boolean icDone;
    private NvmeController ctrl;
    private int qid = -1;
    private int queueEntries;
    private int sqhd;
    /**
     * The host disabled SQ flow control at Connect (CATTR bit 2, offered by TREQ bit 2 in the discovery log): SQHD
     * is 0xFFFF in every completion, and a successful read ends with its C2HData PDU (SUCCESS flag) instead of a
     * CapsuleResp after it — one PDU per read fewer to build, send and parse.
     */
    private boolean sqFlowOff;
    private int outstanding;
    /** PDUs held while the host does not take its replies. */
    private final java.util.ArrayDeque<Pdu> deferred = new java.util.ArrayDeque<>();

    /** The commands' data taken from the host by R2T; null until the handler is added. */
    private DataOutTransfers transfers;

    /** What to run once a data-out command's data is all here; it owns (sends on or releases) the buffer. */
    interface Command {
        void run(ByteBuf data);
    }

    /** A command's (small) data as an array; the buffer is released. */
    static byte[] bytes(ByteBuf data) {
        try {
            return ByteBufUtil.getBytes(data);
        } finally {
            data.release();
        }
    }

    QueueHandler(NvmeSubsystem subsystem, PduCodec codec, int portIndex) {
        super(false);
        this.subsystem = subsystem;
        this.codec = codec;
        this.commands = new AdminCommands(subsystem, this);
        this.ioCommands = new IoCommands(subsystem, this, portIndex);
        this.portIndex = portIndex;
    }

    ChannelHandlerContext context() {
        return ctx;
    }

    /** The host disabled SQ flow control on this queue (reads complete by their C2HData). */
    boolean sqFlowOff() {
        return sqFlowOff;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.roundFlush = new RoundFlush(ctx.channel());
        this.transfers = new DataOutTransfers(this, subsystem, codec, ctx, roundFlush, portIndex);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Pdu p) {
        // a host whose replies pile up unread gets nothing more served until it reads them: the PDUs wait
        // (reading has stopped too, so at most one read's worth waits), in order
        if (!deferred.isEmpty() || !ctx.channel().isWritable()) {
            deferred.add(p);
            return;
        }
        start(ctx, p);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        while (!deferred.isEmpty() && ctx.channel().isWritable()) {
            start(ctx, deferred.poll());
        }
        super.channelWritabilityChanged(ctx);
    }

    private void start(ChannelHandlerContext ctx, Pdu p) {
        long delay = subsystem.faults(portIndex).latencyNanos;
        if (delay > 0) {
            // injected port latency: every PDU waits, in order, so replies keep their order too
            ctx.executor().schedule(() -> admit(ctx, p), delay, java.util.concurrent.TimeUnit.NANOSECONDS);
        } else {
            admit(ctx, p);
        }
    }

    private void admit(ChannelHandlerContext ctx, Pdu p) {
        // a paused array controller answers nothing, as a frozen one would: the PDU waits for the resume
        boolean taken = subsystem.controller.runWhenServing(() -> {
            if (ctx.executor().inEventLoop()) {
                handleIfConnected(p);
            } else {
                ctx.executor().execute(() -> handleIfConnected(p));
            }
        });
        if (!taken) {
            p.release();
            ctx.close();
        }
    }

    /**
     * A PDU that waited (a paused controller, injected latency, a full outbound buffer) is dropped when its
     * connection has closed meanwhile: the host has given up on its commands (and may have sent them through
     * another controller, and written newer data there), so carrying one out now could land it over that data.
     */
    private void handleIfConnected(Pdu p) {
        if (!ctx.channel().isActive()) {
            p.release();
            return;
        }
        handle(p);
    }

    private void handle(Pdu p) {
        try {
            switch (p.type()) {
                case Pdu.IC_REQ:
                    icReq(p);
                    break;
                case Pdu.H2C_TERM_REQ:
                    LOG.info("NVMe/TCP {}: host ended the connection (H2CTermReq FES {})", ctx.channel().remoteAddress(),
                        p.header().getUnsignedShortLE(p.header().readerIndex() + Pdu.TERM_FES_OFFSET));
                    ctx.close();
                    break;
                case Pdu.CAPSULE_CMD:
                    if (!icDone) {
                        throw new PduException(Pdu.FES_PDU_SEQUENCE, 0, "CapsuleCmd before ICReq");
                    }
                    capsule(p);
                    break;
                case Pdu.H2C_DATA:
                    if (!icDone) {
                        throw new PduException(Pdu.FES_PDU_SEQUENCE, 0, "H2CData before ICReq");
                    }
                    transfers.h2cData(p);
                    break;
                default:
                    throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, 0, "PDU type " + p.type());
            }
        } catch (PduException e) {
            terminate(e, p.header());
        } finally {
            p.release();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause.getCause() instanceof PduException ? cause.getCause() : cause;
        if (c instanceof PduException) {
            terminate((PduException) c, null);
            return;
        }
        LOG.debug("NVMe/TCP {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }

    private void terminate(PduException e, ByteBuf header) {
        LOG.warn("NVMe/TCP {}: fatal transport error (FES {}): {}; closing the connection", ctx.channel().remoteAddress(),
            e.fes, e.getMessage());
        ctx.writeAndFlush(PduCodec.termReq(ctx.alloc(), e.fes, e.fei, header)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        Pdu held;
        while ((held = deferred.poll()) != null) {
            held.release();
        }
        transfers.close();
        if (ctrl != null) {
            ctrl.queues.remove(ctx.channel());
            ctrl.ioQueueByQid.remove(qid, ctx.channel());
            if (qid == 0) {
                // the admin queue is the association: its I/O queues go with it
                subsystem.remove(ctrl);
                ctrl.failAers(cid -> { });
            }
        }
        super.channelInactive(ctx);
    }

    // ------------------------------------------------------------------------------------------------
    // Connection set-up

    private void icReq(Pdu p) {
        if (icDone) {
            throw new PduException(Pdu.FES_PDU_SEQUENCE, 0, "second ICReq");
        }
        ByteBuf h = p.header();
        int base = h.readerIndex();
        int pfv = h.getUnsignedShortLE(base + Pdu.IC_PFV_OFFSET);
        int hpda = h.getUnsignedByte(base + Pdu.IC_PDA_OFFSET);
        int dgst = h.getUnsignedByte(base + Pdu.IC_DGST_OFFSET);
        if (pfv != 0) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.IC_PFV_OFFSET, "PDU format version " + pfv);
        }
        if (hpda > 31) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.IC_PDA_OFFSET, "HPDA " + hpda + " above 31");
        }
        icDone = true;
        ctx.writeAndFlush(PduCodec.icResp(ctx.alloc(), dgst & 0x3, NvmeSubsystem.MAX_H2C_DATA));
        codec.digests((dgst & 1) != 0, (dgst & 2) != 0);
    }

    private void capsule(Pdu p) {
        Sqe sqe = new Sqe(p.header());
        int cid = sqe.cid();
        if (p.dataDigestBad()) {
            respond(cid, Nvme.SC_DATA_TRANSFER_ERROR, 0, 0);
            return;
        }
        if (ctrl != null) {
            ctrl.touched();
        }
        if (!sqFlowOff) {
            sqhd = queueEntries == 0 ? 0 : (sqhd + 1) % queueEntries;
        }
        if (ctrl != null && ++outstanding > queueEntries) {
            outstanding--;
            LOG.warn("NVMe/TCP {}: more commands than the queue's {} entries", ctx.channel().remoteAddress(), queueEntries);
            respond(cid, Nvme.SC_COMMAND_SEQUENCE | Nvme.DNR, 0, 0, false);
            return;
        }
        if (sqe.opcode() == Nvme.FABRICS) {
            fabrics(sqe, p.data());
        } else if (ctrl == null) {
            respond(cid, Nvme.SC_COMMAND_SEQUENCE | Nvme.DNR, 0, 0);
        } else if ((sqe.flags() & 0x03) != 0 || (sqe.flags() >> 6) != 1) {
            respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0); // fused, or not an SGL command
        } else if ((ctrl.csts & 1) == 0) {
            // the host disabled (or never enabled) it: until CSTS.RDY only Fabrics commands, as nvmet answers
            respond(cid, Nvme.SC_COMMAND_SEQUENCE | Nvme.DNR, 0, 0);
        } else if (qid == 0) {
            admin(sqe, p.data());
        } else {
            ioCommands.io(ctrl, sqe, p.data());
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Fabrics

    private void fabrics(Sqe sqe, ByteBuf data) {
        int cid = sqe.cid();
        switch (sqe.fctype()) {
            case Nvme.FCTYPE_CONNECT:
                connect(sqe, data);
                return;
            case Nvme.FCTYPE_PROPERTY_GET:
            case Nvme.FCTYPE_PROPERTY_SET:
                if (ctrl == null || qid != 0) {
                    respond(cid, Nvme.SC_COMMAND_SEQUENCE | Nvme.DNR, 0, 0);
                    return;
                }
                commands.property(ctrl, sqe);
                return;
            default:
                respond(cid, Nvme.SC_INVALID_OPCODE | Nvme.DNR, 0, 0);
        }
    }

    private void connect(Sqe sqe, ByteBuf data) {
        if (ctrl != null) {
            respond(sqe.cid(), Nvme.SC_COMMAND_SEQUENCE | Nvme.DNR, 0, 0);
            return;
        }
        FabricsConnect.Joined joined = FabricsConnect.run(subsystem, this, ctx.channel(), sqe, data);
        if (joined == null) {
            return;
        }
        ctrl = joined.controller();
        qid = joined.qid();
        queueEntries = joined.queueEntries();
        sqFlowOff = joined.sqFlowOff();
        if (sqFlowOff) {
            sqhd = 0xFFFF;
        }
        respond(sqe.cid(), 0, ctrl.cntlid, 0);
    }

    // ------------------------------------------------------------------------------------------------
    // Admin

    private void admin(Sqe sqe, ByteBuf data) {
        int cid = sqe.cid();
        switch (sqe.opcode()) {
            case Nvme.ADMIN_IDENTIFY:
                commands.identify(ctrl, sqe);
                return;
            case Nvme.ADMIN_GET_LOG_PAGE:
                commands.logPage(ctrl, sqe);
                return;
            case Nvme.ADMIN_SET_FEATURES:
                commands.setFeatures(ctrl, sqe);
                return;
            case Nvme.ADMIN_GET_FEATURES:
                commands.getFeatures(ctrl, sqe);
                return;
            case Nvme.ADMIN_ASYNC_EVENT:
                if (!ctrl.addAer(cid)) {
                    respond(cid, Nvme.SC_ASYNC_LIMIT | Nvme.DNR, 0, 0);
                    return;
                }
                outstanding--; // an outstanding AER does not count against the queue's entries
                deliverEvents(ctrl);
                return;
            case Nvme.ADMIN_ABORT:
                // a mandatory command with nothing to do here: every command is answered in its turn, none is
                // held back to abort; DW0 bit 0 says "not aborted", as nvmet answers it
                respond(cid, 0, 1, 0);
                return;
            case Nvme.ADMIN_KEEP_ALIVE:
                respond(cid, ctrl.katoMillis == 0 && !ctrl.discovery ? Nvme.SC_KEEP_ALIVE_INVALID : 0, 0, 0);
                return;
            default:
                respond(cid, Nvme.SC_INVALID_OPCODE | Nvme.DNR, 0, 0);
        }
    }

    /** Completes a controller's AERs for its pending notices, on each one's admin queue. */
    static void deliverEvents(NvmeController c) {
        if (c.queues.isEmpty()) {
            return;
        }
        io.netty.channel.Channel admin = c.queues.get(0);
        QueueHandler h = admin.pipeline().get(QueueHandler.class);
        if (h != null) {
            c.deliver((cid, dw0) -> h.respond(cid, 0, dw0, 0, false));
        }
    }

    /** The host's counters (by the NQN it connected with). */
    void count(int op, int length, IoResult r) {
        HostIoStats st = subsystem.hostStats(ctrl.hostNqn);
        if (st != null) {
            st.record(op == Opcode.READ, op == Opcode.WRITE, Integer.toUnsignedLong(length), r.status() == Status.GOOD);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Data movement

    /** A command's data from the capsule (in-capsule SGL) or, beyond it, asked for by R2T. */
    void dataOut(Sqe sqe, ByteBuf inCapsule, int length, Command command) {
        int cid = sqe.cid();
        int sgl = sqe.sglId();
        if (sgl == Sqe.SGL_DATA_BLOCK_OFFSET) {
            int limit = qid == 0 ? 8192 : IdentifyData.IN_CAPSULE_DATA;
            if (sqe.sglAddress() != 0 || inCapsule.readableBytes() != length || length > limit
                || sqe.sglLength() != length) {
                respond(cid, Nvme.SC_SGL_INVALID_OFFSET | Nvme.DNR, 0, 0);
                return;
            }
            // a write's data goes on as the slice of the capsule it came in (shipped: onto the link uncopied)
            command.run(inCapsule.retainedSlice());
            return;
        }
        if (sgl != Sqe.SGL_TRANSPORT_DATA_BLOCK) {
            respond(cid, Nvme.SC_SGL_TYPE_INVALID | Nvme.DNR, 0, 0); // keyed (RDMA) and other SGLs mean nothing on TCP
            return;
        }
        if (inCapsule.isReadable() || sqe.sglLength() != length) {
            respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
            return;
        }
        transfers.gather(cid, length, command);
    }

    /**
     * A write whose data the host sends on request: the R2T goes out once the LUN's owner has room for it
     * (through this controller or, shipped, the peer: an R2T on the owner's behalf), and each H2CData chunk
     * goes on to the owner as it arrives.
     */
    void streamedWrite(Sqe sqe, ByteBuf inCapsule, int lun, boolean fua, long offset, int length) {
        int cid = sqe.cid();
        if (inCapsule.isReadable() || sqe.sglLength() != length) {
            respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
            return;
        }
        transfers.streamedWrite(cid, lun, fua, offset, length);
    }

    /**
     * Sends a command's data to the host: one C2HData PDU, LAST set; with {@code success} also SUCCESS, which
     * completes the command (no CapsuleResp follows), else the CapsuleResp follows.
     */
    void c2hData(int cid, ByteBuf data, boolean success) {
        ByteBuf h = ctx.alloc().buffer(16);
        h.writeShortLE(cid).writeShortLE(0).writeIntLE(0).writeIntLE(data.readableBytes()).writeIntLE(0);
        int flags = Pdu.FLAG_DATA_LAST | (success ? Pdu.FLAG_DATA_SUCCESS : 0);
        if (data.isReadable()) {
            codec.write24(ctx, Pdu.C2H_DATA, flags, h, data);
        } else {
            ctx.write(codec.pdu24(ctx.alloc(), Pdu.C2H_DATA, flags, h, data));
        }
    }

    /** A command answered by its C2HData's SUCCESS flag: it leaves the queue as a CapsuleResp would have. */
    void completedByData() {
        if (ctrl != null && outstanding > 0) {
            outstanding--;
        }
        roundFlush.request();
    }

    /** Data for the host, then the command's success. */
    void dataIn(Sqe sqe, byte[] data) {
        int cid = sqe.cid();
        long want = sqe.sglLength();
        if (sqe.sglId() != Sqe.SGL_TRANSPORT_DATA_BLOCK || want < data.length && want == 0) {
            respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
            return;
        }
        byte[] out = want < data.length ? java.util.Arrays.copyOf(data, (int) want) : data;
        c2hData(cid, Unpooled.wrappedBuffer(out), false);
        respond(cid, 0, 0, 0);
    }

    void respond(int cid, int status, int dw0, int dw1) {
        respond(cid, status, dw0, dw1, true);
    }

    void respond(int cid, int status, int dw0, int dw1, boolean counted) {
        if (counted && ctrl != null && outstanding > 0) {
            outstanding--;
        }
        ByteBuf cqe = ctx.alloc().buffer(16);
        cqe.writeIntLE(dw0).writeIntLE(dw1).writeShortLE(sqhd).writeShortLE(qid < 0 ? 0 : qid).writeShortLE(cid)
            .writeShortLE(Nvme.cqeStatus(status));
        ctx.write(codec.pdu24(ctx.alloc(), Pdu.CAPSULE_RESP, 0, cqe, null));
        roundFlush.request();
    }
}
