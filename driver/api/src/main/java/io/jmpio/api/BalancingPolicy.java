package io.jmpio.api;

import java.util.List;

/**
 * Chooses the path for each request among the usable paths of the best group. One instance serves every
 * I/O queue of a device at once, so implementations are thread-safe, and they should not allocate per
 * request. The path list changes while I/O runs: a policy never keeps paths it was not offered again.
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
