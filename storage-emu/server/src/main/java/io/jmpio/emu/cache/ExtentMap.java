package io.jmpio.emu.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * Non-overlapping cached extents of one LUN, keyed by offset. A newer write (higher slot) replaces the parts
 * of older extents it covers; an older write arriving late (mirror messages travel on several channels)
 * only fills the gaps newer extents leave. Thread-safe; every method takes the map's lock briefly.
 */
public final class ExtentMap {
    private final TreeMap<Long, Extent> extents = new TreeMap<>();
    private long dataBytes;
    /** Mirror side: slots at or below this were destaged by the owner; late copies of them are dropped. */
    private long releasedUpTo = Long.MIN_VALUE;
    /**
     * Maps released by slot ({@link #releaseUpTo}): every extent added, oldest slot first, so a release touches only
     * what it drops. Entries replaced since are stale and skipped when they come up (an extent is still in the map
     * when the map holds that very object at its offset).
     */
    private final PriorityQueue<Extent> bySlot;

    /** A map whose extents go by {@link #removeIfCurrent} (an owner's cache). */
    public ExtentMap() {
        this(false);
    }

    /** @param releasedBySlot true for a map emptied by {@link #releaseUpTo} (a mirror): it keeps a slot index */
    public ExtentMap(boolean releasedBySlot) {
        this.bySlot = releasedBySlot ? new PriorityQueue<>((a, b) -> Long.compare(a.slot(), b.slot())) : null;
    }

    public synchronized void put(Extent e) {
        if (e.length() <= 0 || e.slot() <= releasedUpTo) {
            return;
        }
        long start = e.offset();
        long end = e.end();
        List<long[]> gaps = new ArrayList<>();
        gaps.add(new long[] {start, end});
        Map.Entry<Long, Extent> floor = extents.floorEntry(start);
        List<Extent> overlapping = new ArrayList<>();
        if (floor != null && floor.getValue().end() > start) {
            overlapping.add(floor.getValue());
        }
        for (Extent x : extents.subMap(start, false, end, false).values()) {
            if (floor == null || x != floor.getValue()) {
                overlapping.add(x);
            }
        }
        for (Extent x : overlapping) {
            if (x.slot() > e.slot()) {
                gaps = subtract(gaps, x.offset(), x.end());
                continue;
            }
            remove(x);
            if (x.offset() < start) {
                add(x.slice(x.offset(), start));
            }
            if (x.end() > end) {
                add(x.slice(end, x.end()));
            }
        }
        for (long[] g : gaps) {
            add(e.slice(g[0], g[1]));
        }
    }

    private static List<long[]> subtract(List<long[]> gaps, long from, long to) {
        List<long[]> out = new ArrayList<>(gaps.size() + 1);
        for (long[] g : gaps) {
            if (to <= g[0] || from >= g[1]) {
                out.add(g);
                continue;
            }
            if (g[0] < from) {
                out.add(new long[] {g[0], from});
            }
            if (to < g[1]) {
                out.add(new long[] {to, g[1]});
            }
        }
        return out;
    }

    private void add(Extent x) {
        if (x.length() <= 0) {
            return;
        }
        extents.put(x.offset(), x);
        if (!x.isZeroes()) {
            dataBytes += x.length();
        }
        if (bySlot != null) {
            bySlot.add(x);
        }
    }

    private void remove(Extent x) {
        extents.remove(x.offset());
        if (!x.isZeroes()) {
            dataBytes -= x.length();
        }
    }

    /** The extents overlapping [offset, offset + length), clipped to it, in offset order. */
    public synchronized List<Extent> overlapping(long offset, long length) {
        if (extents.isEmpty()) {
            return List.of(); // the usual read: nothing cached over it
        }
        long end = offset + length;
        List<Extent> out = new ArrayList<>();
        Map.Entry<Long, Extent> floor = extents.floorEntry(offset);
        if (floor != null && floor.getValue().end() > offset) {
            out.add(floor.getValue().slice(offset, end));
        }
        for (Extent x : extents.subMap(offset, false, end, false).values()) {
            out.add(x.slice(offset, end));
        }
        return out;
    }

    /** Copies the given extents (from {@link #overlapping}) over {@code dst}, which holds [offset, offset+len) from {@code dstIndex}. */
    public static void overlay(List<Extent> parts, long offset, ByteBuf dst, int dstIndex) {
        for (Extent x : parts) {
            int at = dstIndex + (int) (x.offset() - offset);
            if (x.isZeroes()) {
                dst.setZero(at, (int) x.length());
            } else {
                dst.setBytes(at, x.data(), x.dataOffset(), (int) x.length());
            }
        }
    }

    /** As {@link #overlay(List, long, ByteBuf, int)}, over an array. */
    public static void overlay(List<Extent> parts, long offset, byte[] dst, int dstOffset) {
        if (!parts.isEmpty()) {
            overlay(parts, offset, Unpooled.wrappedBuffer(dst), dstOffset);
        }
    }

    public synchronized List<Extent> snapshot() {
        return new ArrayList<>(extents.values());
    }

    /** Removes the parts of {@code e}'s range still holding {@code e}'s slot (not overwritten since). */
    public synchronized void removeIfCurrent(Extent e) {
        removeCurrent(e);
    }

    /** {@link #removeIfCurrent} for each of {@code written}, under one acquisition of the lock (destage). */
    public synchronized void removeAllIfCurrent(List<Extent> written) {
        for (Extent e : written) {
            removeCurrent(e);
        }
    }

    private void removeCurrent(Extent e) {
        Iterator<Extent> it = extents.subMap(e.offset(), true, e.end(), false).values().iterator();
        while (it.hasNext()) {
            Extent x = it.next();
            if (x.slot() == e.slot()) {
                it.remove();
                if (!x.isZeroes()) {
                    dataBytes -= x.length();
                }
            }
        }
    }

    /** Mirror release: drops every extent of slot {@code <= slot} and ignores late copies of them. */
    public synchronized void releaseUpTo(long slot) {
        releasedUpTo = Math.max(releasedUpTo, slot);
        if (bySlot == null) {
            Iterator<Extent> it = extents.values().iterator();
            while (it.hasNext()) {
                Extent x = it.next();
                if (x.slot() <= slot) {
                    it.remove();
                    if (!x.isZeroes()) {
                        dataBytes -= x.length();
                    }
                }
            }
            return;
        }
        while (!bySlot.isEmpty() && bySlot.peek().slot() <= slot) {
            Extent x = bySlot.poll();
            if (extents.get(x.offset()) == x) {
                remove(x);
            }
        }
    }

    public synchronized void clear() {
        extents.clear();
        if (bySlot != null) {
            bySlot.clear();
        }
        dataBytes = 0;
        releasedUpTo = Long.MIN_VALUE;
    }

    public synchronized long dataBytes() {
        return dataBytes;
    }

    public synchronized int size() {
        return extents.size();
    }

    public synchronized boolean isEmpty() {
        return extents.isEmpty();
    }
}
