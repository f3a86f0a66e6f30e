package io.jmpio.netty;

import io.netty.channel.Channel;
import java.util.concurrent.RejectedExecutionException;

/**
 * Flushes a channel once its event loop has finished the round it is in (the messages it is reading, the tasks
 * handed to it), so everything written during one round goes out in one system call. Unlike Netty's
 * {@code FlushConsolidationHandler}, whose deferred flush is a scheduled future each time, the flush is one
 * reusable task queued with {@code execute}: nothing is allocated per flush. Asked from another thread, it
 * flushes at once (Netty hands that flush to the loop itself).
 */
public final class RoundFlush {
    private final Channel channel;
    /** A flush is queued on the loop; set and cleared on the loop only. */
    private boolean queued;
    private final Runnable flushNow = () -> {
        queued = false;
        flush();
    };

    public RoundFlush(Channel channel) {
        this.channel = channel;
    }

    /** The channel is flushed by the end of this event-loop round (at once when called off the loop). */
    public void request() {
        if (!channel.eventLoop().inEventLoop()) {
            flush();
            return;
        }
        if (!queued) {
            queued = true;
            try {
                channel.eventLoop().execute(flushNow);
            } catch (RejectedExecutionException shuttingDown) {
                queued = false;
                flush();
            }
        }
    }

    private void flush() {
        channel.flush();
    }
}
