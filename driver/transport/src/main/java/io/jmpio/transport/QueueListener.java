package io.jmpio.transport;

import io.netty.buffer.ByteBuf;
import java.util.List;

/** What a queue channel tells the core, always on the queue's event loop. */
public interface QueueListener {
    /** Connected and the host identified: commands go out now. */
    void ready(QueueChannel channel);

    /** One command ended; {@code data} is a read's result (the listener owns it), else null. */
    void completed(QueueChannel channel, IoCommand command, Outcome outcome, ByteBuf data);

    /**
     * The channel is gone ({@code pathFault}: the path is to blame, not a close asked for); {@code unanswered}
     * are the commands sent or waiting that got no outcome, for the core to re-issue.
     */
    void closed(QueueChannel channel, String reason, boolean pathFault, List<IoCommand> unanswered);
}
