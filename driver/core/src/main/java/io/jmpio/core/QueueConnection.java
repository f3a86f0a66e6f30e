package io.jmpio.core;

import io.jmpio.netty.FailureText;
import io.jmpio.transport.IoCommand;
import io.jmpio.transport.Outcome;
import io.jmpio.transport.PathSession;
import io.jmpio.transport.QueueChannel;
import io.jmpio.transport.QueueListener;
import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * One I/O queue's private connection to one path, through the path's transport: requests wait here until it
 * is ready, are tracked while in flight (for the queue's timeout), and come back to the queue. Everything
 * here runs on the queue's event loop, so nothing is locked.
 */
final class QueueConnection implements QueueListener {
    enum State { CONNECTING, READY, CLOSED }

    final IoQueue queue;
    final Path path;
    private final Map<Request, Boolean> pending = new IdentityHashMap<>();
    private final ArrayDeque<Request> waiting = new ArrayDeque<>();
    private final long openedNanos;
    /** When the target last answered a request here (or the connection became ready): its progress. */
    private long lastAnswerNanos;
    private QueueChannel channel;
    private State state = State.CONNECTING;
    /** Set while this side closes the channel: why, and whether the path is to blame. */
    private String closingReason;
    private boolean closingFault;

    QueueConnection(IoQueue queue, Path path) {
        this.queue = queue;
        this.path = path;
        this.openedNanos = queue.host.ticker().nanos();
    }

    State state() {
        return state;
    }

    void connect() {
        PathSession s = path.session;
        if (s == null || !s.isOpen()) {
            closed(channel, "the path's control session is not open", true, List.of());
            return;
        }
        try {
            channel = s.openQueue(queue.loop, queue.host.ioChannelClass(), queue.index, this);
        } catch (RuntimeException e) {
            closed(channel, "cannot open a queue: " + FailureText.of(e), true, List.of());
        }
    }

    void send(Request r) {
        switch (state) {
            case READY:
                write(r);
                break;
            case CLOSED:
                queue.retryNow(r);
                break;
            default:
                waiting.add(r);
        }
    }

    private void write(Request r) {
        r.path = path;
        r.sentNanos = queue.host.ticker().nanos();
        pending.put(r, Boolean.TRUE);
        path.stats.sent(queue.index, r.length);
        channel.send(r);
    }

    /** Oldest request still unanswered, as its send time; Long.MAX_VALUE when none. */
    long oldestSentNanos() {
        long oldest = Long.MAX_VALUE;
        for (Request r : pending.keySet()) {
            oldest = Math.min(oldest, r.sentNanos);
        }
        return oldest;
    }

    /** When the target last answered a request on this connection (or it became ready). */
    long lastAnswerNanos() {
        return lastAnswerNanos;
    }

    long openedNanos() {
        return openedNanos;
    }

    /**
     * Ends the connection and re-issues everything it held. {@code pathFault} says the path is to blame
     * (the device then fails the path for every queue); false when the device closed it on purpose.
     */
    void close(String reason, boolean pathFault) {
        if (state == State.CLOSED) {
            return;
        }
        closingReason = reason;
        closingFault = pathFault;
        if (channel != null) {
            channel.close(reason); // hands back what it held through closed(...)
        }
        closed(channel, reason, pathFault, List.of());
    }

    /** Fails everything held with the given failure (device close), without re-issuing. */
    void abort(io.jmpio.api.IoErrorKind kind, String message) {
        List<Request> all = new ArrayList<>(pending.keySet());
        all.addAll(waiting);
        boolean wasOpen = state != State.CLOSED;
        state = State.CLOSED;
        pending.clear();
        waiting.clear();
        if (wasOpen && channel != null) {
            channel.close(message);
        }
        for (Request r : all) {
            if (r.path == path && r.sentNanos != 0) {
                path.stats.answered(queue.index, r.length);
            }
            r.fail(kind, message);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // From the transport

    @Override
    public void ready(QueueChannel c) {
        if (state != State.CONNECTING) {
            return;
        }
        state = State.READY;
        lastAnswerNanos = queue.host.ticker().nanos();
        while (!waiting.isEmpty() && state == State.READY) {
            write(waiting.poll());
        }
    }

    @Override
    public void completed(QueueChannel c, IoCommand command, Outcome outcome, ByteBuf data) {
        Request r = (Request) command;
        if (pending.remove(r) == null) {
            if (data != null) {
                data.release();
            }
            return;
        }
        lastAnswerNanos = queue.host.ticker().nanos();
        path.stats.answered(queue.index, r.length);
        queue.complete(this, r, outcome, data);
    }

    @Override
    public void closed(QueueChannel c, String reason, boolean pathFault, List<IoCommand> unanswered) {
        boolean first = state != State.CLOSED;
        state = State.CLOSED;
        if (closingReason != null) {
            reason = closingReason;
            pathFault |= closingFault;
        }
        if (first && pathFault) {
            path.stats.pathErrors.increment();
            queue.host.pathFailed(path, reason);
        }
        List<Request> orphans = new ArrayList<>(pending.keySet());
        pending.clear();
        orphans.addAll(waiting);
        waiting.clear();
        for (Request r : orphans) {
            if (r.path == path && r.sentNanos != 0) {
                path.stats.answered(queue.index, r.length);
            }
            r.avoid = path;
            r.path = null;
            r.sentNanos = 0;
            queue.retryNow(r);
        }
    }
}
