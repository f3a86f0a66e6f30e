package io.jmpio.emu.cache;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Fuzz regression of journal replay (the NVRAM segments a restart reads back): real segments, written by the
 * journal itself, then damaged (bytes changed, cut short, garbage added). Replay never throws; every record it
 * returns is one that was written, byte for byte (a damaged one is dropped, never replayed as something else);
 * and every record the damage did not touch comes back.
 */
class JournalFuzzTest {
    @Provide
    Arbitrary<List<byte[]>> writes() {
        return Arbitraries.integers().between(1, 16).flatMap(blocks -> Arbitraries.bytes().array(byte[].class)
            .ofSize(blocks * 512)).list().ofMinSize(1).ofMaxSize(12);
    }

    @Property(tries = 150)
    void damagedSegmentsReplayOnlyIntactRecordsAndEveryUntouchedOne(@ForAll("writes") List<byte[]> writes,
            @ForAll("positions") List<Integer> flips, @ForAll @IntRange(max = 2) int damage,
            @ForAll("garbage") byte[] garbage) throws Exception {
        Path dir = Files.createTempDirectory("jmpio-journal-fuzz");
        try {
            List<CacheJournal.Record> written = new ArrayList<>();
            List<int[]> spans = new ArrayList<>();
            try (CacheJournal j = new CacheJournal(dir)) {
                long slot = 1;
                long at = 0;
                for (byte[] w : writes) {
                    Extent e = slot % 5 == 0 ? Extent.zeroes(at, w.length, slot) : Extent.data(at, w, 0, w.length, slot);
                    j.append((int) (slot % 3), slot * 7, e);
                    written.add(new CacheJournal.Record((int) (slot % 3), slot * 7, e));
                    at += w.length;
                    slot++;
                }
            }
            Path seg;
            try (var s = Files.newDirectoryStream(dir, "*.log")) {
                seg = s.iterator().next();
            }
            byte[] b = Files.readAllBytes(seg);
            int pos = 0;
            for (CacheJournal.Record r : written) {
                int len = CacheJournal.HEADER + (r.extent().isZeroes() ? 0 : (int) r.extent().length());
                spans.add(new int[] {pos, pos + len});
                pos += len;
            }
            boolean[] touched = new boolean[b.length];
            if (damage == 0) {
                for (int f : flips) {
                    int i = Math.floorMod(f, b.length);
                    b[i] ^= (byte) (1 + (f & 0x7f));
                    touched[i] = true;
                }
            } else if (damage == 1) {
                int cut = Math.floorMod(flips.isEmpty() ? 0 : flips.get(0), b.length);
                Arrays.fill(touched, cut, b.length, true);
                b = Arrays.copyOf(b, cut);
            } else {
                int at = Math.floorMod(flips.isEmpty() ? 0 : flips.get(0), b.length + 1);
                byte[] out = new byte[b.length + garbage.length];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(garbage, 0, out, at, garbage.length);
                System.arraycopy(b, at, out, at + garbage.length, b.length - at);
                for (int[] span : spans) {
                    if (span[0] < at && at < span[1]) {
                        Arrays.fill(touched, span[0], span[1], true);
                    }
                }
                touched = Arrays.copyOf(touched, Math.max(touched.length, out.length));
                b = out;
            }
            List<CacheJournal.Record> replayed = CacheJournal.readSegment(seg,
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN));
            for (CacheJournal.Record r : replayed) {
                assertTrue(written.stream().anyMatch(w -> same(w, r)), "replayed a record never written: " + r);
            }
            for (int i = 0; i < written.size(); i++) {
                int[] span = spans.get(i);
                boolean intact = damage == 1 ? span[1] <= touched.length && !touched[span[0]] && span[1] <= b.length
                    : true;
                for (int k = span[0]; k < span[1] && intact; k++) {
                    intact = k < touched.length && !touched[k];
                }
                CacheJournal.Record w = written.get(i);
                if (intact) {
                    assertTrue(replayed.stream().anyMatch(r -> same(w, r)), "an untouched record was lost: slot "
                        + w.extent().slot() + " of " + written.size() + " (damage " + damage + ")");
                }
            }
        } finally {
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Provide
    Arbitrary<List<Integer>> positions() {
        return Arbitraries.integers().list().ofMaxSize(8);
    }

    @Provide
    Arbitrary<byte[]> garbage() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(300);
    }

    private static boolean same(CacheJournal.Record a, CacheJournal.Record b) {
        Extent x = a.extent();
        Extent y = b.extent();
        return a.lun() == b.lun() && a.epoch() == b.epoch() && x.slot() == y.slot() && x.offset() == y.offset()
            && x.length() == y.length() && x.isZeroes() == y.isZeroes()
            && (x.isZeroes() || Arrays.equals(Arrays.copyOfRange(x.data(), x.dataOffset(), x.dataOffset() + (int) x.length()),
                Arrays.copyOfRange(y.data(), y.dataOffset(), y.dataOffset() + (int) y.length())));
    }
}
