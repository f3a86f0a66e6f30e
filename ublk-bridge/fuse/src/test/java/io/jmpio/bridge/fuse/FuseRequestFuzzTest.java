package io.jmpio.bridge.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.core.Fixture;
import io.jmpio.core.MultipathDevice;
import io.jmpio.core.NoPathRetry;
import io.jmpio.emu.array.ArrayServer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;

/**
 * Fuzz regression of the FUSE bridge's request handling (what the kernel hands over, from any process that can
 * reach the file): every opcode, with the node ids, offsets, sizes, flags and names a request may carry, at
 * random, handed to a mounted session the way its io_uring entries hand them over. Each request is answered
 * exactly once (FORGET and INTERRUPT never), with success or a negative errno the kernel accepts, and nothing
 * escapes.
 */
@AddLifecycleHook(FuseRequestFuzzTest.NeedsRoot.class)
class FuseRequestFuzzTest {
    private static Path dir;
    private static ArrayServer array;
    private static MultipathDevice device;
    private static FuseSession session;

    /** Without root there is no mount to fuzz: the property is reported skipped, saying why, not passed. */
    static final class NeedsRoot implements SkipExecutionHook {
        @Override
        public SkipResult shouldBeSkipped(LifecycleContext context) {
            return FuseBridgeProvider.isRoot() ? SkipResult.doNotSkip()
                : SkipResult.skip("FUSE mount and loop devices need root; run the tests as root");
        }
    }

    @BeforeContainer
    static void start() throws Exception {
        dir = Files.createTempDirectory("jmpio-fuse-fuzz");
        array = Fixture.linkedArray(dir.resolve("array"), "lun0:16M:A", "memory");
        device = Fixture.deviceOnFourPaths(array, "fuse-fuzz", NoPathRetry.FAIL);
        session = FuseSession.start(device, dir.resolve("mnt"), 2, false, 1000, "off", 8);
    }

    @AfterContainer
    static void stop() throws Exception {
        Fixture.closeAll(session, device, array);
        if (dir != null) {
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** What a responder was told. */
    private static final class Answers implements FuseResponder {
        final List<int[]> got = new ArrayList<>();

        @Override
        public synchronized void reply(long unique, ByteBuf out) {
            got.add(new int[] {0, out.writerIndex()});
            out.release();
            notifyAll();
        }

        @Override
        public synchronized void replyError(long unique, int errno) {
            got.add(new int[] {-errno, 0});
            notifyAll();
        }

        @Override
        public synchronized void replyData(long unique, ByteBuf data, int index, int length) {
            assertTrue(index >= 0 && length >= 0 && index + length <= data.capacity(), "data reply inside its buffer");
            got.add(new int[] {0, length});
            notifyAll();
        }

        @Override
        public ByteBuf writeData(ByteBuf payload, int size) {
            return payload.retainedSlice(payload.readerIndex(), size);
        }

        synchronized List<int[]> await(int n, long millis) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            while (got.size() < n && System.nanoTime() < end) {
                wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
            }
            return new ArrayList<>(got);
        }
    }

    @Provide
    Arbitrary<byte[]> args() {
        Arbitrary<Integer> opcode = Arbitraries.oneOf(Arbitraries.of(1, 2, 3, 4, 14, 15, 16, 17, 18, 20, 25, 27, 28, 29, 30,
            34, 36, 38, 42, 43), Arbitraries.integers().between(0, 60));
        Arbitrary<Long> node = Arbitraries.oneOf(Arbitraries.of(1L, 2L), Arbitraries.longs());
        Arbitrary<Long> offset = Arbitraries.oneOf(Arbitraries.longs().between(0, 16L << 20).map(o -> o & ~511L),
            Arbitraries.of(-1L, 16L << 20, Long.MAX_VALUE, 1L, (16L << 20) - 512));
        Arbitrary<Integer> size = Arbitraries.oneOf(Arbitraries.integers().between(0, 64).map(k -> k * 512),
            Arbitraries.of(-1, 1, 7, Integer.MAX_VALUE, 1 << 20));
        Arbitrary<Integer> flags = Arbitraries.integers();
        return Combinators.combine(opcode, node, offset, size, flags).as((op, n, off, sz, fl) -> {
            ByteBuf b = Unpooled.buffer(168).writeZero(168);
            b.setIntLE(0, 168).setIntLE(4, op).setLongLE(8, 77).setLongLE(16, n);
            // fuse_read_in / write_in / fallocate_in / setattr_in all at offset 40: fill their fields
            b.setLongLE(40 + 8, off).setIntLE(40 + 16, sz).setIntLE(40 + 20, fl).setIntLE(40 + 24, fl)
                .setIntLE(40 + 32, fl);
            if (op == 43) {
                b.setLongLE(40 + 16, sz).setIntLE(40 + 24, fl & 0x1f);
            }
            if (op == 4) {
                b.setIntLE(40, fl).setLongLE(40 + 16, off);
            }
            byte[] out = new byte[168];
            b.getBytes(0, out);
            return out;
        });
    }

    @Provide
    Arbitrary<byte[]> payloads() {
        return Arbitraries.oneOf(Arbitraries.of("lun0\0", "lun1\0", "", "..\0", "lun0").map(String::getBytes),
            Arbitraries.bytes().array(byte[].class).ofMaxSize(8192));
    }

    @Property
    void everyRequestIsAnsweredOnceAndWithAnErrnoTheKernelTakes(@ForAll("args") byte[] args,
                                                                  @ForAll("payloads") byte[] payload) throws Exception {
        int opcode = java.nio.ByteBuffer.wrap(args).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(4);
        Answers a = new Answers();
        session.requests().dispatchRing(a, Unpooled.wrappedBuffer(args), Unpooled.wrappedBuffer(payload));
        boolean silent = opcode == 2 || opcode == 36 || opcode == 42; // FORGET, INTERRUPT, BATCH_FORGET
        List<int[]> got = a.await(silent ? 0 : 1, 10_000);
        Thread.sleep(silent ? 20 : 0);
        got = a.await(silent ? 0 : 1, 0);
        assertEquals(silent ? 0 : 1, got.size(), "answers to opcode " + opcode);
        for (int[] g : got) {
            assertTrue(g[0] <= 0 && g[0] > -512, "errno " + g[0] + " for opcode " + opcode);
        }
    }
}
