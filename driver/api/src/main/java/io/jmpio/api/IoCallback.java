package io.jmpio.api;

import io.netty.buffer.ByteBuf;

/**
 * Completion of one request, called exactly once. The device calls it on the I/O thread that serves the
 * submitting thread (see {@link BlockDevice}).
 */
public interface IoCallback {
    /**
     * The request succeeded. For a read, {@code data} holds exactly the bytes asked for and the callee
     * owns it (must release it); for every other operation it is {@code null}.
     */
    void completed(ByteBuf data);

    void failed(BlockIoException error);
}
