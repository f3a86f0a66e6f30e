package io.jmpio.emu.controller;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a paused controller holds (hosts' PDUs and requests, the peer's link messages) until it resumes, and
 * the order they run in then. The gate closes when the controller pauses and opens only once everything held
 * has run, what arrived during that too: a message from the peer that arrives just after the resume must not
 * overtake one held from before it (a mirror copy of a newer write replaced by an older one, a lease revocation
 * run after a read it should have stopped).
 */
final class PauseGate {
    private static final Logger LOG = LoggerFactory.getLogger(PauseGate.class);
    private final Object lock = new Object();
    private final ArrayDeque<Runnable> held = new ArrayDeque<>();
    /** True from the pause until the last held task has run; read without the lock on the fast path. */
    private volatile boolean holding;

    /** The controller pauses: from now on work is held. */
    void close() {
        synchronized (lock) {
            holding = true;
        }
    }

    /** Whether work is being held now: a cheap test before {@link #hold} (whose answer is the one that counts). */
    boolean closed() {
        return holding;
    }

    /** True when {@code work} was held (the gate is closed, or still releasing); false: run it now. */
    boolean hold(Runnable work) {
        if (!holding) {
            return false;
        }
        synchronized (lock) {
            if (!holding) {
                return false;
            }
            held.add(work);
            return true;
        }
    }

    /**
     * A request that expects an answer: null when the gate is open (serve it now); else a future that {@code
     * onResume}'s answer completes once the controller resumes, failure included.
     */
    <T> CompletableFuture<T> answerOnResume(Supplier<CompletableFuture<T>> onResume) {
        if (!holding) {
            return null;
        }
        CompletableFuture<T> later = new CompletableFuture<>();
        boolean held = hold(() -> {
            CompletableFuture<T> answer;
            try {
                answer = onResume.get();
            } catch (RuntimeException e) {
                later.completeExceptionally(e);
                return;
            }
            answer.whenComplete((value, failure) -> {
                if (failure != null) {
                    later.completeExceptionally(failure);
                } else {
                    later.complete(value);
                }
            });
        });
        return held ? later : null;
    }

    /**
     * The controller resumed: runs everything held, in the order it came, on this thread, and what arrives while
     * it does after it; then lets work through.
     */
    void open() {
        while (true) {
            Runnable next;
            synchronized (lock) {
                next = held.poll();
                if (next == null) {
                    holding = false;
                    return;
                }
            }
            try {
                next.run();
            } catch (RuntimeException e) {
                // one failed task must not keep the gate closed for good (nothing would be served again)
                LOG.error("work held over a pause failed on resume", e);
            }
        }
    }

    /** The controller stops: what was held is dropped (the connections it would answer are closed). */
    void clear() {
        synchronized (lock) {
            held.clear();
            holding = false;
        }
    }
}
