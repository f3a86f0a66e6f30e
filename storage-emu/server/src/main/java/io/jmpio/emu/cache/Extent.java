package io.jmpio.emu.cache;

/**
 * A cached range of a LUN: {@code length} bytes at {@code offset}, holding either data (a view into
 * {@code data} from {@code dataOffset}) or zeroes ({@code data == null}), written under cache slot
 * {@code slot}. Slots grow with every cached write, so a higher slot is a newer write.
 */
public record Extent(long offset, long length, byte[] data, int dataOffset, long slot) {

    public static Extent data(long offset, byte[] data, int dataOffset, int length, long slot) {
        return new Extent(offset, length, data, dataOffset, slot);
    }

    public static Extent zeroes(long offset, long length, long slot) {
        return new Extent(offset, length, null, 0, slot);
    }

    public long end() {
        return offset + length;
    }

    public boolean isZeroes() {
        return data == null;
    }

    /** The part of this extent within [from, to). */
    public Extent slice(long from, long to) {
        long s = Math.max(from, offset);
        long e = Math.min(to, end());
        if (data == null) {
            return new Extent(s, e - s, null, 0, slot);
        }
        return new Extent(s, e - s, data, dataOffset + (int) (s - offset), slot);
    }
}
