package io.jmpio.policies;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Per-path numbers indexed by {@link io.jmpio.api.PathView#index()}, grown (rarely, when a path with a larger
 * index appears) by replacing the array. Lost updates during a grow only cost a sample of history.
 */
final class PathTable {
    private volatile AtomicLongArray values;
    private final long initial;

    PathTable(long initial) {
        this.initial = initial;
        this.values = filled(8, initial);
    }

    private static AtomicLongArray filled(int n, long v) {
        AtomicLongArray a = new AtomicLongArray(n);
        for (int i = 0; i < n; i++) {
            a.set(i, v);
        }
        return a;
    }

    private AtomicLongArray at(int index) {
        AtomicLongArray a = values;
        if (index < a.length()) {
            return a;
        }
        synchronized (this) {
            a = values;
            if (index >= a.length()) {
                AtomicLongArray b = filled(Math.max(index + 1, a.length() * 2), initial);
                for (int i = 0; i < a.length(); i++) {
                    b.set(i, a.get(i));
                }
                values = b;
                a = b;
            }
            return a;
        }
    }

    long get(int index) {
        AtomicLongArray a = values;
        return index < a.length() ? a.get(index) : initial;
    }

    void set(int index, long v) {
        at(index).set(index, v);
    }

    void add(int index, long delta) {
        at(index).addAndGet(index, delta);
    }

    /** Exponentially weighted moving average: new = old + (sample - old) * weight, first sample taken as is. */
    void ewma(int index, long sample, double weight) {
        AtomicLongArray a = at(index);
        long old = a.get(index);
        a.set(index, old == initial ? sample : old + (long) ((sample - old) * weight));
    }
}
