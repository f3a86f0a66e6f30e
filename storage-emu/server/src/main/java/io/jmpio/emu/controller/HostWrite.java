package io.jmpio.emu.controller;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;

/**
 * A host's write whose data arrives after the command (NVMe/TCP's R2T and H2CData): begun only once the LUN's
 * owner has room for it in its cache, its data handed over chunk by chunk as the host sends it — to the owner
 * over the link when this controller does not own the LUN, without gathering it here first — then committed.
 */
public interface HostWrite {
    /** Null when the write may proceed (ask the host for its data); else the refusal to answer with. */
    IoResult refusal();

    /** The next chunk of data, at {@code at} within the write (chunks come in order). The caller keeps {@code chunk}. */
    void data(long at, ByteBuf chunk);

    /** All data given: the write is executed (by the owner) and its outcome returned. */
    CompletableFuture<IoResult> commit();

    /** The host's data will not all come (connection lost, digest error): the owner's room is given back. */
    void abort();

    static HostWrite refused(IoResult why) {
        return new HostWrite() {
            @Override
            public IoResult refusal() {
                return why;
            }

            @Override
            public void data(long at, ByteBuf chunk) {
                throw new IllegalStateException("refused write");
            }

            @Override
            public CompletableFuture<IoResult> commit() {
                return CompletableFuture.completedFuture(why);
            }

            @Override
            public void abort() {
            }
        };
    }
}
