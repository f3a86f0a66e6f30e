package io.jmpio.emu.nvme;

import io.jmpio.netty.ConnectionGuard;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fabrics Connect, the first command of every queue: its fields and its 1 KiB of data (host ID, CNTLID, subsystem
 * and host NQNs) checked as the spec says, then a new controller made (the admin queue, QID 0, to the subsystem or
 * to discovery) or the queue added to the host's existing one (an I/O queue names its controller by CNTLID, and
 * must come from the same host NQN and host ID). A refusal is answered on the queue with the status and, for an
 * invalid parameter, the offset of the field at fault.
 */
final class FabricsConnect {
    private static final Logger LOG = LoggerFactory.getLogger(FabricsConnect.class);
    /** Connect CATTR bit 2: the host does not use SQ flow control on this queue. */
    static final int CATTR_DISABLE_SQ_FLOW = 0x04;
    /** Connect data: host ID (16 bytes), CNTLID, then the NUL-terminated NQNs at these offsets, 1024 bytes in all. */
    private static final int DATA_HOST_ID = 0;
    private static final int DATA_CNTLID = 16;
    private static final int DATA_SUBNQN = 256;
    private static final int DATA_HOSTNQN = 512;
    private static final int DATA_LENGTH = 1024;

    /** A queue that joined a controller. */
    record Joined(NvmeController controller, int qid, int queueEntries, boolean sqFlowOff) {
    }

    private FabricsConnect() {
    }

    /**
     * Runs a Connect that arrived on {@code queue}'s {@code channel}: the queue it joined, or null when it was
     * refused (and answered).
     */
    static Joined run(NvmeSubsystem subsystem, QueueHandler queue, Channel channel, Sqe sqe, ByteBuf data) {
        int cid = sqe.cid();
        int recfmt = sqe.u16(Sqe.CDW10);
        int q = sqe.u16(Sqe.CDW10 + 2);
        int sqsize = sqe.u16(Sqe.CDW11);
        long kato = Integer.toUnsignedLong(sqe.dw(Sqe.CDW12));
        int cattr = sqe.u8(Sqe.CDW11 + 2);
        if (recfmt != 0) {
            queue.respond(cid, Nvme.SC_CONNECT_INCOMPATIBLE_FORMAT | Nvme.DNR, 0, 0);
            return null;
        }
        if (data.readableBytes() < DATA_LENGTH) {
            queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
            return null;
        }
        int d = data.readerIndex();
        byte[] hostId = new byte[16];
        data.getBytes(d + DATA_HOST_ID, hostId);
        int cntlid = data.getUnsignedShortLE(d + DATA_CNTLID);
        String subnqn = nqn(data, d + DATA_SUBNQN);
        String hostNqn = nqn(data, d + DATA_HOSTNQN);
        if (subnqn == null || !subnqn.equals(subsystem.nqn) && !subnqn.equals(Nvme.DISCOVERY_NQN)) {
            return refuse(queue, channel, cid, DATA_SUBNQN, "subsystem NQN '" + subnqn + "' is not served here");
        }
        if (hostNqn == null || hostNqn.isEmpty()) {
            return refuse(queue, channel, cid, DATA_HOSTNQN, "host NQN missing or malformed");
        }
        boolean discovery = subnqn.equals(Nvme.DISCOVERY_NQN);
        if (sqsize < 1 || sqsize >= IdentifyData.QUEUE_ENTRIES) {
            queue.respond(cid, Nvme.SC_CONNECT_INVALID_PARAM | Nvme.DNR, 44, 0); // SQSIZE: byte 44 of the command
            return null;
        }
        NvmeController c;
        if (q == 0) {
            c = subsystem.newController(hostNqn, hostId, discovery, discovery && kato == 0 ? 0 : kato, channel.eventLoop());
            if (c == null) {
                queue.respond(cid, Nvme.SC_CONNECT_CONTROLLER_BUSY, 0, 0); // no CNTLID left
                return null;
            }
            c.queues.add(channel);
            NvmeController made = c;
            c.startKeepAlive(() -> subsystem.remove(made));
            LOG.info("NVMe/TCP {}: host {} connected {} controller {} (KATO {} ms)", channel.remoteAddress(), hostNqn,
                discovery ? "discovery" : "I/O", c.cntlid, kato);
        } else {
            c = subsystem.controller(cntlid);
            if (c == null || c.discovery || !c.hostNqn.equals(hostNqn) || !Arrays.equals(c.hostId, hostId)) {
                return refuse(queue, channel, cid, DATA_CNTLID, "no controller " + cntlid + " of host " + hostNqn
                    + " to add a queue to");
            }
            if (q > c.ioQueues) {
                queue.respond(cid, Nvme.SC_CONNECT_INVALID_PARAM | Nvme.DNR, 42, 0); // QID: byte 42 of the command
                return null;
            }
            if ((c.csts & 1) == 0) {
                LOG.info("NVMe/TCP {}: Connect refused: I/O queue {} for controller {}, which is not enabled (CSTS.RDY 0)",
                    channel.remoteAddress(), q, cntlid);
                queue.respond(cid, Nvme.SC_COMMAND_SEQUENCE | Nvme.DNR, 0, 0);
                return null;
            }
            if (c.ioQueueByQid.putIfAbsent(q, channel) != null) {
                LOG.info("NVMe/TCP {}: Connect refused: controller {} already has I/O queue {}", channel.remoteAddress(),
                    cntlid, q);
                queue.respond(cid, Nvme.SC_COMMAND_SEQUENCE | Nvme.DNR, 0, 0); // as nvmet answers it
                return null;
            }
            c.queues.add(channel);
            c.touched();
        }
        ConnectionGuard.ready(channel);
        return new Joined(c, q, sqsize + 1, (cattr & CATTR_DISABLE_SQ_FLOW) != 0);
    }

    /** Connect Invalid Parameters, naming the field of the data at fault (IATTR bit 0: in the data). */
    private static Joined refuse(QueueHandler queue, Channel channel, int cid, int offset, String why) {
        LOG.info("NVMe/TCP {}: Connect refused: {}", channel.remoteAddress(), why);
        queue.respond(cid, Nvme.SC_CONNECT_INVALID_PARAM | Nvme.DNR, 1 << 16 | offset, 0);
        return null;
    }

    /** A NUL-terminated NQN of at most 223 printable characters, or null. */
    private static String nqn(ByteBuf b, int at) {
        int end = at;
        while (end < at + 256 && b.getByte(end) != 0) {
            end++;
        }
        if (end - at > 223) {
            return null;
        }
        String s = b.toString(at, end - at, StandardCharsets.US_ASCII);
        return s.chars().allMatch(c -> c > 0x20 && c < 0x7f) ? s : null;
    }
}
