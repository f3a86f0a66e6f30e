package io.jmpio.core;

/** A source of monotonic nanoseconds; tests pass one they advance by hand. */
@FunctionalInterface
public interface Ticker {
    Ticker SYSTEM = System::nanoTime;

    long nanos();
}
