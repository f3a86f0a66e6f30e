package io.jmpio.emu.nvme;

import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Room for the data a queue asks its host for by R2T. Until a command's data has all come, the buffer it goes
 * into (a write's, or a command's own data) is held in memory, so what is held is bounded per queue and for
 * the whole front end of one controller — whatever number of controllers and queues hosts open (each queue
 * alone could otherwise hold its depth times MDTS). A command that finds no room waits, in its queue's order,
 * until some comes back: at once when its own queue gives some back; when another queue does, the queues with
 * waiting commands are woken one at a time, in turn (a queue still waiting goes to the back), so that under a
 * steady load no queue waits out the others. One that waited longer than the limit is answered Namespace Not
 * Ready, which a host retries. One instance per queue, used on its event loop except {@link #wake}; the front
 * end's share is {@link Shared}.
 */
final class R2tRoom {
    /** Bytes one queue holds at once. */
    static final long PER_QUEUE = 64L << 20;
    /** Bytes all queues of one controller's front end hold at once. */
    static final long PER_FRONT_END = 128L << 20;

    /** The front end's count of held bytes, shared by its queues. */
    static final class Shared {
        private final AtomicLong held = new AtomicLong();
        private final long limit;
        /** Queues with commands waiting for room, each once, woken in turn as room comes back. */
        private final ConcurrentLinkedQueue<R2tRoom> waiting = new ConcurrentLinkedQueue<>();

        Shared(long limit) {
            this.limit = limit;
        }

        long held() {
            return held.get();
        }

        private boolean take(long n) {
            long now;
            do {
                now = held.get();
                if (now + n > limit) {
                    return false;
                }
            } while (!held.compareAndSet(now, now + n));
            return true;
        }

        private void give(long n) {
            held.addAndGet(-n);
            R2tRoom next = waiting.poll();
            if (next != null) {
                next.wake();
            }
        }
    }

    /** A command waiting for room: {@code start} runs once it is taken, {@code refuse} when it waited too long. */
    private record Waiting(long length, long sinceNanos, Runnable start, Runnable refuse) {
    }

    private final Shared shared;
    /** The queue's event loop: a wake from another queue's loop runs there. */
    private final Executor loop;
    /** In the front end's list of waiting queues. */
    private final AtomicBoolean listed = new AtomicBoolean();
    private final long perQueue;
    private final long waitLimitNanos;
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private long held;
    private boolean closed;

    R2tRoom(Shared shared, Executor loop, long perQueue, long waitLimitNanos) {
        this.shared = shared;
        this.loop = loop;
        this.perQueue = perQueue;
        this.waitLimitNanos = waitLimitNanos;
    }

    /**
     * Runs {@code start} with {@code length} bytes of room taken (given back by {@link #giveBack}) now if there
     * is room and nobody waits before it, else later; {@code refuse} instead when it can never fit or waited
     * past the limit.
     */
    void whenRoom(long length, long nowNanos, Runnable start, Runnable refuse) {
        if (closed) {
            return;
        }
        if (length > perQueue || length > shared.limit) {
            refuse.run();
        } else if (waiting.isEmpty() && take(length)) {
            start.run();
        } else {
            waiting.add(new Waiting(length, nowNanos, start, refuse));
            list();
        }
    }

    /** Joins the end of the front end's waiting queues, unless already in it. */
    private void list() {
        if (listed.compareAndSet(false, true)) {
            shared.waiting.add(this);
        }
    }

    /** Room came back on another queue: this one looks for its waiting commands, on its own loop. */
    private void wake() {
        listed.set(false);
        loop.execute(() -> {
            if (waiting.isEmpty()) {
                // served meanwhile (or closed): the wake goes on to the next waiting queue, not lost
                R2tRoom next = shared.waiting.poll();
                if (next != null) {
                    next.wake();
                }
                return;
            }
            startWaiting(System.nanoTime());
        });
    }

    private boolean take(long length) {
        if (held + length > perQueue || !shared.take(length)) {
            return false;
        }
        held += length;
        return true;
    }

    /** A transfer ended (its data all came, or it was dropped): its room goes back, and waiting commands start. */
    void giveBack(long length, long nowNanos) {
        if (closed) {
            return; // given back at the close
        }
        held -= length;
        shared.give(length);
        startWaiting(nowNanos);
    }

    /** Starts the waiting commands that now fit, in order; refuses those that waited past the limit. */
    void startWaiting(long nowNanos) {
        Waiting w;
        while ((w = waiting.peek()) != null) {
            if (take(w.length)) {
                waiting.poll();
                w.start.run();
            } else if (nowNanos - w.sinceNanos > waitLimitNanos) {
                waiting.poll();
                w.refuse.run();
            } else {
                list();
                return;
            }
        }
    }

    /** Whether a transfer holds room or a command waits for some (the queue's timer has work). */
    boolean busy() {
        return held > 0 || !waiting.isEmpty();
    }

    /** The queue closed: what it held goes back, and its waiting commands go unanswered. */
    void close() {
        closed = true;
        waiting.clear();
        shared.waiting.remove(this);
        long had = held;
        held = 0;
        shared.give(had);
    }
}
