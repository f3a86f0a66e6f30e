package io.jmpio.emu.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Journal segments are read through mapped windows, not into the heap: records anywhere in a segment of any
 * size come back — across window boundaries, after holes of zeroes (small windows here stand for the 1 GiB
 * ones a segment past 2 GiB is read in).
 */
class JournalWindowsTest {
    @TempDir
    Path dir;

    /** Five records as the journal writes them (different slots and data), as raw bytes. */
    private List<byte[]> records() throws Exception {
        Path j = dir.resolve("source");
        try (CacheJournal journal = new CacheJournal(j)) {
            for (int i = 1; i <= 5; i++) {
                byte[] data = new byte[512 * i];
                java.util.Arrays.fill(data, (byte) i);
                journal.append(i, 10 + i, Extent.data(4096L * i, data, 0, data.length, 100 + i));
            }
        }
        byte[] all;
        try (var s = Files.newDirectoryStream(j, "*.log")) {
            all = Files.readAllBytes(s.iterator().next());
        }
        List<byte[]> out = new ArrayList<>();
        int pos = 0;
        for (int i = 1; i <= 5; i++) {
            int len = CacheJournal.HEADER + 512 * i;
            out.add(java.util.Arrays.copyOfRange(all, pos, pos + len));
            pos += len;
        }
        return out;
    }

    private static void place(FileChannel ch, long at, byte[] record) throws Exception {
        ch.write(ByteBuffer.wrap(record), at);
    }

    private static void assertReplayed(List<CacheJournal.Record> replayed, int... which) {
        assertEquals(which.length, replayed.size(), "records replayed: " + replayed);
        for (int k = 0; k < which.length; k++) {
            int i = which[k];
            CacheJournal.Record r = replayed.get(k);
            assertEquals(100 + i, r.extent().slot(), "record " + k);
            assertEquals(i, r.lun());
            byte[] data = new byte[512 * i];
            java.util.Arrays.fill(data, (byte) i);
            Extent e = r.extent();
            assertArrayEquals(data, java.util.Arrays.copyOfRange(e.data(), e.dataOffset(), e.dataOffset()
                + (int) e.length()), "record " + k + "'s data");
        }
    }

    @Test
    void recordsAcrossWindowBoundariesAndAfterHolesAllComeBack() throws Exception {
        List<byte[]> rec = records();
        long window = 1 << 20;
        long firstLimit = window + CacheJournal.HEADER + CacheJournal.MAX_DATA;
        Path seg = dir.resolve("0000000000000001.log");
        try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            place(ch, 0, rec.get(0));
            place(ch, window - 20, rec.get(1));            // starts in the first window, ends past its stop
            place(ch, firstLimit - 2, rec.get(2));         // after a hole; its magic cut by the first mapping's end
            place(ch, 3 * firstLimit + 12345, rec.get(3)); // far on, after another hole
            place(ch, 3 * firstLimit + 12345 + rec.get(3).length + 7, rec.get(4)); // 7 bytes of zeroes between
        }
        List<CacheJournal.Record> out = new ArrayList<>();
        CacheJournal.readSegmentFile(seg, out, window);
        assertReplayed(out, 1, 2, 3, 4, 5);
    }
}
