package io.jmpio.emu.controller;

import java.util.ArrayDeque;

/**
 * What a paused controller holds (hosts' PDUs and requests, the peer's link messages) until it resumes, and
 * the order they run in then. The gate closes when the controller pauses and opens only once everything held
 * has run, what arrived during that too: a message from the peer that arrives just after the resume must not
 * overtake one held from before it (a mirror copy of a newer write replaced by an older one, a lease revocation
 * run after a read it should have stopped).
 */
final class PauseGate {
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
            next.run();
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
