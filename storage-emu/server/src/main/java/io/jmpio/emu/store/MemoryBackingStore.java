package io.jmpio.emu.store;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/** Sparse 4 KiB pages in memory. Shared by the controllers of one process; lost when the process ends. */
final class MemoryBackingStore implements BackingStore {
    private static final int PAGE_SHIFT = 12;
    private static final int PAGE = 1 << PAGE_SHIFT;
    private final ConcurrentHashMap<Long, byte[]> pages = new ConcurrentHashMap<>();
    private volatile long size;

    MemoryBackingStore(long size) {
        this.size = size;
    }

    @Override
    public void read(long offset, byte[] dst, int dstOffset, int length) {
        read(offset, Unpooled.wrappedBuffer(dst), dstOffset, length);
    }

    @Override
    public void read(long offset, ByteBuf dst, int dstIndex, int length) {
        int done = 0;
        while (done < length) {
            long pos = offset + done;
            int inPage = (int) (pos & (PAGE - 1));
            int n = Math.min(PAGE - inPage, length - done);
            byte[] page = pages.get(pos >>> PAGE_SHIFT);
            if (page == null) {
                dst.setZero(dstIndex + done, n);
            } else {
                synchronized (page) {
                    dst.setBytes(dstIndex + done, page, inPage, n);
                }
            }
            done += n;
        }
    }

    @Override
    public void write(long offset, byte[] src, int srcOffset, int length) {
        int done = 0;
        while (done < length) {
            long pos = offset + done;
            int inPage = (int) (pos & (PAGE - 1));
            int n = Math.min(PAGE - inPage, length - done);
            byte[] page = pages.computeIfAbsent(pos >>> PAGE_SHIFT, k -> new byte[PAGE]);
            synchronized (page) {
                System.arraycopy(src, srcOffset + done, page, inPage, n);
            }
            done += n;
        }
    }

    @Override
    public void writeZeroes(long offset, long length) {
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            int inPage = (int) (pos & (PAGE - 1));
            int n = (int) Math.min(PAGE - inPage, end - pos);
            if (inPage == 0 && n == PAGE) {
                pages.remove(pos >>> PAGE_SHIFT);
            } else {
                byte[] page = pages.get(pos >>> PAGE_SHIFT);
                if (page != null) {
                    synchronized (page) {
                        Arrays.fill(page, inPage, inPage + n, (byte) 0);
                    }
                }
            }
            pos += n;
        }
    }

    @Override
    public void force() {
    }

    @Override
    public void resize(long bytes) {
        if (bytes < size) {
            pages.keySet().removeIf(p -> (p << PAGE_SHIFT) >= bytes);
        }
        size = bytes;
    }

    @Override
    public String kind() {
        return "memory";
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public void close() {
    }
}
