package io.jmpio.emu.store;

import io.netty.buffer.ByteBuf;
import java.io.IOException;

/** The stable media of one LUN. Offsets and lengths are in bytes; reads past the end return zeroes. */
public interface BackingStore extends AutoCloseable {
    void read(long offset, byte[] dst, int dstOffset, int length) throws IOException;

    /**
     * Reads into {@code dst} at {@code dstIndex} (its writer index untouched): a store that can fill a (direct)
     * buffer in one copy says so by overriding this; by default the bytes go through a heap array.
     */
    default void read(long offset, ByteBuf dst, int dstIndex, int length) throws IOException {
        byte[] b = new byte[length];
        read(offset, b, 0, length);
        dst.setBytes(dstIndex, b);
    }

    void write(long offset, byte[] src, int srcOffset, int length) throws IOException;

    /** Makes the range read back as zeroes. */
    void writeZeroes(long offset, long length) throws IOException;

    /** Makes every completed write durable. */
    void force() throws IOException;

    /** Grows or shrinks the store. */
    void resize(long bytes) throws IOException;

    /** "file", "memory" or "null". */
    String kind();

    /** True when two controllers opening the same LUN see the same bytes (so takeover keeps data). */
    boolean shared();

    @Override
    void close() throws IOException;
}
