package io.jmpio.core;

import io.jmpio.api.BlockIoException;
import io.jmpio.api.IoCallback;
import io.jmpio.api.IoErrorKind;
import io.jmpio.api.IoOp;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One application request on its way through the device: what it asks, and where it is (which path, which
 * attempt). Lives on one I/O queue's thread from submission to completion. A write keeps its data until
 * it completes, so a re-issue sends the same bytes to the same offset.
 */
final class Request implements io.jmpio.transport.IoCommand {
    private static final Logger LOG = LoggerFactory.getLogger(Request.class);

    final IoOp op;
    final long offset;
    final int length;
    final ByteBuf data;
    final boolean fua;
    final IoCallback callback;
    final long startNanos;

    int attempts;
    /** The path that just failed this request; the next attempt avoids it when another is usable. */
    Path avoid;
    Path path;
    long sentNanos;
    long parkedSinceNanos;
    long parkDeadlineNanos;
    private boolean done;

    Request(IoOp op, long offset, int length, ByteBuf data, boolean fua, IoCallback callback, long startNanos) {
        this.op = op;
        this.offset = offset;
        this.length = length;
        this.data = data;
        this.fua = fua;
        this.callback = callback;
        this.startNanos = startNanos;
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
    }

    @Override
    public String toString() {
        return op + " off=" + offset + " len=" + length;
    }
}
