package io.jmpio.emu.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.jmpio.emu.store.BackingStore;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Clean 4 KiB pages read from backing files, bounded by bytes (Caffeine, weighed by page size). Only the
 * owner of a LUN reads through it; destage invalidates the pages it rewrote and an ownership change drops
 * the LUN's pages, so a page is never newer on disk than in the cache for longer than a destage.
 */
public final class BlockCache {
    public static final int PAGE_SHIFT = 12;
    public static final int PAGE = 1 << PAGE_SHIFT;

    private record Key(int lun, long page) {
    }

    private final Cache<Key, byte[]> pages;

    public BlockCache(long maxBytes) {
        this.pages = Caffeine.newBuilder().maximumWeight(Math.max(maxBytes, PAGE))
            .weigher((Key k, byte[] v) -> v.length).build();
    }

    /** Reads [offset, offset+length) from the store through the cache. */
    public void read(int lun, BackingStore store, long offset, byte[] dst, int dstOffset, int length) throws IOException {
        try {
            int done = 0;
            while (done < length) {
                long pos = offset + done;
                long page = pos >>> PAGE_SHIFT;
                int inPage = (int) (pos & (PAGE - 1));
                int n = Math.min(PAGE - inPage, length - done);
                byte[] data = pages.get(new Key(lun, page), k -> load(store, k.page()));
                System.arraycopy(data, inPage, dst, dstOffset + done, n);
                done += n;
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** True when every page of [offset, offset+length) is in the cache (a read would not touch the drive). */
    public boolean cached(int lun, long offset, int length) {
        for (long p = offset >>> PAGE_SHIFT, last = (offset + length - 1) >>> PAGE_SHIFT; p <= last; p++) {
            if (pages.getIfPresent(new Key(lun, p)) == null) {
                return false;
            }
        }
        return true;
    }

    private static byte[] load(BackingStore store, long page) {
        byte[] b = new byte[PAGE];
        try {
            store.read(page << PAGE_SHIFT, b, 0, PAGE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b;
    }

    public void invalidate(int lun, long offset, long length) {
        long first = offset >>> PAGE_SHIFT;
        long last = (offset + length - 1) >>> PAGE_SHIFT;
        if (last - first > 4096) {
            invalidateLun(lun);
            return;
        }
        for (long p = first; p <= last; p++) {
            pages.invalidate(new Key(lun, p));
        }
    }

    public void invalidateLun(int lun) {
        pages.asMap().keySet().removeIf(k -> k.lun() == lun);
    }

    public void invalidateAll() {
        pages.invalidateAll();
    }

    public long weightedBytes() {
        return pages.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
    }
}
