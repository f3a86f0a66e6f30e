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
}
