package io.jmpio.core;

import io.jmpio.api.PathView;

/**
 * A path as the policy instance of one I/O queue sees it: the path's identity, and the requests that queue
 * has in flight on it — read from the queue's own statistics shard, so a policy weighing paths by load reads
 * only what its own core writes (summing every queue's shard on each request bounced those cache lines between
 * the cores). Each queue balances its own share of the load; shares balanced alike make the whole balanced.
 */
final class QueuePathView implements PathView {
    final Path path;
    private final int queue;

    QueuePathView(Path path, int queue) {
        this.path = path;
        this.queue = queue;
    }

    @Override public int index() { return path.index; }
    @Override public String id() { return path.id; }
    @Override public String address() { return path.address; }
    @Override public String controller() { return path.controller; }
    @Override public int inFlight() { return (int) path.stats.inFlightOf(queue); }
    @Override public long inFlightBytes() { return path.stats.inFlightBytesOf(queue); }

    @Override
    public String toString() {
        return path + " queue " + queue;
    }
}
