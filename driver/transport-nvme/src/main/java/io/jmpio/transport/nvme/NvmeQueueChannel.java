package io.jmpio.transport.nvme;

import io.jmpio.api.IoErrorKind;
import io.jmpio.api.IoOp;
import io.jmpio.transport.IoCommand;
import io.jmpio.transport.Outcome;
import io.jmpio.transport.QueueChannel;
import io.jmpio.transport.QueueListener;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * An I/O queue's connection on one path: block commands become NVMe commands (a range too long for one
 * Write Zeroes or Dataset Management becomes several), NVMe statuses become the core's outcomes. On the
 * queue's event loop only.
 */
final class NvmeQueueChannel implements QueueChannel, QueuePair.Listener {
    /** Blocks one Read, Write or Write Zeroes may cover (NLB is 16 bits, 0-based). */
    static final long MAX_BLOCKS = 1 << 16;
    /** Blocks one Dataset Management range may cover (NLB is 32 bits). */
    static final long MAX_RANGE_BLOCKS = 0xFFFF_FFFFL;

    private final Namespace ns;
    private final QueueListener listener;
    private final String address;
    private QueuePair queue;

    /** Spare parts kept at most: a queue's depth and then some; a burst beyond it is left to the collector. */
    private static final int MAX_SPARE = 1024;
    /** Parts done with, for the next block command (this channel's thread only; no allocation per command). */
    private final ArrayDeque<Parts> spare = new ArrayDeque<>();

    /**
     * One block command and the NVMe commands it became; each of them completes here (no closure per command).
     * The common block commands (read, write, flush) are one NVMe command: {@link #single}, reused with the parts.
     */
    private final class Parts implements QueuePair.Completion {
        final QueuePair.Command single = QueuePair.Command.reusable(this, this);
        IoCommand command;
        int remaining;
        Outcome failure;
        /** A buffer of ours the commands carry (a DSM range list), released when they are done. */
        ByteBuf owned;

        Parts of(IoCommand c) {
            command = c;
            remaining = 0;
            failure = null;
            owned = null;
            return this;
        }

        @Override
        public void completed(int status, int dw0, int dw1, ByteBuf data) {
            done(this, status, data);
        }
    }

    NvmeQueueChannel(Namespace ns, QueueListener listener, String address) {
        this.ns = ns;
        this.listener = listener;
        this.address = address;
    }

    void attach(QueuePair q) {
        this.queue = q;
    }

    @Override
    public void send(IoCommand c) {
        Parts spared = spare.poll();
        Parts parts = (spared == null ? new Parts() : spared).of(c);
        long lba = c.offset() / ns.blockSize();
        long blocks = Integer.toUnsignedLong(c.length()) / ns.blockSize();
        ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
        // the common commands are one NVMe command each, the parts' own: straight to the queue pair
        ByteBuf sqe = parts.single.sqe;
        switch (c.op()) {
            case READ:
                Sqe.clear(sqe, Sqe.IO_READ).setIntLE(Sqe.NSID_OFFSET, ns.nsid());
                sqe.setLongLE(Sqe.CDW10, lba).setIntLE(Sqe.CDW12, (int) (blocks - 1));
                single(parts, parts.single.reset(null, c.length()));
                return;
            case WRITE:
                Sqe.clear(sqe, Sqe.IO_WRITE).setIntLE(Sqe.NSID_OFFSET, ns.nsid());
                sqe.setLongLE(Sqe.CDW10, lba).setIntLE(Sqe.CDW12, (int) (blocks - 1) | (c.fua() ? 1 << 30 : 0));
                single(parts, parts.single.reset(c.data(), 0));
                return;
            case FLUSH:
                Sqe.clear(sqe, Sqe.IO_FLUSH).setIntLE(Sqe.NSID_OFFSET, ns.nsid());
                single(parts, parts.single.reset(null, 0));
                return;
            default:
        }
        List<QueuePair.Command> out = new ArrayList<>(1);
        switch (c.op()) {
            case WRITE_ZEROES:
                for (long at = 0; at < blocks; at += MAX_BLOCKS) {
                    long n = Math.min(MAX_BLOCKS, blocks - at);
                    out.add(command(Sqe.of(alloc, Sqe.IO_WRITE_ZEROES).nsid(ns.nsid()).u64(Sqe.CDW10, lba + at)
                        .dw(Sqe.CDW12, (int) (n - 1)), null, 0, parts));
                }
                break;
            case DISCARD: {
                int ranges = (int) ((blocks + MAX_RANGE_BLOCKS - 1) / MAX_RANGE_BLOCKS);
                ByteBuf list = alloc.buffer(16 * ranges);
                for (long at = 0; at < blocks; at += MAX_RANGE_BLOCKS) {
                    long n = Math.min(MAX_RANGE_BLOCKS, blocks - at);
                    list.writeIntLE(0).writeIntLE((int) n).writeLongLE(lba + at);
                }
                parts.owned = list;
                QueuePair.Command dsm = command(Sqe.of(alloc, Sqe.IO_DSM).nsid(ns.nsid()).dw(Sqe.CDW10, ranges - 1)
                    .dw(Sqe.CDW11, 1 << 2), list, 0, parts);
                out.add(dsm);
                break;
            }
            default:
                spare.push(parts.of(null));
                listener.completed(this, c, Outcome.failed(IoErrorKind.INVALID_REQUEST, c.op() + " is not a block command"),
                    null);
                return;
        }
        parts.remaining = out.size();
        for (QueuePair.Command q : out) {
            queue.submit(q);
        }
    }

