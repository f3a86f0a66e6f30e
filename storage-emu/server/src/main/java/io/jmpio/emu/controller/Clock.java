package io.jmpio.emu.controller;

/** Monotonic time in nanoseconds; injected so timers can be driven by tests. */
@FunctionalInterface
public interface Clock {
    Clock SYSTEM = System::nanoTime;

    long nanos();
}
