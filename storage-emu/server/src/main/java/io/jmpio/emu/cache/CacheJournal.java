package io.jmpio.emu.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The controller's NVRAM: every cached write of a file-backed LUN is appended here before it is
 * acknowledged, so a crash of the whole process (both controllers) loses nothing the array acknowledged.
 * Appends reach the kernel's page cache, which outlives the process as battery-backed cache outlives a
 * controller reset. Destage rolls to a new segment, destages everything the old segments hold, and deletes them.
 *
 * <pre>
 *  record (little-endian):
 *  +---------------------------------------------------------------+
 *  |                 record length incl. this field (u32)          |  0
 *  +---------------------------------------------------------------+
 *  |                           lun id (u32)                        |  4
 *  +---------------------------------------------------------------+
 *  |                  ownership epoch of the LUN (u64)             |  8
 *  +---------------------------------------------------------------+
 *  |                           slot (u64)                          | 16
 *  +---------------------------------------------------------------+
 *  |                         offset (u64)                          | 24
 *  +---------------------------------------------------------------+
 *  |                         length (u64)                          | 32
 *  +---------------+-----------------------------------------------+
 *  | kind u8: 0 data, 1 zeroes |  data (length bytes, kind 0 only) ... 40
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class CacheJournal implements AutoCloseable {
    static final int HEADER = 41;
    static final int LENGTH_OFFSET = 0;
    static final int LUN_OFFSET = 4;
    static final int EPOCH_OFFSET = 8;
    static final int SLOT_OFFSET = 16;
    static final int OFFSET_OFFSET = 24;
    static final int IO_LENGTH_OFFSET = 32;
    static final int KIND_OFFSET = 40;

    /** One replayable record. */
    public record Record(int lun, long epoch, Extent extent) {
    }

    private final Path dir;
    private long segmentNumber;
    private FileChannel segment;
    private final ByteBuffer header = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);

    public CacheJournal(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
        long max = 0;
        for (Path p : segments()) {
            max = Math.max(max, number(p));
        }
        segmentNumber = max + 1;
        segment = open(segmentNumber);
    }

    private FileChannel open(long n) throws IOException {
        return FileChannel.open(dir.resolve(String.format("%016d.log", n)), StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE);
    }

    private static long number(Path p) {
        String f = p.getFileName().toString();
        return Long.parseLong(f.substring(0, f.length() - 4));
    }

    private List<Path> segments() throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.log")) {
            for (Path p : ds) {
                out.add(p);
            }
        }
        out.sort((a, b) -> Long.compare(number(a), number(b)));
        return out;
    }

    public synchronized void append(int lun, long epoch, Extent e) throws IOException {
        header.clear();
        int dataLength = e.isZeroes() ? 0 : (int) e.length();
        header.putInt(HEADER + dataLength).putInt(lun).putLong(epoch).putLong(e.slot()).putLong(e.offset())
            .putLong(e.length()).put((byte) (e.isZeroes() ? 1 : 0)).flip();
        ByteBuffer[] bufs = e.isZeroes() ? new ByteBuffer[] {header}
            : new ByteBuffer[] {header, ByteBuffer.wrap(e.data(), e.dataOffset(), dataLength)};
        long remaining = HEADER + (long) dataLength;
        while (remaining > 0) {
            remaining -= segment.write(bufs);
        }
    }

    /** Starts a new segment; returns the segments written so far, to delete once they are destaged. */
    public synchronized List<Path> roll() throws IOException {
        List<Path> old = segments();
        segment.close();
        segmentNumber++;
        segment = open(segmentNumber);
        old.removeIf(p -> number(p) >= segmentNumber);
        return old;
    }

    public static void delete(List<Path> segments) throws IOException {
        for (Path p : segments) {
            Files.deleteIfExists(p);
        }
    }

    /** Every complete record of the segments in {@code dir}, oldest first; a torn tail is ignored. */
    public static List<Record> readAll(Path dir) throws IOException {
        List<Record> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        List<Path> segs = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.log")) {
            for (Path p : ds) {
                segs.add(p);
            }
        }
        segs.sort((a, b) -> Long.compare(number(a), number(b)));
        for (Path p : segs) {
            ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
            while (all.remaining() >= HEADER) {
                int base = all.position();
                int len = all.getInt(base + LENGTH_OFFSET);
                if (len < HEADER || len > all.remaining()) {
                    break;
                }
                int lun = all.getInt(base + LUN_OFFSET);
                long epoch = all.getLong(base + EPOCH_OFFSET);
                long slot = all.getLong(base + SLOT_OFFSET);
                long off = all.getLong(base + OFFSET_OFFSET);
                long length = all.getLong(base + IO_LENGTH_OFFSET);
                boolean zero = all.get(base + KIND_OFFSET) == 1;
                Extent e;
                if (zero) {
                    e = Extent.zeroes(off, length, slot);
                } else {
                    if (len != HEADER + length) {
                        break;
                    }
                    byte[] data = new byte[(int) length];
                    all.position(base + HEADER);
                    all.get(data);
                    e = Extent.data(off, data, 0, (int) length, slot);
                }
                out.add(new Record(lun, epoch, e));
                all.position(base + len);
            }
        }
        return out;
    }

    /** Deletes every segment (after a replay or a clean destage of everything). */
    public synchronized void reset() throws IOException {
        segment.close();
        for (Path p : segments()) {
            Files.deleteIfExists(p);
        }
        segmentNumber++;
        segment = open(segmentNumber);
    }

    @Override
    public synchronized void close() throws IOException {
        segment.close();
    }
}