    private void single(Parts parts, QueuePair.Command command) {
        parts.remaining = 1;
        queue.submit(command);
    }

    private QueuePair.Command command(Sqe sqe, ByteBuf dataOut, int dataIn, Parts parts) {
        return new QueuePair.Command(sqe.buf(), dataOut, dataIn, parts, parts);
    }

    private void done(Parts parts, int status, ByteBuf data) {
        if (status != 0 && parts.failure == null) {
            parts.failure = outcome(status);
        }
        if (--parts.remaining > 0) {
            if (data != null) {
                data.release();
            }
            return;
        }
        if (parts.owned != null && parts.owned.refCnt() > 0) {
            parts.owned.release();
        }
        if (parts.failure != null) {
            if (data != null) {
                data.release();
            }
            listener.completed(this, parts.command, parts.failure, null);
        } else {
            listener.completed(this, parts.command, Outcome.DONE, data);
        }
        // every command of these parts has completed, and the queue pair holds none of them: use them again
        parts.command = null;
        if (spare.size() < MAX_SPARE) {
            spare.push(parts);
        }
    }

    /** What an NVMe status means for the core (see docs/driver.md: which statuses fail over). */
    Outcome outcome(int status) {
        String what = Sqe.describe(status) + " on " + address;
        int code = status & 0x7FF;
        boolean dnr = (status & Sqe.DNR) != 0;
        switch (code) {
            case 0x300:
            case 0x370:
            case 0x371:
            case Sqe.SC_DATA_TRANSFER_ERROR:
                return Outcome.retryElsewhere(what);
            case 0x301:
            case 0x302:
                return Outcome.staleState(what);
            case 0x303:
                return Outcome.inTransition(what);
            case Sqe.SC_NS_NOT_READY:
                return Outcome.retryLater(what);
            case Sqe.SC_LBA_RANGE:
                return Outcome.failed(IoErrorKind.OUT_OF_RANGE, what);
            case Sqe.SC_INVALID_NS:
            case Sqe.SC_RESERVATION_CONFLICT:
                return Outcome.failed(IoErrorKind.ACCESS_DENIED, what);
            case Sqe.SC_INVALID_OPCODE:
                return Outcome.failed(IoErrorKind.UNSUPPORTED, what);
            case Sqe.SC_INVALID_FIELD:
                return Outcome.failed(IoErrorKind.INVALID_REQUEST, what);
            default:
                if ((code & 0x700) == 0x300) {
                    return Outcome.retryElsewhere(what); // any other path-related status
                }
                return dnr || (code & 0x700) == 0x200 ? Outcome.failed(IoErrorKind.MEDIUM_ERROR, what)
                    : Outcome.retryLater(what);
        }
    }

    @Override
    public void close(String reason) {
        queue.close(reason, false);
    }

    @Override
    public void ready(QueuePair q, int cntlid) {
        listener.ready(this);
    }

    @Override
    public void closed(QueuePair q, String reason, boolean fault, List<QueuePair.Command> unanswered) {
        Set<IoCommand> back = new LinkedHashSet<>();
        for (QueuePair.Command c : unanswered) {
            if (c.attachment instanceof Parts) {
                Parts p = (Parts) c.attachment;
                back.add(p.command);
                if (p.command.op() == IoOp.DISCARD && c.dataOut != null && c.dataOut.refCnt() > 0) {
                    c.dataOut.release();
                }
            }
        }
        listener.closed(this, reason, fault, new ArrayList<>(back));
    }
}
