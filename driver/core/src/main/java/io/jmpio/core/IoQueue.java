package io.jmpio.core;

import io.jmpio.api.BalancingPolicy;
import io.jmpio.api.IoErrorKind;
import io.jmpio.api.IoOp;
import io.jmpio.api.PathView;
import io.jmpio.transport.Outcome;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One I/O queue: a thread (event loop) with its own connection to every path. A request goes from
 * {@link #dispatch} to the wire and back to its callback on this thread; retries, timeouts and requests
 * waiting for a path stay here too.
 */
final class IoQueue {
    private static final Logger LOG = LoggerFactory.getLogger(IoQueue.class);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    final QueueHost host;
    final EventLoop loop;
    final int index;
    /** Requests made on this queue's thread come from here and come back when done. */
    final Request.Pool requests;
    private QueueConnection[] connections = new QueueConnection[8];
    private final ArrayDeque<Request> parked = new ArrayDeque<>();
    private final LinkedHashSet<Request> backingOff = new LinkedHashSet<>();
    private boolean policyFaultLogged;

    IoQueue(QueueHost host, EventLoop loop, int index) {
        this.host = host;
        this.loop = loop;
        this.index = index;
        this.requests = new Request.Pool(loop);
    }

    void submit(Request r) {
        if (loop.inEventLoop()) {
            dispatch(r);
        } else {
            loop.execute(() -> dispatch(r));
        }
    }

    void dispatch(Request r) {
        if (r.done()) {
            return;
        }
        if (host.closed()) {
            failSoon(r, IoErrorKind.DEVICE_CLOSED, "device " + host.name() + " is detached");
            return;
        }
        Topology t = host.topology();
        if (t.usable.length == 0) {
            park(r, t);
            return;
        }
        Path p = choose(t, r);
        connectionTo(p).send(r);
    }

    private Path choose(Topology t, Request r) {
        Path[] usable = t.usable;
        Path chosen = usable[0];
        if (usable.length > 1) {
            BalancingPolicy policy = host.policy(index);
            PathView v = null;
            try {
                v = policy.select(t.viewsOf(index), r.op, r.offset, r.length);
            } catch (RuntimeException e) {
                if (!policyFaultLogged) {
                    policyFaultLogged = true;
                    LOG.error("policy {} threw; using the first path instead", host.policyName(), e);
                }
            }
            if (v instanceof QueuePathView && t.contains(((QueuePathView) v).path)) {
                chosen = ((QueuePathView) v).path;
            }
            if (chosen == r.avoid) {
                int at = Arrays.asList(usable).indexOf(chosen);
                chosen = usable[(at + 1) % usable.length];
            }
        }
        return chosen;
    }

    private QueueConnection connectionTo(Path p) {
        if (p.index >= connections.length) {
            connections = Arrays.copyOf(connections, Math.max(p.index + 1, connections.length * 2));
        }
        QueueConnection c = connections[p.index];
        if (c == null || c.state() == QueueConnection.State.CLOSED) {
            c = new QueueConnection(this, p);
            connections[p.index] = c;
            c.connect();
        }
        return c;
    }

    /** No usable path: wait for one (bounded, with a deadline when configured) or fail, per no-path-retry. */
    private void park(Request r, Topology t) {
        long now = host.ticker().nanos();
        if (r.parkedSinceNanos == 0) {
            r.parkedSinceNanos = now;
        }
        NoPathRetry npr = host.config().noPathRetry();
        if (t.waitForTransition) {
            r.parkDeadlineNanos = now + TimeUnit.MILLISECONDS.toNanos(host.transitionTimeoutMillis());
        } else if (npr.mode() == NoPathRetry.Mode.FAIL) {
            failSoon(r, IoErrorKind.NO_PATH, "no usable path to " + host.name() + ": " + host.noPathReason());
            return;
        } else if (npr.mode() == NoPathRetry.Mode.TIMED) {
            r.parkDeadlineNanos = r.parkedSinceNanos + TimeUnit.MILLISECONDS.toNanos(npr.timeoutMillis());
        } else {
            r.parkDeadlineNanos = 0;
        }
        if (host.parked().incrementAndGet() > host.config().queueLimit()) {
            host.parked().decrementAndGet();
            failSoon(r, IoErrorKind.QUEUE_FULL, "no usable path to " + host.name() + " and " + host.config().queueLimit()
                + " requests already waiting (queue limit)");
            return;
        }
        parked.add(r);
    }

    /**
     * Fails a request that is being dispatched, from a task of its own: a caller whose failure callback submits
     * its next request at once (as a workload loop does) would otherwise recurse through submit, dispatch and
     * the callback for as long as no path is usable, until its stack overflowed.
     */
    private void failSoon(Request r, IoErrorKind kind, String message) {
        try {
            loop.execute(() -> r.fail(kind, message));
        } catch (java.util.concurrent.RejectedExecutionException loopShutDown) {
            r.fail(kind, message);
        }
    }

    /** A usable path appeared: everything waiting goes out again. */
    void releaseParked() {
        if (parked.isEmpty()) {
            return;
        }
        List<Request> again = new ArrayList<>(parked);
        parked.clear();
        host.parked().addAndGet(-again.size());
        for (Request r : again) {
            dispatch(r);
        }
    }

    void retryNow(Request r) {
        r.attempts++;
        if (r.attempts > 2 * Math.max(1, host.topology().usable.length)) {
            retryLater(r);
        } else {
            dispatch(r);
        }
    }

    /** Re-dispatches after an exponential backoff (1 ms doubling to 50 ms), for statuses that say "later". */
    void retryLater(Request r) {
        long delay = Math.min(MAX_BACKOFF_NANOS, TimeUnit.MILLISECONDS.toNanos(1) << Math.min(r.attempts, 10));
        backingOff.add(r);
        loop.schedule(() -> {
            if (backingOff.remove(r)) {
                dispatch(r);
            }
        }, delay, TimeUnit.NANOSECONDS);
    }

    /** {@code r} ended on {@code c} with {@code outcome} ({@code data}: a read's result, owned here). */
    void complete(QueueConnection c, Request r, Outcome outcome, ByteBuf data) {
        Path path = c.path;
        long now = host.ticker().nanos();
        long latency = now - r.sentNanos;
        if (outcome.done()) {
            if (r.op == IoOp.READ && (data == null || data.readableBytes() != r.length)) {
                int got = data == null ? 0 : data.readableBytes();
                if (data != null) {
                    data.release();
                }
                path.stats.pathErrors.increment();
                r.avoid = path;
                r.path = null;
                retryNow(r);
                c.close("read answered with " + got + " bytes for " + r.length + " asked", true);
                return;
            }
            path.stats.record(index, r.length, latency, r.op != IoOp.READ);
            host.stats().record(index, r.length, now - r.startNanos, r.op != IoOp.READ);
            notifyPolicy(path, r, latency, false);
            if (r.op != IoOp.READ && data != null) {
                data.release();
                data = null;
            }
            r.succeed(data);
            return;
        }
        if (data != null) {
            data.release();
        }
        if (outcome.disposition() == Outcome.Disposition.FAILED) {
            notifyPolicy(path, r, latency, false);
            r.fail(outcome.error(), r + " failed on " + path.id + ": " + outcome.detail());
            return;
        }
        notifyPolicy(path, r, latency, true);
        r.path = null;
        switch (outcome.disposition()) {
            case RETRY_ELSEWHERE:
                path.stats.pathErrors.increment();
                r.avoid = path;
                retryNow(r);
                break;
            case RETRY_LATER:
                path.stats.retries.increment();
                r.attempts++;
                if (outcome.refreshStates()) {
                    host.requestRefresh(outcome.detail());
                }
                retryLater(r);
                break;
            default:
                // the access states we hold are stale (not owner, standby, inaccessible): re-read them
                path.stats.retries.increment();
                host.requestRefresh(outcome.detail());
                r.avoid = path;
                retryNow(r);
        }
    }

    private void notifyPolicy(Path path, Request r, long latency, boolean failed) {
        try {
            host.policy(index).completed(path.viewFor(index), r.op, r.length, latency, failed);
        } catch (RuntimeException e) {
            if (!policyFaultLogged) {
                policyFaultLogged = true;
                LOG.error("policy {} threw on completion", host.policyName(), e);
            }
        }
    }

    /** I/O timeouts a request may wait on a path that keeps answering others before the path is failed. */
    static final int STALLED_TIMEOUTS = 10;

    /**
     * Why a connection whose oldest unanswered request was sent at {@code oldest} (Long.MAX_VALUE: none) and which
     * last answered at {@code lastAnswer} is to be failed at {@code now}, or null. A path is dead when it answers
     * nothing for the timeout; one still answering is slow (a deep queue of large writes on a busy target), not
     * dead, and keeps its requests until one of them has waited {@link #STALLED_TIMEOUTS} timeouts (a request the
     * target lost while it answered others).
     */
    static String overdue(long now, long oldest, long lastAnswer, long timeoutNanos) {
        if (oldest == Long.MAX_VALUE || now - oldest <= timeoutNanos) {
            return null;
        }
        if (now - Math.max(oldest, lastAnswer) > timeoutNanos) {
            return "no reply within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms";
        }
        if (now - oldest > STALLED_TIMEOUTS * timeoutNanos) {
            return "a request unanswered for " + TimeUnit.NANOSECONDS.toMillis(now - oldest)
                + " ms while others were answered";
        }
        return null;
    }

    /** Periodic: fails paths whose oldest request is overdue, and requests that waited for a path too long. */
    void tick() {
        long now = host.ticker().nanos();
        long timeout = TimeUnit.MILLISECONDS.toNanos(host.config().ioTimeoutMillis());
        long setupTimeout = timeout + TimeUnit.MILLISECONDS.toNanos(host.config().connectTimeoutMillis());
        for (QueueConnection c : connections) {
            if (c == null) {
                continue;
            }
            switch (c.state()) {
                case READY:
                    String overdue = overdue(now, c.oldestSentNanos(), c.lastAnswerNanos(), timeout);
                    if (overdue != null) {
                        c.close(overdue, true);
                    }
                    break;
                case CONNECTING:
                    if (now - c.openedNanos() > setupTimeout) {
                        c.close("connecting took longer than " + TimeUnit.NANOSECONDS.toMillis(setupTimeout) + " ms", true);
                    }
                    break;
                default:
            }
        }
        if (!parked.isEmpty()) {
            if (host.topology().usable.length > 0) {
                releaseParked();
                return;
            }
            int n = parked.size();
            for (int i = 0; i < n; i++) {
                Request r = parked.poll();
                if (r.parkDeadlineNanos != 0 && now - r.parkDeadlineNanos >= 0) {
                    host.parked().decrementAndGet();
                    if (host.config().noPathRetry().mode() == NoPathRetry.Mode.QUEUE) {
                        // A transition wait ran out, but the user asked to queue: keep waiting.
                        r.parkDeadlineNanos = 0;
                        host.parked().incrementAndGet();
                        parked.add(r);
                        continue;
                    }
                    r.fail(IoErrorKind.NO_PATH, "no usable path to " + host.name() + " for "
                        + TimeUnit.NANOSECONDS.toMillis(now - r.parkedSinceNanos) + " ms: " + host.noPathReason());
                } else {
                    parked.add(r);
                }
            }
        }
    }

    /** The path failed or went offline: close this queue's connection to it, re-issuing what it held. */
    void abandon(Path p, String reason) {
        if (p.index < connections.length && connections[p.index] != null) {
            connections[p.index].close(reason, false);
        }
    }

    /** Device close: everything this queue holds fails with DEVICE_CLOSED. */
    void abortAll(String message) {
        for (QueueConnection c : connections) {
            if (c != null) {
                c.abort(IoErrorKind.DEVICE_CLOSED, message);
            }
        }
        host.parked().addAndGet(-parked.size());
        for (Request r : parked) {
            r.fail(IoErrorKind.DEVICE_CLOSED, message);
        }
        parked.clear();
        for (Request r : backingOff) {
            r.fail(IoErrorKind.DEVICE_CLOSED, message);
        }
        backingOff.clear();
    }
}
