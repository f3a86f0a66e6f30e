package io.jmpio.emu.link;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * What one data channel of the link sends: messages from any thread queue here, and one task on the channel's
 * event loop takes whatever is queued when it runs and writes it as BATCH frames (at most {@link LinkFrame#MAX_BATCH}
 * messages and {@link #BATCH_BYTES} each), then flushes once. Nothing waits for a batch to fill: at queue depth 1
 * the task runs at once with one message; under load, messages arriving while the loop is busy share a frame and
 * a system call. Messages from one thread leave in the order they were queued.
 */
final class LinkOutbox implements Runnable {
    /** A batch is closed once its payloads reach this size, so one frame never holds a channel for long. */
    static final int BATCH_BYTES = 1 << 20;

    private final Channel channel;
    private final int kind;
    private final Consumer<LinkFrame> unsent;
    private final LongAdder messages;
    private final LongAdder frames;
    private final Queue<LinkFrame> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    /** {@code unsent} is told of every message that could not be written (its connection failed or closed). */
    LinkOutbox(Channel channel, int kind, Consumer<LinkFrame> unsent, LongAdder messages, LongAdder frames) {
        this.channel = channel;
        this.kind = kind;
        this.unsent = unsent;
        this.messages = messages;
        this.frames = frames;
    }

    void send(LinkFrame f) {
        queue.add(f);
        if (scheduled.compareAndSet(false, true)) {
            channel.eventLoop().execute(this);
        }
    }

    @Override
    public void run() {
        scheduled.set(false);
        List<LinkFrame> batch = new ArrayList<>();
        long bytes = 0;
        LinkFrame f;
        while ((f = queue.poll()) != null) {
            int n = f.payload().readableBytes();
            if (!batch.isEmpty() && (batch.size() == LinkFrame.MAX_BATCH || bytes + n > BATCH_BYTES)) {
                write(batch);
                batch = new ArrayList<>();
                bytes = 0;
            }
            batch.add(f);
            bytes += n;
        }
        if (!batch.isEmpty()) {
            write(batch);
        }
        channel.flush();
    }

    private void write(List<LinkFrame> batch) {
        if (!channel.isActive()) {
            for (LinkFrame f : batch) {
                f.release();
                unsent.accept(f);
            }
            return;
        }
        messages.add(batch.size());
        frames.increment();
        Object msg = batch.size() == 1 ? batch.get(0) : new LinkCodec.Batch(kind, batch);
        channel.write(msg).addListener((ChannelFutureListener) w -> {
            if (!w.isSuccess()) {
                batch.forEach(unsent);
            }
        });
    }
}
