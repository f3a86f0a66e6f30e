package io.jmpio.core;

import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/**
 * Self-describing 4 KiB blocks for verified workloads: bytes 0-7 the block number, 8-15 a write sequence
 * number, then data derived from both, and the last 4 bytes a CRC32C of the rest. A read can therefore tell
 * a torn, misplaced or stale block from the one last acknowledged.
 */
public final class BlockPattern {
    public static final int BLOCK = 4096;

    private BlockPattern() {
    }

    /** The content of write {@code seq} to {@code block}; sequence 0 is the never-written (zero) block. */
    public static byte[] content(long block, long seq) {
        byte[] b = new byte[BLOCK];
        if (seq == 0) {
            return b;
        }
        SplittableRandom r = new SplittableRandom(block * 1_000_003L + seq);
        for (int i = 16; i < BLOCK - 4; i += 8) {
            long v = r.nextLong();
            for (int k = 0; k < 8 && i + k < BLOCK - 4; k++) {
                b[i + k] = (byte) (v >>> (8 * k));
            }
        }
        put(b, 0, block);
        put(b, 8, seq);
        int c = crc(b);
        b[BLOCK - 4] = (byte) c;
        b[BLOCK - 3] = (byte) (c >>> 8);
        b[BLOCK - 2] = (byte) (c >>> 16);
        b[BLOCK - 1] = (byte) (c >>> 24);
        return b;
    }

    /** Why {@code got} is not write {@code seq} of {@code block}, or null when it is. */
    public static String mismatch(long block, long seq, byte[] got) {
        if (java.util.Arrays.equals(got, content(block, seq))) {
            return null;
        }
        long gotBlock = get(got, 0);
        long gotSeq = sequence(got);
        int stored = (got[BLOCK - 4] & 0xff) | (got[BLOCK - 3] & 0xff) << 8 | (got[BLOCK - 2] & 0xff) << 16 | (got[BLOCK - 1] & 0xff) << 24;
        if (stored != crc(got)) {
            return "block " + block + ": checksum wrong (torn or corrupt), expected write #" + seq;
        }
        if (gotBlock != block) {
            return "block " + block + ": holds block " + gotBlock + "'s data (misplaced write)";
        }
        return "block " + block + ": holds write #" + gotSeq + ", expected #" + seq + (gotSeq < seq ? " (a lost write)" : "");
    }

    /** The sequence number a block's content carries (whatever else it holds). */
    public static long sequence(byte[] block) {
        return get(block, 8);
    }

    private static int crc(byte[] b) {
        CRC32C crc = new CRC32C();
        crc.update(b, 0, BLOCK - 4);
        return (int) crc.getValue();
    }

    private static void put(byte[] b, int at, long v) {
        for (int k = 0; k < 8; k++) {
            b[at + k] = (byte) (v >>> (8 * k));
        }
    }

    private static long get(byte[] b, int at) {
        long v = 0;
        for (int k = 7; k >= 0; k--) {
            v = v << 8 | b[at + k] & 0xff;
        }
        return v;
    }
}
