package io.jmpio.api;

import java.util.List;

/**
 * Chooses the path for each request among the usable paths of the best group. A device creates one instance
 * per I/O queue: {@code select} and {@code completed} of an instance come from that queue's thread, so what a
 * policy counts and learns is never contended between cores; {@code pathsChanged} comes from the device's own
 * thread while I/O runs, so implementations are still thread-safe. They should not allocate per request. The
 * path list changes while I/O runs: a policy never keeps paths it was not offered again.
 */
public interface BalancingPolicy {
    /**
     * Picks one of {@code paths} (never empty) for a request. Returning a path not in the list is a bug
     * the device answers by using the first path.
     */
    PathView select(List<? extends PathView> paths, IoOp op, long offset, int length);

    /** A request sent on {@code path} completed: latency in nanoseconds, bytes moved, whether it failed. */
    default void completed(PathView path, IoOp op, int bytes, long latencyNanos, boolean failed) {
    }

    /** The usable path set changed; {@code paths} is the new set (may be empty). */
    default void pathsChanged(List<? extends PathView> paths) {
    }
}
