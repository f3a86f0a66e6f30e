package io.jmpio.core;

import io.jmpio.api.BlockIoException;
import io.jmpio.api.IoCallback;
import io.jmpio.api.IoErrorKind;
import io.jmpio.api.IoOp;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One application request on its way through the device: what it asks, and where it is (which path, which
 * attempt). Lives on one I/O queue's thread from submission to completion. A write keeps its data until
 * it completes, so a re-issue sends the same bytes to the same offset.
 *
 * <p>A request made on a queue's own thread (the bridges submit there) comes from that queue's {@link Pool} and
 * goes back to it once its callback has returned, so the hot path allocates no request. Nothing acts on a request
 * past its completion: a connection forgets it before it completes, and a retry timer dispatches only what is
 * still in the queue's backing-off set (at worst, a reused request backing off again is retried sooner).
 */
final class Request implements io.jmpio.transport.IoCommand {
    private static final Logger LOG = LoggerFactory.getLogger(Request.class);

    IoOp op;
    long offset;
    int length;
    ByteBuf data;
    boolean fua;
    IoCallback callback;
    long startNanos;
    /** The pool this request goes back to when done, or null (made off a queue's thread). */
    private final Pool home;

    int attempts;
    /** The path that just failed this request; the next attempt avoids it when another is usable. */
    Path avoid;
    Path path;
    long sentNanos;
    long parkedSinceNanos;
    long parkDeadlineNanos;
    private boolean done;

    Request(IoOp op, long offset, int length, ByteBuf data, boolean fua, IoCallback callback, long startNanos) {
        this(null);
        set(op, offset, length, data, fua, callback, startNanos);
    }

    private Request(Pool home) {
        this.home = home;
    }

    private Request set(IoOp op, long offset, int length, ByteBuf data, boolean fua, IoCallback callback,
                        long startNanos) {
        this.op = op;
        this.offset = offset;
        this.length = length;
        this.data = data;
        this.fua = fua;
        this.callback = callback;
        this.startNanos = startNanos;
        this.attempts = 0;
        this.avoid = null;
        this.path = null;
        this.sentNanos = 0;
        this.parkedSinceNanos = 0;
        this.parkDeadlineNanos = 0;
        this.done = false;
        return this;
    }

    /** One I/O queue's spare requests; used only on that queue's thread. */
    static final class Pool {
        /** Spares kept at most: beyond a deep queue's worth, a burst's requests are left to the collector. */
        private static final int MAX_SPARE = 1024;
        private final ArrayDeque<Request> spare = new ArrayDeque<>();
        private final EventExecutor thread;

        Pool(EventExecutor thread) {
            this.thread = thread;
        }

        Request take(IoOp op, long offset, int length, ByteBuf data, boolean fua, IoCallback callback, long startNanos) {
            Request r = spare.poll();
            return (r == null ? new Request(this) : r).set(op, offset, length, data, fua, callback, startNanos);
        }

        private void giveBack(Request r) {
            // a request completed on another thread (device close from outside) is left to the collector
            if (spare.size() < MAX_SPARE && thread.inEventLoop()) {
                r.data = null;
                r.callback = null;
                r.avoid = null;
                r.path = null;
                spare.push(r);
            }
        }
    }

    @Override public IoOp op() { return op; }
    @Override public long offset() { return offset; }
    @Override public int length() { return length; }
    @Override public ByteBuf data() { return data; }
    @Override public boolean fua() { return fua; }

    boolean done() {
        return done;
    }

    void succeed(ByteBuf result) {
        if (done) {
            ReferenceCountUtil.release(result);
            return;
        }
        done = true;
        ReferenceCountUtil.release(data);
        try {
            callback.completed(result);
        } catch (RuntimeException e) {
            LOG.warn("completion callback of {} threw", this, e);
        }
        recycle();
    }

    void fail(IoErrorKind kind, String message) {
        if (done) {
            return;
        }
        done = true;
        ReferenceCountUtil.release(data);
        try {
            callback.failed(new BlockIoException(kind, message));
        } catch (RuntimeException e) {
            LOG.warn("failure callback of {} threw", this, e);
        }
        recycle();
    }

    /** Done and its callback returned: back to its queue's pool, when made from one. */
    private void recycle() {
        if (home != null) {
            home.giveBack(this);
        }
    }

    @Override
    public String toString() {
        return op + " off=" + offset + " len=" + length;
    }
}
