package io.jmpio.emu.nvme;

import io.jmpio.emu.array.LunRecord;
import io.jmpio.emu.controller.IoResult;
import io.jmpio.emu.controller.Opcode;
import io.jmpio.emu.controller.Status;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NVM command set on one I/O queue: Read, Write, Flush, Write Zeroes, Dataset Management (deallocate) and the
 * reservation commands, checked against the namespace and run through the array controller. Each answers through
 * the queue it came on (data first for reads, by R2T for large writes); the queue's transport — PDUs, data
 * movement, flow control — stays in {@link QueueHandler}. Runs on the connection's event loop.
 */
final class IoCommands {
    private static final Logger LOG = LoggerFactory.getLogger(IoCommands.class);

    private final NvmeSubsystem subsystem;
    private final QueueHandler queue;
    private final int portIndex;

    IoCommands(NvmeSubsystem subsystem, QueueHandler queue, int portIndex) {
        this.subsystem = subsystem;
        this.queue = queue;
        this.portIndex = portIndex;
    }


    void io(NvmeController ctrl, Sqe sqe, ByteBuf inCapsule) {
        int cid = sqe.cid();
        int op = sqe.opcode();
        LunRecord r = subsystem.namespace(ctrl.hostNqn, sqe.nsid());
        if (ctrl.discovery) {
            queue.respond(cid, Nvme.SC_INVALID_OPCODE | Nvme.DNR, 0, 0);
            return;
        }
        if (r == null) {
            queue.respond(cid, Nvme.SC_INVALID_NS | Nvme.DNR, 0, 0);
            return;
        }
        int lun = r.id();
        String fault = subsystem.faults(portIndex).roll();
        if ("drop".equals(fault)) {
            queue.context().close();
            return;
        }
        if ("error".equals(fault)) {
            queue.respond(cid, Nvme.SC_INTERNAL_PATH, 0, 0); // injected: a path error the host retries elsewhere
            return;
        }
        String host = ctrl.hostIdHex;
        boolean write = op == Nvme.IO_WRITE || op == Nvme.IO_WRITE_ZEROES || op == Nvme.IO_DSM;
        if ((op == Nvme.IO_READ || write) && ReservationRules.conflicts(r.reservation(), host, write)) {
            queue.respond(cid, ReservationRules.SC_RESERVATION_CONFLICT | Nvme.DNR, 0, 0);
            return;
        }
        long slba = sqe.u64(Sqe.CDW10);
        int cdw12 = sqe.dw(Sqe.CDW12);
        long blocks = (cdw12 & 0xFFFF) + 1L;
        boolean fua = (cdw12 & 1 << 30) != 0;
        long offset = slba * IdentifyData.BLOCK;
        long bytes = blocks * IdentifyData.BLOCK;
        if (slba < 0 || slba > Long.MAX_VALUE / IdentifyData.BLOCK || offset + bytes > r.bytes()) {
            if (op == Nvme.IO_READ || op == Nvme.IO_WRITE || op == Nvme.IO_WRITE_ZEROES) {
                queue.respond(cid, Nvme.SC_LBA_RANGE | Nvme.DNR, 0, 0);
                return;
            }
        }
        switch (op) {
            case Nvme.IO_READ:
                if (inCapsule.isReadable()) {
                    queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
                    return;
                }
                if (sqe.sglId() != Sqe.SGL_TRANSPORT_DATA_BLOCK) {
                    queue.respond(cid, Nvme.SC_SGL_TYPE_INVALID | Nvme.DNR, 0, 0); // data goes by C2HData alone
                    return;
                }
                if (bytes > IdentifyData.MAX_TRANSFER || sqe.sglLength() != bytes) {
                    queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
                    return;
                }
                submit(cid, lun, Opcode.READ, fua, offset, (int) bytes, null, res -> {
                    if (res.status() == Status.GOOD && res.data() != null) {
                        queue.c2hData(cid, res.data(), queue.sqFlowOff());
                        return queue.sqFlowOff();
                    }
                    res.releaseData();
                    return false;
                });
                return;
            case Nvme.IO_WRITE:
                if (bytes > IdentifyData.MAX_TRANSFER) {
                    queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
                    return;
                }
                if (sqe.sglId() == Sqe.SGL_TRANSPORT_DATA_BLOCK) {
                    queue.streamedWrite(sqe, inCapsule, lun, fua, offset, (int) bytes);
                    return;
                }
                queue.dataOut(sqe, inCapsule, (int) bytes, data -> submit(cid, lun, Opcode.WRITE, fua, offset, (int) bytes,
                    data, null));
                return;
            case Nvme.IO_FLUSH:
                submit(cid, lun, Opcode.FLUSH, false, 0, 0, null, null);
                return;
            case Nvme.IO_WRITE_ZEROES:
                submit(cid, lun, Opcode.WRITE_ZEROES, false, offset, (int) bytes, null, null);
                return;
            case Nvme.IO_DSM: {
                int ranges = (sqe.dw(Sqe.CDW10) & 0xFF) + 1;
                boolean deallocate = (sqe.dw(Sqe.CDW11) & 1 << 2) != 0;
                // the range list may come in a larger buffer (Linux sends a whole 4 KiB page)
                long length = sqe.sglLength();
                if (length < ranges * 16L || length > 4096) {
                    queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
                    return;
                }
                queue.dataOut(sqe, inCapsule, (int) length, data -> dsm(cid, lun, r, QueueHandler.bytes(data), ranges, deallocate));
                return;
            }
            case Nvme.IO_RESV_REGISTER:
            case Nvme.IO_RESV_ACQUIRE:
            case Nvme.IO_RESV_RELEASE: {
                int cdw10 = sqe.dw(Sqe.CDW10);
                // Release carries CRKEY only (8 bytes); Register and Acquire two keys (16)
                int needed = op == Nvme.IO_RESV_RELEASE ? 8 : 16;
                long given = sqe.sglLength();
                if (given < needed || given > 4096) {
                    queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
                    return;
                }
                queue.dataOut(sqe, inCapsule, (int) given, data -> {
                    ByteBuffer d = ByteBuffer.wrap(QueueHandler.bytes(data)).order(ByteOrder.LITTLE_ENDIAN);
                    long k0 = d.getLong(0);
                    long k1 = needed == 16 ? d.getLong(8) : 0;
                    boolean iekey = (cdw10 & 1 << 3) != 0;
                    reservation(cid, lun, state -> op == Nvme.IO_RESV_REGISTER
                        ? ReservationRules.register(state, host, cdw10 & 7, iekey, cdw10 >>> 30, k0, k1)
                        : op == Nvme.IO_RESV_ACQUIRE
                        ? ReservationRules.acquire(state, host, cdw10 & 7, iekey, cdw10 >>> 8 & 0xFF, k0, k1)
                        : ReservationRules.release(state, host, cdw10 & 7, iekey, cdw10 >>> 8 & 0xFF, k0));
                });
                return;
            }
            case Nvme.IO_RESV_REPORT: {
                long length = (Integer.toUnsignedLong(sqe.dw(Sqe.CDW10)) + 1) * 4;
                if (length > 65536) {
                    queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
                    return;
                }
                byte[] full = ReservationRules.report(r.reservation(), (sqe.dw(Sqe.CDW11) & 1) != 0);
                queue.dataIn(sqe, java.util.Arrays.copyOf(full, (int) length));
                return;
            }
            default:
                queue.respond(cid, Nvme.SC_INVALID_OPCODE | Nvme.DNR, 0, 0);
        }
    }

