package io.jmpio.emu.nvme;

import io.jmpio.emu.controller.HostWrite;
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
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NVMe/TCP connection: one queue (admin, QID 0, or an I/O queue) of one controller. Runs ICReq, then
 * Connect ({@link FabricsConnect}), then the queue's commands: Fabrics (Property Get/Set), admin (Identify, Get
 * Log Page, Set/Get Features, Asynchronous Event Request, Keep Alive; those answered from the subsystem's state are
 * {@link AdminCommands}) or I/O (Read, Write, Flush, Write Zeroes, Dataset Management, reservations: {@link
 * IoCommands}); this class is the queue's transport: PDUs, data movement, flow control and answers. Writes
 * take their data in the capsule up to {@link IdentifyData#IN_CAPSULE_DATA}, by R2T and H2CData beyond. A
 * transport error is answered with a C2HTermReq and the connection is closed; a bad command gets its status.
 * Everything runs on the connection's event loop.
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
    private int nextTtag;
    /** Room for the data asked for by R2T; null until the handler is added. */
    private R2tRoom room;
    /** Watches the transfers in progress while there are any (and starts commands waiting for room). */
    private io.netty.util.concurrent.ScheduledFuture<?> transferWatch;
    /** PDUs held while the host does not take its replies. */
    private final java.util.ArrayDeque<Pdu> deferred = new java.util.ArrayDeque<>();
    /** Commands waiting for their data by R2T, by TTAG. */
    private final Map<Integer, DataOut> receiving = new HashMap<>();

    /** A command whose data arrives in H2CData PDUs. */
    private static final class DataOut {
        final int cid;
        final Command command;
        /** Gathered here (small admin-ish data), or null when each chunk goes straight on to {@code write}. */
        final ByteBuf data;
        final HostWrite write;
        final int length;
        int received;
        /** When the R2T went out or the last of its data came: a host that sends none for too long is cut off. */
        long lastDataNanos = System.nanoTime();
        /**
         * One of its H2CData PDUs failed its data digest: the rest of the range is still taken (and dropped), and
         * the command ends with Data Transfer Error once the host has sent it all. Ending it at the bad PDU would
         * make the host's next H2CData for it a PDU no R2T asked for, which ends the connection.
         */
        boolean digestFailed;

        DataOut(int cid, Command command, ByteBuf data, HostWrite write, int length) {
            this.cid = cid;
            this.command = command;
            this.data = data;
            this.write = write;
            this.length = length;
        }

        void release() {
            if (data != null) {
                data.release();
            } else {
                write.abort();
            }
        }
    }

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
        // a command waits for room half the transfer limit: the host hears "not ready" (and retries) well before
        // its own I/O timeout would reset the queue
        this.room = new R2tRoom(subsystem.r2tRoom, R2tRoom.PER_QUEUE, subsystem.transferMillis() * 500_000L);
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
                    h2cData(p);
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
        for (DataOut d : receiving.values()) {
            d.release();
        }
        receiving.clear();
        room.close();
        if (transferWatch != null) {
            transferWatch.cancel(false);
            transferWatch = null;
        }
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
        room.whenRoom(length, System.nanoTime(),
            () -> r2t(new DataOut(cid, command, ctx.alloc().heapBuffer(length, length), null, length)),
            () -> noRoom(cid));
        watchTransfers();
    }

    /** Answered when a command's data found no room in time: Namespace Not Ready, which the host retries. */
    private void noRoom(int cid) {
        respond(cid, Nvme.SC_NS_NOT_READY, 0, 0);
    }

    /** Asks the host for all of a command's data (one R2T). */
    private void r2t(DataOut d) {
        int ttag = nextTtag++ & 0xFFFF;
        while (receiving.containsKey(ttag)) {
            ttag = nextTtag++ & 0xFFFF;
        }
        receiving.put(ttag, d);
        d.lastDataNanos = System.nanoTime();
        ByteBuf h = ctx.alloc().buffer(16);
        h.writeShortLE(d.cid).writeShortLE(ttag).writeIntLE(0).writeIntLE(d.length).writeIntLE(0);
        ctx.write(codec.pdu24(ctx.alloc(), Pdu.R2T, 0, h, null));
        roundFlush.request();
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
        // the room is taken before the write begins: the write's buffer (the owner's, or the mirror copy kept when
        // shipped) is made when it begins
        room.whenRoom(length, System.nanoTime(), () -> beginStreamedWrite(cid, lun, fua, offset, length),
            () -> noRoom(cid));
        watchTransfers();
    }

    private void beginStreamedWrite(int cid, int lun, boolean fua, long offset, int length) {
        subsystem.controller.beginHostWrite(lun, fua, offset, length, portIndex).whenComplete((w, e) ->
            ctx.executor().execute(() -> {
                HostWrite write = w != null ? w : HostWrite.refused(IoResult.error(Status.MEDIUM_ERROR, 0));
                if (!ctx.channel().isActive() || write.refusal() != null) {
                    room.giveBack(length, System.nanoTime());
                    if (write.refusal() == null) {
                        write.abort();
                    } else if (ctx.channel().isActive()) {
                        respond(cid, IoCommands.status(write.refusal(), true), 0, 0);
                    }
                    return;
                }
                r2t(new DataOut(cid, null, null, write, length));
            }));
    }

    /**
     * While transfers are in progress or commands wait for room, checks them every quarter of the transfer
     * limit: a host that sends none of the data an R2T asked for within the limit holds room others need and
     * is cut off (its connection closed, as a host's own I/O timeout would reset the queue); commands waiting
     * for room that another queue gave back start. Time a paused controller stands still is not counted.
     */
    private void watchTransfers() {
        if (transferWatch != null || !room.busy()) {
            return;
        }
        long limit = subsystem.transferMillis() * 1_000_000L;
        long every = Math.max(50_000_000L, Math.min(limit / 4, 1_000_000_000L));
        transferWatch = ctx.executor().scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            for (DataOut d : receiving.values()) {
                if (subsystem.controller.paused()) {
                    d.lastDataNanos = now;
                } else if (now - d.lastDataNanos > limit) {
                    LOG.warn("NVMe/TCP {}: the host sent {} of the {} bytes an R2T asked for (command {}) and nothing"
                        + " more for {} ms; closing the connection", ctx.channel().remoteAddress(), d.received,
                        d.length, d.cid, (now - d.lastDataNanos) / 1_000_000);
                    ctx.close();
                    return;
                }
            }
            room.startWaiting(now);
            if (!room.busy() && transferWatch != null) {
                transferWatch.cancel(false);
                transferWatch = null;
            }
        }, every, every, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private void h2cData(Pdu p) {
        ByteBuf h = p.header();
        int base = h.readerIndex();
        int cccid = h.getUnsignedShortLE(base + Pdu.DATA_CCCID_OFFSET);
        int ttag = h.getUnsignedShortLE(base + Pdu.DATA_TTAG_OFFSET);
        long datao = h.getUnsignedIntLE(base + Pdu.DATA_OFFSET_OFFSET);
        long datal = h.getUnsignedIntLE(base + Pdu.DATA_LENGTH_OFFSET);
        DataOut d = receiving.get(ttag);
        if (d == null || d.cid != cccid) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.DATA_TTAG_OFFSET, "H2CData for TTAG " + ttag
                + " / CID " + cccid + ", which no R2T asked for");
        }
        if (datal != p.data().readableBytes() || datal == 0 || datal > NvmeSubsystem.MAX_H2C_DATA) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.DATA_LENGTH_OFFSET, "H2CData DATAL " + datal
                + " with " + p.data().readableBytes() + " bytes of data");
        }
        if (datao != d.received || datao + datal > d.length) {
            throw new PduException(Pdu.FES_DATA_OUT_OF_RANGE, Pdu.DATA_OFFSET_OFFSET, "H2CData at " + datao + "+" + datal
                + " (expected offset " + d.received + " of " + d.length + ")");
        }
        d.received += (int) datal;
        d.lastDataNanos = System.nanoTime();
        if (p.dataDigestBad() || d.digestFailed) {
            d.digestFailed = true;
            if (d.received == d.length) {
                receiving.remove(ttag);
                d.release();
                room.giveBack(d.length, d.lastDataNanos);
                respond(d.cid, Nvme.SC_DATA_TRANSFER_ERROR, 0, 0);
            }
            return;
        }
        if (d.data != null) {
            d.data.writeBytes(p.data());
        } else {
            d.write.data(datao, p.data());
        }
        if (d.received == d.length) {
            if ((p.flags() & Pdu.FLAG_DATA_LAST) == 0) {
                LOG.debug("NVMe/TCP {}: last H2CData without LAST", ctx.channel().remoteAddress());
            }
            receiving.remove(ttag);
            room.giveBack(d.length, d.lastDataNanos);
            if (d.data != null) {
                d.command.run(d.data);
                return;
            }
            d.write.commit().whenComplete((res, e) -> {
                IoResult r = res != null ? res : IoResult.error(Status.MEDIUM_ERROR, 0);
                count(Opcode.WRITE, d.length, r);
                ctx.executor().execute(() -> {
                    if (ctx.channel().isActive()) {
                        respond(d.cid, IoCommands.status(r, true), 0, 0);
                    }
                });
            });
        }
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
