package io.jmpio.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.cache.Extent;
import io.jmpio.emu.cache.ExtentMap;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ExtentMapTest {
    private static byte[] read(ExtentMap m, long off, int len) {
        byte[] b = new byte[len];
        Arrays.fill(b, (byte) '.');
        ExtentMap.overlay(m.overlapping(off, len), off, b, 0);
        return b;
    }

    private static Extent text(long off, String s, long slot) {
        byte[] b = s.getBytes();
        return Extent.data(off, b, 0, b.length, slot);
    }

    @Test
    void newerWritesReplaceTheOverlappedPartsOfOlderOnes() {
        ExtentMap m = new ExtentMap();
        m.put(text(0, "aaaaaaaa", 1));
        m.put(text(2, "bbb", 2));
        m.put(Extent.zeroes(6, 1, 3));
        assertArrayEquals("aabbba\0a..".getBytes(), read(m, 0, 10));
        assertEquals(5, m.size(), "a | bbb | a | zero | a");
        assertEquals(7, m.dataBytes());
    }

    @Test
    void aLateOlderCopyOnlyFillsGaps() {
        ExtentMap m = new ExtentMap();
        m.put(text(2, "NN", 5));
        m.put(text(0, "oooooo", 4)); // arrives after the newer one, as mirror messages on two channels may
        assertArrayEquals("ooNNoo".getBytes(), read(m, 0, 6));
    }

    @Test
    void removeIfCurrentKeepsWhatWasOverwrittenSince() {
        ExtentMap m = new ExtentMap();
        Extent old = text(0, "xxxx", 1);
        m.put(old);
        m.put(text(1, "y", 2));
        m.removeIfCurrent(old);
        assertArrayEquals(".y..".getBytes(), read(m, 0, 4));
    }

    @Test
    void releaseDropsDestagedSlotsAndLateCopiesOfThem() {
        ExtentMap m = new ExtentMap();
        m.put(text(0, "aa", 1));
        m.put(text(4, "bb", 3));
        m.releaseUpTo(2);
        m.put(text(8, "cc", 2)); // late copy of a released write
        assertArrayEquals("....bb....".getBytes(), read(m, 0, 10));
        assertTrue(m.size() == 1);
    }

    @Test
    void aSlotIndexedMapReleasesExactlyWhatAScanWould() {
        java.util.Random r = new java.util.Random(7);
        ExtentMap scan = new ExtentMap();
        ExtentMap indexed = new ExtentMap(true);
        long slot = 0;
        for (int step = 0; step < 5000; step++) {
            int what = r.nextInt(10);
            if (what < 7) {
                long off = r.nextInt(64) * 512L;
                int len = (1 + r.nextInt(8)) * 512;
                // mostly in order; now and then a late, older copy (mirror messages on several channels)
                long s = r.nextInt(5) == 0 ? Math.max(1, slot - r.nextInt(20)) : ++slot;
                Extent e = r.nextInt(6) == 0 ? Extent.zeroes(off, len, s) : Extent.data(off, new byte[len], 0, len, s);
                byte[] fill = new byte[len];
                java.util.Arrays.fill(fill, (byte) s);
                e = e.isZeroes() ? e : Extent.data(off, fill, 0, len, s);
                scan.put(e);
                indexed.put(e);
            } else if (what < 9) {
                long upTo = slot - r.nextInt(30);
                scan.releaseUpTo(upTo);
                indexed.releaseUpTo(upTo);
            } else {
                java.util.List<Extent> all = scan.snapshot();
                if (!all.isEmpty()) {
                    Extent victim = all.get(r.nextInt(all.size()));
                    scan.removeAllIfCurrent(java.util.List.of(victim));
                    indexed.removeIfCurrent(victim);
                }
            }
            assertEquals(scan.dataBytes(), indexed.dataBytes(), "step " + step);
            assertEquals(scan.size(), indexed.size(), "step " + step);
        }
        assertArrayEquals(read(scan, 0, 72 * 512), read(indexed, 0, 72 * 512));
    }
}
