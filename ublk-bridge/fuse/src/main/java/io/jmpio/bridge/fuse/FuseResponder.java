package io.jmpio.bridge.fuse;

import static io.jmpio.bridge.fuse.FuseLayout.OUT_HEADER;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * Where the answer to one FUSE request goes: a {@code write()} on the {@code /dev/fuse} fd it was read from, or
 * the io_uring entry that carried it (its buffers, then COMMIT_AND_FETCH). Called once per request, from any
 * thread.
 */
interface FuseResponder {
    /** A reply buffer with room for the out header (written by the responder) and {@code body} bytes after it. */
    static ByteBuf out(int body) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(OUT_HEADER + body);
        b.writerIndex(OUT_HEADER);
        return b;
    }

    /** A reply whose body follows {@code OUT_HEADER} bytes of room in {@code out}; takes {@code out} over. */
    void reply(long unique, ByteBuf out);

    void replyError(long unique, int errno);

    /** A reply whose body is {@code length} bytes of {@code data} at {@code index}; {@code data} stays the caller's. */
    void replyData(long unique, ByteBuf data, int index, int length);

    /**
     * The {@code size} bytes of WRITE data at the start of {@code payload}, as a buffer the block device takes
     * over: a copy where the request's buffer is reused at once (/dev/fuse), the buffer itself where it stays
     * untouched until the reply (an io_uring entry).
     */
    ByteBuf writeData(ByteBuf payload, int size);
}
