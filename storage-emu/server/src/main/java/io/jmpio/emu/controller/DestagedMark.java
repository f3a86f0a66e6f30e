package io.jmpio.emu.controller;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The owner's destaged mark, published in its mailbox: every write it cached up to that slot is on the drives,
 * so a peer taking over replays only mirrored writes above it. A write the mirror lacks (link down, mirror
 * refused) is written through to the drives; before it is acknowledged the mark must be at least every slot
 * ever sent to the mirror, else a takeover could replay an older mirrored copy of the range over it. That
 * costs one destage of the whole cache when mirroring stops; while it stays stopped, nothing more.
 */
final class DestagedMark {
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final Controller c;
    /** The highest slot sent to the peer's mirror (raised before sending: the peer may apply what we never hear of). */
    private final AtomicLong sentToMirror = new AtomicLong(Long.MIN_VALUE);
    private final Object publishing = new Object();

    DestagedMark(Controller controller) {
        this.c = controller;
    }

    void sendingToMirror(long slot) {
        sentToMirror.accumulateAndGet(slot, Math::max);
    }

    /** A destage cycle wrote everything cached up to {@code slot}; published with the next heartbeat. */
    void destaged(long slot) throws IOException {
        c.mailbox.destagedUpTo(slot, false);
    }

    /** Completes once no mirrored copy older than what is now on the drives would be replayed by a takeover. */
    CompletableFuture<Void> beforeUnmirroredAck() {
        if (sentToMirror.get() <= c.mailbox.destagedUpTo()) {
            return DONE;
        }
        return CompletableFuture.runAsync(() -> {
            synchronized (publishing) {
                if (sentToMirror.get() <= c.mailbox.destagedUpTo()) {
                    return;
                }
                long upTo = c.nvram.lastSlot(); // at least every slot sent so far: each was handed out before
                try {
                    for (Lun l : c.luns.values()) {
                        if (l.owned()) {
                            c.destager.destageLun(l);
                        }
                    }
                    c.mailbox.destagedUpTo(upTo, true);
                } catch (IOException e) {
                    throw new UncheckedIOException(e); // unwrapped to its IOException by the caller
                }
            }
        }, c.disk);
    }
}
