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
import java.util.zip.CRC32C;

/**
 * The controller's NVRAM: every cached write of a file-backed LUN is appended here before it is
 * acknowledged, so a crash of the whole process (both controllers) loses nothing the array acknowledged.
 * Appends reach the kernel's page cache, which outlives the process as battery-backed cache outlives a
 * controller reset. Destage rolls to a new segment, destages everything the old segments hold, and deletes them.
 *
 * <pre>
 *  record (little-endian):
 *  +---------------------------------------------------------------+
 *  |                      magic 'JMPJ' (u32)                       |  0
 *  +---------------------------------------------------------------+
 *  |                 record length incl. header (u32)              |  4
 *  +---------------------------------------------------------------+
 *  |   CRC32C of the length field and of bytes 12..length (u32)    |  8
 *  +---------------------------------------------------------------+
 *  |                           lun id (u32)                        | 12
 *  +---------------------------------------------------------------+
 *  |                  ownership epoch of the LUN (u64)             | 16
 *  +---------------------------------------------------------------+
 *  |                           slot (u64)                          | 24
 *  +---------------------------------------------------------------+
 *  |                         offset (u64)                          | 32
 *  +---------------------------------------------------------------+
 *  |                         length (u64)                          | 40
 *  +---------------+-----------------------------------------------+
 *  | kind u8: 0 data, 1 zeroes |  data (length bytes, kind 0 only) ... 48
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * Replay checks each record's magic, length and checksum. A record that fails is reported and skipped: the
 * reader looks for the next magic whose record checks out, so one damaged record costs only itself. A record
 * cut short at the end of a segment is a write the process died in or the disk had no room for (never
 * acknowledged) and is dropped.
 */
