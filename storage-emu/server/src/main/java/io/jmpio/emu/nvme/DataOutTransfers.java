package io.jmpio.emu.nvme;

import io.jmpio.emu.controller.HostWrite;
import io.jmpio.emu.controller.IoResult;
import io.jmpio.emu.controller.Opcode;
import io.jmpio.emu.controller.Status;
import io.jmpio.netty.RoundFlush;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data one queue's commands take from the host on request: room for it first ({@link R2tRoom}), then one
 * R2T per command under a TTAG of its own, then the H2CData PDUs checked against what was asked (a PDU no R2T
 * asked for, or out of order, is a fatal transport error) and gathered or passed on to the write as they come.
 * A host that leaves an R2T without data past the transfer limit is cut off. On the queue's event loop.
 */
final class DataOutTransfers {
    private static final Logger LOG = LoggerFactory.getLogger(DataOutTransfers.class);

    /** A command whose data arrives in H2CData PDUs. */
    private static final class DataOut {
        final int cid;
        final QueueHandler.Command command;
        /** Gathered here (small admin-ish data), or null when each chunk goes straight on to {@code write}. */
        final ByteBuf data;
        final HostWrite write;
        final int length;
        int received;
        /** When the R2T went out or the last of its data came: a host that sends none for too long is cut off. */
        long lastDataNanos;
        /**
         * One of its H2CData PDUs failed its data digest: the rest of the range is still taken (and dropped), and
         * the command ends with Data Transfer Error once the host has sent it all. Ending it at the bad PDU would
         * make the host's next H2CData for it a PDU no R2T asked for, which ends the connection.
         */
        boolean digestFailed;

        DataOut(int cid, QueueHandler.Command command, ByteBuf data, HostWrite write, int length) {
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

    private final QueueHandler queue;
    private final NvmeSubsystem subsystem;
    private final PduCodec codec;
    private final ChannelHandlerContext ctx;
    private final RoundFlush roundFlush;
    private final int portIndex;
    private final R2tRoom room;
    /** Commands waiting for their data by R2T, by TTAG. */
    private final Map<Integer, DataOut> receiving = new HashMap<>();
    private int nextTtag;
    /** Watches the transfers in progress while there are any (and starts commands waiting for room). */
    private ScheduledFuture<?> transferWatch;

    DataOutTransfers(QueueHandler queue, NvmeSubsystem subsystem, PduCodec codec, ChannelHandlerContext ctx,
                     RoundFlush roundFlush, int portIndex) {
        this.queue = queue;
        this.subsystem = subsystem;
        this.codec = codec;
        this.ctx = ctx;
        this.roundFlush = roundFlush;
        this.portIndex = portIndex;
        // a command waits for room half the transfer limit: the host hears "not ready" (and retries) well before
        // its own I/O timeout would reset the queue
        this.room = new R2tRoom(subsystem.r2tRoom, ctx.executor(), R2tRoom.PER_QUEUE,
            subsystem.transferMillis() * 500_000L);
    }

    /** Asks for a command's {@code length} bytes of data, gathered into one buffer handed to {@code command}. */
    void gather(int cid, int length, QueueHandler.Command command) {
        room.whenRoom(length, System.nanoTime(),
            () -> r2t(new DataOut(cid, command, ctx.alloc().heapBuffer(length, length), null, length)),
            () -> noRoom(cid));
        watchTransfers();
    }

    /**
     * A write whose data the host sends on request: the R2T goes out once the LUN's owner has room for it
     * (through this controller or, shipped, the peer: an R2T on the owner's behalf), and each H2CData chunk
     * goes on to the owner as it arrives.
     */
    void streamedWrite(int cid, int lun, boolean fua, long offset, int length) {
        // the room is taken before the write begins: the write's buffer (the owner's, or the mirror copy kept when
        // shipped) is made when it begins
        room.whenRoom(length, System.nanoTime(), () -> beginStreamedWrite(cid, lun, fua, offset, length),
            () -> noRoom(cid));
        watchTransfers();
    }

    /** The queue closed: what is being received is dropped, its room given back, the watch stopped. */
    void close() {
        for (DataOut d : receiving.values()) {
            d.release();
        }
        receiving.clear();
        room.close();
        if (transferWatch != null) {
            transferWatch.cancel(false);
            transferWatch = null;
        }
    }

    /** Answered when a command's data found no room in time: Namespace Not Ready, which the host retries. */
    private void noRoom(int cid) {
        queue.respond(cid, Nvme.SC_NS_NOT_READY, 0, 0);
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

    private void beginStreamedWrite(int cid, int lun, boolean fua, long offset, int length) {
        subsystem.controller.beginHostWrite(lun, fua, offset, length, portIndex).whenComplete((w, e) ->
            ctx.executor().execute(() -> {
                if (e != null) {
                    LOG.error("NVMe/TCP {}: a streamed write of {} bytes at {} could not begin", ctx.channel().remoteAddress(),
                        length, offset, e);
                }
                HostWrite write = w != null ? w : HostWrite.refused(IoResult.error(Status.MEDIUM_ERROR, 0));
                if (!ctx.channel().isActive() || write.refusal() != null) {
                    room.giveBack(length, System.nanoTime());
                    if (write.refusal() == null) {
                        write.abort();
                    } else if (ctx.channel().isActive()) {
                        queue.respond(cid, IoCommands.status(write.refusal(), true), 0, 0);
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
     * for room that another queue gave back start. Time a paused controller stands still, and latency injected
     * on the port, are not counted.
     */
    private void watchTransfers() {
        if (transferWatch != null || !room.busy()) {
            return;
        }
        long limit = subsystem.transferMillis() * 1_000_000L;
        long every = Math.max(50_000_000L, Math.min(limit / 4, 1_000_000_000L));
        transferWatch = ctx.executor().scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            if (subsystem.controller.paused()) {
                // frozen: it answers nothing (no "not ready" either), and the host's data waiting in the held
                // PDUs is not the host's delay
                for (DataOut d : receiving.values()) {
                    d.lastDataNanos = now;
                }
                return;
            }
            // latency injected on the port holds each PDU back that long before it is seen: the array's delay
            long allowed = limit + subsystem.faults(portIndex).latencyNanos;
            for (DataOut d : receiving.values()) {
                if (now - d.lastDataNanos > allowed) {
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
        }, every, every, TimeUnit.NANOSECONDS);
    }

    /** One H2CData PDU of a transfer in progress. */
    void h2cData(Pdu p) {
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
                queue.respond(d.cid, Nvme.SC_DATA_TRANSFER_ERROR, 0, 0);
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
                if (e != null) {
                    LOG.error("NVMe/TCP {}: a streamed write of {} bytes failed", ctx.channel().remoteAddress(), d.length, e);
                }
                IoResult r = res != null ? res : IoResult.error(Status.MEDIUM_ERROR, 0);
                queue.count(Opcode.WRITE, d.length, r);
                ctx.executor().execute(() -> {
                    if (ctx.channel().isActive()) {
                        queue.respond(d.cid, IoCommands.status(r, true), 0, 0);
                    }
                });
            });
        }
    }
}
