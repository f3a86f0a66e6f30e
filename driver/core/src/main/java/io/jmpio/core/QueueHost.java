package io.jmpio.core;

import io.jmpio.api.BalancingPolicy;
import io.netty.channel.Channel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What an I/O queue needs from its device, and nothing more: the current route (topology and policy), the
 * settings and clock, the shared counters, and the two things a queue tells the device (a path failed, the
 * access states look stale).
 */
interface QueueHost {
    String name();

    boolean closed();

    Topology topology();

    /** The policy instance of I/O queue {@code queue} (each queue has its own). */
    BalancingPolicy policy(int queue);

    String policyName();

    MultipathConfig config();

    Ticker ticker();

    PathStats stats();

    /** Requests waiting for a usable path, over all queues (bounded by the queue limit). */
    AtomicInteger parked();

    String noPathReason();

    /** How long requests wait for a state transition: twice the target's ANATT when it says one (as Linux), else the setting. */
    long transitionTimeoutMillis();

    void requestRefresh(String why);

    void pathFailed(Path p, String reason);

    Class<? extends Channel> ioChannelClass();
}
