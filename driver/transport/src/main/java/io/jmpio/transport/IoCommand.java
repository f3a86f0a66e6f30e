package io.jmpio.transport;

import io.jmpio.api.IoOp;
import io.netty.buffer.ByteBuf;

/**
 * One block command as the core hands it to a queue channel: the operation, the byte range (a multiple of the
 * logical block size; at most the target's maximum transfer for reads and writes), a write's data (the
 * transport reads it without taking ownership: the core keeps it for a re-issue), and force-unit-access.
 */
public interface IoCommand {
    IoOp op();

    long offset();

    int length();

    ByteBuf data();

    boolean fua();
}
