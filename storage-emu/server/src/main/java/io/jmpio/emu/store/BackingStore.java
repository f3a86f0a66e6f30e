package io.jmpio.emu.store;

import java.io.IOException;

/** The stable media of one LUN. Offsets and lengths are in bytes; reads past the end return zeroes. */
public interface BackingStore extends AutoCloseable {
    void read(long offset, byte[] dst, int dstOffset, int length) throws IOException;

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
