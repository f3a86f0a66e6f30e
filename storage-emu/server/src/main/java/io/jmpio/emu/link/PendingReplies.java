package io.jmpio.emu.link;

import io.jmpio.emu.link.InterControllerLink.LinkDownException;
import io.netty.channel.Channel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * The link's requests waiting for their replies, by correlation id. Each completes with its reply — only one
 * arriving on the connection that carried the request — or fails when that connection closes, when the link
 * disconnects, or when a sweep finds it overdue (one sweep for all of them, rather than a timer per request).
 */
final class PendingReplies {
    private record Pending(CompletableFuture<LinkFrame> future, Channel channel, long deadlineNanos) {
    }

    private final ConcurrentHashMap<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextCorrelation = new AtomicLong(1);
    private final String peerId;
    private final long timeoutMillis;

    PendingReplies(String peerId, long timeoutMillis) {
        this.peerId = peerId;
        this.timeoutMillis = timeoutMillis;
    }

    /** Registers a request about to leave on {@code channel}; returns the correlation id it must carry. */
    long add(CompletableFuture<LinkFrame> reply, Channel channel) {
        long id = nextCorrelation.getAndIncrement();
        pending.put(id, new Pending(reply, channel, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis)));
        return id;
    }

    /**
     * A reply arrived on {@code channel}: true when it completed its request; false when it is late (failed
     * already) or answers a request that connection never carried — the caller releases it then.
     */
    boolean complete(LinkFrame reply, Channel channel) {
        Pending p = pending.get(reply.correlation());
        return p != null && p.channel() == channel && pending.remove(reply.correlation(), p) && p.future().complete(reply);
    }

    /** Fails request {@code id} (it could not be sent). */
    void fail(long id, String why) {
        Pending p = pending.remove(id);
        if (p != null) {
            p.future().completeExceptionally(new LinkDownException(why));
        }
    }

    /** Fails every request that {@code channel} carried: it closed. */
    void failCarriedBy(Channel channel, String why) {
        failIf(p -> p.channel() == channel, why);
    }

    /** Fails every request in flight. */
    void failAll(String why) {
        failIf(p -> true, why);
    }

    /** Fails every request whose reply is overdue. */
    void sweep() {
        long now = System.nanoTime();
        failIf(p -> now - p.deadlineNanos() > 0, "no reply from controller " + peerId + " within " + timeoutMillis + " ms");
    }

    private void failIf(Predicate<Pending> which, String why) {
        for (var e : pending.entrySet()) {
            Pending p = e.getValue();
            if (which.test(p) && pending.remove(e.getKey(), p)) {
                p.future().completeExceptionally(new LinkDownException(why));
            }
        }
    }
}