    /** Applies a reservation command to the LUN's state in the array metadata, off the event loop. */
    private void reservation(int cid, int lun, java.util.function.Function<io.jmpio.emu.array.LunReservation,
            Map.Entry<Integer, io.jmpio.emu.array.LunReservation>> rule) {
        NvmeSubsystem.RESERVATIONS.execute(() -> {
            int status;
            try {
                status = subsystem.controller.updateReservation(lun, rule);
            } catch (java.io.IOException | RuntimeException e) {
                LOG.warn("NVMe/TCP {}: reservation command failed: {}", queue.context().channel().remoteAddress(), e.toString());
                status = Nvme.SC_INTERNAL;
            }
            int s = status;
            queue.context().executor().execute(() -> queue.respond(cid, s, 0, 0));
        });
    }

    private void dsm(int cid, int lun, LunRecord r, byte[] data, int ranges, boolean deallocate) {
        if (!deallocate) {
            queue.respond(cid, 0, 0, 0); // attributes only: nothing to do
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        List<CompletableFuture<IoResult>> parts = new ArrayList<>();
        for (int i = 0; i < ranges; i++) {
            long nlb = Integer.toUnsignedLong(b.getInt(16 * i + 4));
            long slba = b.getLong(16 * i + 8);
            if (nlb == 0) {
                continue;
            }
            long offset = slba * IdentifyData.BLOCK;
            long bytes = nlb * IdentifyData.BLOCK;
            if (slba < 0 || slba > Long.MAX_VALUE / IdentifyData.BLOCK || offset + bytes > r.bytes()) {
                queue.respond(cid, Nvme.SC_LBA_RANGE | Nvme.DNR, 0, 0);
                return;
            }
            for (long done = 0; done < bytes; done += 1L << 30) {
                parts.add(subsystem.controller.hostIo(lun, Opcode.DISCARD, false, offset + done,
                    (int) Math.min(1L << 30, bytes - done), null, portIndex));
            }
        }
        CompletableFuture.allOf(parts.toArray(new CompletableFuture[0])).whenComplete((x, e) -> {
            IoResult worst = IoResult.good(0, null);
            for (CompletableFuture<IoResult> f : parts) {
                IoResult res = f.getNow(IoResult.error(Status.MEDIUM_ERROR, 0));
                if (res.status() != Status.GOOD) {
                    worst = res;
                }
            }
            IoResult w = worst;
            queue.context().executor().execute(() -> queue.respond(cid, status(w, true), 0, 0));
        });
    }

    /**
     * Runs one block request through the array controller and answers it: {@code dataIn} (reads) sends the
     * result's data first and says whether that already completed the command (C2HData with SUCCESS); otherwise
     * a CapsuleResp with its status follows.
     */
    private void submit(int cid, int lun, int op, boolean fua, long offset, int length, ByteBuf data,
                        java.util.function.Predicate<IoResult> dataIn) {
        subsystem.controller.hostIo(lun, op, fua, offset, length, data, portIndex).whenComplete((res, e) -> {
            IoResult r = res != null ? res : IoResult.error(Status.MEDIUM_ERROR, 0);
            queue.count(op, length, r);
            Runnable answer = () -> {
                if (!queue.context().channel().isActive()) {
                    r.releaseData();
                    return;
                }
                boolean answered = false;
                if (dataIn != null) {
                    answered = dataIn.test(r);
                } else {
                    r.releaseData();
                }
                if (answered) {
                    queue.completedByData();
                } else {
                    queue.respond(cid, status(r, op != Opcode.READ), 0, 0);
                }
            };
            if (queue.context().executor().inEventLoop()) {
                answer.run();
            } else {
                queue.context().executor().execute(answer);
            }
        });
    }


    /** The NVMe status of an array result: path statuses without DNR (hosts fail over), others with it. */
    static int status(IoResult r, boolean write) {
        switch (r.status()) {
            case Status.GOOD: return 0;
            case Status.TRANSITIONING: return Nvme.SC_ANA_TRANSITION;
            case Status.NOT_OWNER:
            case Status.STANDBY:
            case Status.UNAVAILABLE: return Nvme.SC_ANA_INACCESSIBLE;
            case Status.TRANSPORT_ERROR: return Nvme.SC_INTERNAL_PATH;
            case Status.BUSY: return Nvme.SC_NS_NOT_READY;
            case Status.OUT_OF_RANGE: return Nvme.SC_LBA_RANGE | Nvme.DNR;
            case Status.INVALID_FIELD:
            case Status.INVALID_OPCODE: return Nvme.SC_INVALID_FIELD | Nvme.DNR;
            case Status.ACCESS_DENIED: return Nvme.SC_INVALID_NS | Nvme.DNR;
            default: return (write ? Nvme.SC_WRITE_FAULT : Nvme.SC_READ_ERROR) | Nvme.DNR;
        }
    }
}
