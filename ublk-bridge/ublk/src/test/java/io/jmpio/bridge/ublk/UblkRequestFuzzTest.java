package io.jmpio.bridge.ublk;

import static io.jmpio.bridge.ublk.UblkLayout.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.nativeio.Native;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Every {@code ublksrv_io_desc} the kernel could hand over — any op and flags, any start and sector count —
 * decodes to a request inside the device that fits the tag's buffer, or to a refusal with an errno and a reason;
 * nothing throws and nothing is sized from an unchecked field.
 */
class UblkRequestFuzzTest {
    private static final Set<Integer> SERVED = Set.of(IO_OP_READ, IO_OP_WRITE, IO_OP_FLUSH, IO_OP_DISCARD,
        IO_OP_WRITE_ZEROES);

    @Property
    void everyDescriptorIsARequestInsideTheDeviceOrARefusal(@ForAll int opFlags, @ForAll("sectors") long start,
                                                            @ForAll int nrSectors, @ForAll("sizes") long deviceBytes,
                                                            @ForAll("buffers") int maxIoBytes) {
        check(UblkRequest.decode(opFlags, start, nrSectors, deviceBytes, maxIoBytes), deviceBytes, maxIoBytes);
    }

    @Property
    void plausibleDescriptorsToo(@ForAll("ops") int op, @ForAll boolean fua, @ForAll("smallSectors") long start,
                                 @ForAll("smallCounts") int nrSectors) {
        long deviceBytes = 64L << 20;
        int maxIoBytes = 512 << 10;
        UblkRequest r = UblkRequest.decode(op | (fua ? IO_F_FUA : 0), start, nrSectors, deviceBytes, maxIoBytes);
        check(r, deviceBytes, maxIoBytes);
        if (r.errno() == 0 && op == IO_OP_WRITE) {
            assertEquals(fua, r.fua(), "a write keeps its FUA flag");
        }
    }

    @Example
    void theEdgesAreRefusedWithTheirErrno() {
        long dev = 1L << 30;
        assertEquals(Native.ENOTSUP, UblkRequest.decode(IO_OP_WRITE_SAME, 0, 8, dev, 1 << 20).errno());
        assertEquals(Native.EINVAL, UblkRequest.decode(IO_OP_READ, (dev >>> 9) - 7, 8, dev, 1 << 20).errno(),
            "one sector past the end");
        assertEquals(0, UblkRequest.decode(IO_OP_READ, (dev >>> 9) - 8, 8, dev, 1 << 20).errno(), "the last 4 KiB");
        assertEquals(Native.EINVAL, UblkRequest.decode(IO_OP_READ, Long.MAX_VALUE >>> 9, 8, dev, 1 << 20).errno(),
            "a start whose byte offset overflows");
        assertEquals(Native.EINVAL, UblkRequest.decode(IO_OP_WRITE, 0, -1, dev, 1 << 20).errno(),
            "2^32-1 sectors");
        assertEquals(Native.EINVAL, UblkRequest.decode(IO_OP_READ, 0, 4096, dev, 1 << 20).errno(),
            "2 MiB for a 1 MiB buffer");
        assertEquals(0, UblkRequest.decode(IO_OP_DISCARD, 0, 4096, dev, 1 << 20).errno(),
            "a discard moves no data: the buffer does not bound it");
        assertEquals(Native.EINVAL, UblkRequest.decode(IO_OP_WRITE_ZEROES, 0, 0, dev, 1 << 20).errno(), "no sectors");
    }

    private static void check(UblkRequest r, long deviceBytes, int maxIoBytes) {
        if (r.errno() != 0) {
            assertTrue(Set.of(Native.EINVAL, Native.ENOTSUP, Native.EIO).contains(r.errno()), "errno " + r.errno());
            assertNotNull(r.why(), "a refusal says why");
            return;
        }
        assertNull(r.why());
        assertTrue(SERVED.contains(r.op()), "op " + r.op());
        if (r.op() == IO_OP_FLUSH) {
            return;
        }
        assertTrue(r.offset() >= 0 && r.offset() % 512 == 0, "offset " + r.offset());
        assertTrue(r.length() > 0 && r.length() % 512 == 0, "length " + r.length());
        assertTrue(r.length() <= deviceBytes - r.offset(), r.offset() + "+" + r.length() + " inside " + deviceBytes);
        if (r.op() == IO_OP_READ || r.op() == IO_OP_WRITE) {
            assertTrue(r.length() <= maxIoBytes, r.length() + " fits " + maxIoBytes);
        }
    }

    @Provide
    Arbitrary<Long> sectors() {
        return Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.longs().between(0, 1L << 24),
            Arbitraries.of(0L, -1L, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE >>> 9, (Long.MAX_VALUE >>> 9) + 1));
    }

    @Provide
    Arbitrary<Long> sizes() {
        return Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.longs().between(1, 1L << 40),
            Arbitraries.of(0L, 512L, 4096L, 1L << 30, Long.MAX_VALUE, Long.MIN_VALUE));
    }

    @Provide
    Arbitrary<Integer> buffers() {
        return Arbitraries.oneOf(Arbitraries.integers().between(512, 1 << 25), Arbitraries.of(4096, 1 << 20));
    }

    @Provide
    Arbitrary<Integer> ops() {
        return Arbitraries.integers().between(0, 8);
    }

    @Provide
    Arbitrary<Long> smallSectors() {
        return Arbitraries.longs().between(0, (64L << 20 >>> 9) + 16);
    }

    @Provide
    Arbitrary<Integer> smallCounts() {
        return Arbitraries.integers().between(0, 2048);
    }
}
