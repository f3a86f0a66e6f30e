package io.jmpio.emu.store;

import java.util.Arrays;

/** Reads zeroes, drops writes: measures the array's own cost without media. */
final class NullBackingStore implements BackingStore {
    @Override
    public void read(long offset, byte[] dst, int dstOffset, int length) {
        Arrays.fill(dst, dstOffset, dstOffset + length, (byte) 0);
    }

    @Override
    public void write(long offset, byte[] src, int srcOffset, int length) {
    }

    @Override
    public void writeZeroes(long offset, long length) {
    }

    @Override
    public void force() {
    }

    @Override
    public void resize(long bytes) {
    }

    @Override
    public String kind() {
        return "null";
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public void close() {
    }
}
