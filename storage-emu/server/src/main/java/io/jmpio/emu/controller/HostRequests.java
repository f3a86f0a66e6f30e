package io.jmpio.emu.controller;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one route of a host's block request through a controller, whatever its protocol: held while the
 * controller is paused (and answered "transitioning" when it resumes), checked ({@link IoCheck}, the access state, the controller's memory budget), then the
 * owner's I/O here ({@link OwnerIo}) or shipped to the owner ({@link Shipper}).
 */
final class HostRequests {
    private static final Logger LOG = LoggerFactory.getLogger(HostRequests.class);

    /** Bytes of requests in progress on one controller, all hosts together. */
    static final long CONTROLLER_INFLIGHT_BYTES = 1L << 30;
    /** What a request without data counts against that budget. */
    static final long MIN_REQUEST_COST = 4096;

    /**
     * The answer to a host's request that arrived while the controller was paused, given when it resumes: ANA
     * transition (retryable), not the request carried out. A thawed process answers what it reads first the same
     * way (its timers stalled, ownership not re-read yet); and the host may meanwhile have given up on the request,
     * sent it through another controller and written newer data over it there, which carrying it out now would
     * overwrite.
     */
    private static final IoResult HELD_OVER_PAUSE = IoResult.error(Status.TRANSITIONING, Sense.OWNERSHIP_MOVING);

    private final Controller c;
    private final AtomicLong inflightBytes = new AtomicLong();

    HostRequests(Controller controller) {
        this.c = controller;
    }

    /**
     * One block request from a host on any protocol: checked as every request is ({@link IoCheck}), then
     * served by the owner path here or shipped to the owner. A paused controller holds it until it resumes, then
     * answers it "transitioning" for the host to send again.
     */
    CompletableFuture<IoResult> hostIo(int lunId, int op, boolean fua, long offset, int length, ByteBuf data,
                                              int portIndex) {
        if (c.pauseGate.closed()) { // one volatile read on the way of every request, no allocation
            CompletableFuture<IoResult> held = c.pauseGate.answerOnResume(() -> {
                release(data);
                return CompletableFuture.completedFuture(HELD_OVER_PAUSE);
            });
            if (held != null) {
                return held;
            }
        }
        Controller.State s = c.state;
        Lun l = c.luns.get(lunId);
        if (s != Controller.State.RUNNING || l == null) {
            release(data);
            return CompletableFuture.completedFuture(s != Controller.State.RUNNING ? IoResult.error(Status.UNAVAILABLE, Sense.NONE)
                : IoResult.error(Status.INVALID_FIELD, Sense.UNKNOWN_LUN));
        }
        return serve(l, op, fua, offset, length, data == null ? 0 : data.readableBytes(), data, portIndex);
    }

    private static void release(ByteBuf data) {
        if (data != null) {
            data.release();
        }
    }

    /** A write's data as the cache keeps it: the buffer's own array when it is exactly that, else a copy. */
    private static byte[] bytes(ByteBuf data) {
        try {
            if (data.hasArray() && data.arrayOffset() + data.readerIndex() == 0
                && data.readableBytes() == data.array().length) {
                return data.array();
            }
            return ByteBufUtil.getBytes(data);
        } finally {
            data.release();
        }
    }

    /**
     * A host's write whose data comes after the command (NVMe R2T): checked as {@link #hostIo} checks it, and
     * begun once the owner has room for it; a refusal says why not (retryable statuses for a full cache).
     */
    CompletableFuture<HostWrite> beginHostWrite(int lunId, boolean fua, long offset, int length, int portIndex) {
        if (c.pauseGate.closed()) {
            CompletableFuture<HostWrite> held = c.pauseGate.answerOnResume(
                () -> CompletableFuture.completedFuture(HostWrite.refused(HELD_OVER_PAUSE)));
            if (held != null) {
                return held;
            }
        }
        Controller.State s = c.state;
        if (s != Controller.State.RUNNING) {
            return CompletableFuture.completedFuture(HostWrite.refused(IoResult.error(Status.UNAVAILABLE, Sense.NONE)));
        }
        Lun l = c.luns.get(lunId);
        if (l == null) {
            return CompletableFuture.completedFuture(HostWrite.refused(IoResult.error(Status.INVALID_FIELD, Sense.UNKNOWN_LUN)));
        }
        long bytes = Integer.toUnsignedLong(length);
        int check = IoCheck.check(Opcode.WRITE, offset, bytes, bytes, l.record);
        if (check != 0) {
            l.stats.errors.increment();
            return CompletableFuture.completedFuture(HostWrite.refused(IoResult.error(IoCheck.status(check),
                IoCheck.sense(check))));
        }
        AluaState st = c.access.state(l, c.id, true);
        if (!st.servesIo()) {
            return CompletableFuture.completedFuture(HostWrite.refused(IoResult.error(st.ioStatus(),
                st == AluaState.TRANSITIONING ? Sense.OWNERSHIP_MOVING : Sense.NONE)));
        }
        if (!l.owned()) {
            return c.shipper.openStream(l, fua, offset, length, portIndex);
        }
        if (l.cache.dataBytes() + l.reservedBytes.get() + bytes > c.cfg.writeCacheBytes()) {
            return CompletableFuture.completedFuture(HostWrite.refused(IoResult.error(Status.BUSY, Sense.CACHE_FULL)));
        }
        return CompletableFuture.completedFuture(new LocalWrite(lunId, fua, offset, length, portIndex));
    }

    /** A streamed write this controller owns: the data is gathered into the buffer the cache will keep. */
    private final class LocalWrite implements HostWrite {
        private final int lunId;
        private final boolean fua;
        private final long offset;
        private final byte[] data;
        private final int portIndex;

        LocalWrite(int lunId, boolean fua, long offset, int length, int portIndex) {
            this.lunId = lunId;
            this.fua = fua;
            this.offset = offset;
            this.data = new byte[length];
            this.portIndex = portIndex;
        }

        @Override
        public IoResult refusal() {
            return null;
        }

        @Override
        public void data(long at, ByteBuf chunk) {
            chunk.getBytes(chunk.readerIndex(), data, Math.toIntExact(at), chunk.readableBytes());
        }

        @Override
        public CompletableFuture<IoResult> commit() {
            return hostIo(lunId, Opcode.WRITE, fua, offset, data.length, Unpooled.wrappedBuffer(data), portIndex);
        }

        @Override
        public void abort() {
        }
    }

    /**
     * The one path of a host's block request, whatever its protocol: the checks ({@link IoCheck}, access
     * state), then the controller's memory budget, and the owner path here or shipping to the owner.
     */
    CompletableFuture<IoResult> serve(Lun l, int op, boolean fua, long offset, int length, long payloadLength,
                                      ByteBuf data, int portIndex) {
        int check = IoCheck.check(op, offset, Integer.toUnsignedLong(length), payloadLength, l.record);
        if (check != 0) {
            release(data);
            l.stats.errors.increment();
            return CompletableFuture.completedFuture(IoResult.error(IoCheck.status(check), IoCheck.sense(check)));
        }
        AluaState st = c.access.state(l, c.id, true);
        if (!st.servesIo()) {
            release(data);
            return CompletableFuture.completedFuture(IoResult.error(st.ioStatus(), st == AluaState.TRANSITIONING
                ? Sense.OWNERSHIP_MOVING : st == AluaState.STANDBY ? Sense.LINK_DOWN : Sense.NONE));
        }
        long cost = Math.max(MIN_REQUEST_COST, op == Opcode.READ || op == Opcode.WRITE ? Integer.toUnsignedLong(length) : 0);
        if (inflightBytes.addAndGet(cost) > CONTROLLER_INFLIGHT_BYTES) {
            inflightBytes.addAndGet(-cost);
            release(data);
            return CompletableFuture.completedFuture(IoResult.error(Status.BUSY, Sense.NONE));
        }
        CompletableFuture<IoResult> result;
        try {
            // the owner keeps the data in its cache (an array); shipping sends the host's buffer on as it came
            result = l.owned() ? c.ownerIo.execute(l, op, fua, offset, length, data == null ? null : bytes(data), false)
                : c.shipper.ship(l, op, fua, offset, length, data, portIndex);
        } catch (RuntimeException e) {
            inflightBytes.addAndGet(-cost);
            throw e;
        }
        return result.handle((r, err) -> {
            inflightBytes.addAndGet(-cost);
            if (err != null) {
                LOG.error("controller {}: {} on {} failed", c.id, Opcode.name(op), l.name(), err);
                r = IoResult.error(Status.MEDIUM_ERROR, Sense.IO_ERROR);
            }
            if (r.status() != Status.GOOD) {
                l.stats.errors.increment();
            }
            return r;
        });
    }
}