public final class CacheJournal implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CacheJournal.class);
    /** "JMPJ" read as a little-endian u32. */
    static final int MAGIC = 0x4A504D4A;
    static final int HEADER = 49;
    static final int MAGIC_OFFSET = 0;
    static final int LENGTH_OFFSET = 4;
    static final int CRC_OFFSET = 8;
    static final int LUN_OFFSET = 12;
    static final int EPOCH_OFFSET = 16;
    static final int SLOT_OFFSET = 24;
    static final int OFFSET_OFFSET = 32;
    static final int IO_LENGTH_OFFSET = 40;
    static final int KIND_OFFSET = 48;
    /** Largest data a record carries (the largest cached write). */
    static final int MAX_DATA = 64 << 20;

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
        header.putInt(MAGIC).putInt(HEADER + dataLength).putInt(0).putInt(lun).putLong(epoch).putLong(e.slot())
            .putLong(e.offset()).putLong(e.length()).put((byte) (e.isZeroes() ? 1 : 0)).flip();
        CRC32C crc = new CRC32C();
        crc.update(header.array(), LENGTH_OFFSET, 4);
        crc.update(header.array(), LUN_OFFSET, HEADER - LUN_OFFSET);
        if (!e.isZeroes()) {
            crc.update(e.data(), e.dataOffset(), dataLength);
        }
        header.putInt(CRC_OFFSET, (int) crc.getValue());
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
        // an empty segment stays the current one: rolling it would leave one more empty file per destage cycle
        // while destage cannot finish (a full disk); the next segment is open before the current one is closed,
        // so a failed open leaves the journal as it was, still appendable
        if (segment.size() > 0) {
            FileChannel next = open(segmentNumber + 1);
            segment.close();
            segment = next;
            segmentNumber++;
        }
        old.removeIf(p -> number(p) >= segmentNumber);
        return old;
    }

    public static void delete(List<Path> segments) throws IOException {
        for (Path p : segments) {
            Files.deleteIfExists(p);
        }
    }

    /** Every intact record of the segments in {@code dir}, oldest first; damaged ones are reported at WARN. */
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
            readSegmentFile(p, out);
        }
        return out;
    }

    /**
     * Bytes of a segment examined per window. A segment is mapped, not read into the heap, a window at a time:
     * one of any size (a large write cache that went long without a destage, or a damaged or planted file)
     * costs address space only, and one past 2 GiB still replays.
     */
    static final long WINDOW = 1L << 30;

    /**
     * Reads the intact records of the segment {@code p} into {@code out}. Each window but the last is mapped
     * with one largest record more, so every record that starts in the window ends in the mapping; the next
     * window starts where this one's parse stopped.
     */
    static void readSegmentFile(Path p, List<Record> out) throws IOException {
        readSegmentFile(p, out, WINDOW);
    }

    /** As {@link #readSegmentFile(Path, List)} with windows of {@code window} bytes (tests use small ones). */
    static void readSegmentFile(Path p, List<Record> out, long window) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            long size = ch.size();
            long start = 0;
            while (start < size) {
                long span = Math.min(size - start, window + HEADER + MAX_DATA);
                boolean last = start + span == size;
                ByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, start, span).order(ByteOrder.LITTLE_ENDIAN);
                start += readSegment(p, mapped, last ? (int) span : (int) window, start, out);
            }
        }
    }

    /** The intact records of a whole segment held in {@code all}. */
    static List<Record> readSegment(Path p, ByteBuffer all) {
        List<Record> out = new ArrayList<>();
        readSegment(p, all, all.limit(), 0, out);
        return out;
    }

    /**
     * Parses the records of {@code all} (the segment's bytes from file offset {@code base}) that start before
     * {@code stop} into {@code out}; the whole buffer is the segment's end when {@code stop} is its limit.
     * Returns where the next window starts (relative to {@code base}).
     */
    private static int readSegment(Path p, ByteBuffer all, int stop, long base, List<Record> out) {
        int pos = 0;
        int limit = all.limit();
        boolean end = stop == limit;
        while (pos < stop) {
            String problem = null;
            int len = 0;
            if (limit - pos < HEADER) {
                problem = "a record cut short (" + (limit - pos) + " bytes at the end)";
            } else if (all.getInt(pos + MAGIC_OFFSET) != MAGIC) {
                problem = String.format("no record magic (0x%08x)", all.getInt(pos + MAGIC_OFFSET));
            } else {
                len = all.getInt(pos + LENGTH_OFFSET);
                long ioLength = all.getLong(pos + IO_LENGTH_OFFSET);
                byte kind = all.get(pos + KIND_OFFSET);
                if (len < HEADER || len > HEADER + MAX_DATA) {
                    problem = "impossible record length " + Integer.toUnsignedString(len);
                } else if (len > limit - pos) {
                    problem = "a record of " + len + " bytes cut short at " + (limit - pos);
                } else if (kind != 0 && kind != 1 || kind == 0 && ioLength != len - HEADER
                    || kind == 1 && (len != HEADER || ioLength <= 0)) {
                    problem = "record kind " + kind + " does not match its lengths";
                } else if (crc(all, pos, len) != all.getInt(pos + CRC_OFFSET)) {
                    problem = "checksum mismatch (LUN " + all.getInt(pos + LUN_OFFSET) + ", offset "
                        + all.getLong(pos + OFFSET_OFFSET) + ", " + ioLength + " bytes as read)";
                }
            }
            if (problem == null) {
                out.add(decode(all, pos, len));
                pos += len;
                continue;
            }
            int next = nextMagic(all, pos + 1);
            if (next < 0 && end && problem.contains("cut short") && limit - pos < HEADER + MAX_DATA) {
                LOG.warn("journal {}: dropped {} bytes at {}: {} (a write the process died in or the disk had no room "
                    + "for, never acknowledged)", p, limit - pos, base + pos, problem);
                return limit;
            }
            if (next < 0 && !end) {
                // nothing intact in the rest of the mapping: the next window starts 3 bytes before its end, where
                // a magic cut by the boundary would begin
                LOG.warn("journal {}: dropped {} bytes at {}: {}; replay goes on with the next intact record", p,
                    limit - 3 - pos, base + pos, problem);
                return limit - 3;
            }
            LOG.warn("journal {}: dropped {} bytes at {}: {}; replay goes on with the next intact record", p,
                (next < 0 ? limit : next) - pos, base + pos, problem);
            if (next < 0) {
                return limit;
            }
            pos = next;
        }
        return pos;
    }

    private static int crc(ByteBuffer all, int pos, int len) {
        CRC32C crc = new CRC32C();
        crc.update(all.duplicate().position(pos + LENGTH_OFFSET).limit(pos + LENGTH_OFFSET + 4));
        crc.update(all.duplicate().position(pos + LUN_OFFSET).limit(pos + len));
        return (int) crc.getValue();
    }

    /** The first record magic at or after {@code from}, or -1. */
    private static int nextMagic(ByteBuffer all, int from) {
        int limit = all.limit();
        int i = from;
        while (i + 4 <= limit) {
            if (i + 8 <= limit) {
                // 8 positions at once: none starts a magic unless one of their bytes is its first (0x4A); the
                // test is the classic "has a zero byte" on the bytes XORed with it. A hole of gigabytes of
                // zeroes is passed in a second or two, not byte by byte
                long x = all.getLong(i) ^ 0x4A4A4A4A4A4A4A4AL;
                if (((x - 0x0101010101010101L) & ~x & 0x8080808080808080L) == 0) {
                    i += 8;
                    continue;
                }
            }
            for (int end = Math.min(i + 8, limit - 3); i < end; i++) {
                if (all.getInt(i) == MAGIC) {
                    return i;
                }
            }
        }
        return -1;
    }

    private static Record decode(ByteBuffer all, int base, int len) {
        int lun = all.getInt(base + LUN_OFFSET);
        long epoch = all.getLong(base + EPOCH_OFFSET);
        long slot = all.getLong(base + SLOT_OFFSET);
        long off = all.getLong(base + OFFSET_OFFSET);
        long length = all.getLong(base + IO_LENGTH_OFFSET);
        if (all.get(base + KIND_OFFSET) == 1) {
            return new Record(lun, epoch, Extent.zeroes(off, length, slot));
        }
        byte[] data = new byte[len - HEADER];
        all.get(base + HEADER, data);
        return new Record(lun, epoch, Extent.data(off, data, 0, data.length, slot));
    }

    /** Moves every segment into a new {@code kept-N} directory beside them (not replayed again); returns it. */
    public static Path quarantine(Path dir) throws IOException {
        Path kept = dir.resolve("kept-" + System.currentTimeMillis());
        Files.createDirectories(kept);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.log")) {
            for (Path p : ds) {
                Files.move(p, kept.resolve(p.getFileName()));
            }
        }
        return kept;
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
