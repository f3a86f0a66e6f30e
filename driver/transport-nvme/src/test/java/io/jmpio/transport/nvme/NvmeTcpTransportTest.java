package io.jmpio.transport.nvme;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.api.IoOp;
import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.transport.AccessState;
import io.jmpio.transport.Discovery;
import io.jmpio.transport.IoCommand;
import io.jmpio.transport.Outcome;
import io.jmpio.transport.PathSession;
import io.jmpio.transport.PathTransport;
import io.jmpio.transport.PathTransports;
import io.jmpio.transport.PortInfo;
import io.jmpio.transport.QueueChannel;
import io.jmpio.transport.QueueListener;
import io.jmpio.transport.TransportContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The NVMe/TCP transport against the emulated array's NVMe/TCP target (a peer written separately). */
class NvmeTcpTransportTest {
    private static final EventLoopGroup LOOPS = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    @TempDir
    Path dir;

    @AfterAll
    static void stop() {
        LOOPS.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private ArrayConfig config() {
        return new ArrayConfig().dataDir(dir).basePort(0).heartbeatIntervalMillis(50).heartbeatTimeoutMillis(300)
            .failbackDelayMillis(300).autoTransferThreshold(0).eventLoopThreads(2)
            .lun(LunSpec.parse("lun0:64M:A", "A", "file"));
    }

    private static TransportContext ctx(String target) {
        return ctx(target, Map.of());
    }

    private static TransportContext ctx(String target, Map<String, String> options) {
        byte[] id = new byte[16];
        id[15] = 7;
        return new TransportContext(HOST, id, target, 2, LOOPS, NioSocketChannel.class, 3000, 5000, 5000, options);
    }

    private static List<String> nvmePorts(ArrayServer a, String controller) {
        return a.controller(controller).portAddresses();
    }

    private static void await(String what, long millis, java.util.function.BooleanSupplier ok) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (!ok.getAsBoolean()) {
            if (System.currentTimeMillis() > end) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** A block command and its outcome, for tests. */
    static final class Cmd implements IoCommand {
        final IoOp op;
        final long offset;
        final int length;
        final ByteBuf data;
        final boolean fua;
        final CompletableFuture<Object[]> done = new CompletableFuture<>();

        Cmd(IoOp op, long offset, int length, byte[] data, boolean fua) {
            this.op = op;
            this.offset = offset;
            this.length = length;
            this.data = data == null ? null : Unpooled.wrappedBuffer(data);
            this.fua = fua;
        }

        @Override public IoOp op() { return op; }
        @Override public long offset() { return offset; }
        @Override public int length() { return length; }
        @Override public ByteBuf data() { return data; }
        @Override public boolean fua() { return fua; }
    }

    /** A queue channel opened on a path, with blocking helpers. */
    static final class Queue implements QueueListener {
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        final CompletableFuture<String> closed = new CompletableFuture<>();
        final List<IoCommand> handedBack = new ArrayList<>();
        QueueChannel channel;
        EventLoop loop;

        static Queue open(PathSession s, int index) throws Exception {
            Queue q = new Queue();
            q.loop = LOOPS.next();
            CompletableFuture<QueueChannel> c = new CompletableFuture<>();
            q.loop.execute(() -> c.complete(s.openQueue(q.loop, NioSocketChannel.class, index, q)));
            q.channel = c.get(5, TimeUnit.SECONDS);
            q.ready.get(5, TimeUnit.SECONDS);
            return q;
        }

        Object[] run(Cmd c) throws Exception {
            loop.execute(() -> channel.send(c));
            return c.done.get(10, TimeUnit.SECONDS);
        }

        byte[] read(long offset, int length) throws Exception {
            Object[] r = run(new Cmd(IoOp.READ, offset, length, null, false));
            assertEquals(Outcome.DONE, r[0], "read at " + offset);
            ByteBuf b = (ByteBuf) r[1];
            try {
                return ByteBufUtil.getBytes(b);
            } finally {
                b.release();
            }
        }

        Outcome write(long offset, byte[] data, boolean fua) throws Exception {
            return (Outcome) run(new Cmd(IoOp.WRITE, offset, data.length, data, fua))[0];
        }

        @Override
        public void ready(QueueChannel ch) {
            ready.complete(null);
        }

        @Override
        public void completed(QueueChannel ch, IoCommand command, Outcome outcome, ByteBuf data) {
            ((Cmd) command).done.complete(new Object[] {outcome, data});
        }

        @Override
        public void closed(QueueChannel ch, String reason, boolean pathFault, List<IoCommand> unanswered) {
            handedBack.addAll(unanswered);
            ready.completeExceptionally(new IOException(reason));
            closed.complete(reason);
        }
    }

    @Test
    void discoversEveryPortFromOnePortalAndMovesDataThroughBothControllers() throws Exception {
        try (ArrayServer a = ArrayServer.start(config())) {
            assertTrue(a.awaitLinked(5000), "the controllers linked up");
            PathTransport t = PathTransports.from(null).create("nvme-tcp");
            Discovery d = t.discover(ctx(null), nvmePorts(a, "A").get(0));
            assertEquals(4, d.ports().size(), d.toString());
            List<String> all = new ArrayList<>(nvmePorts(a, "A"));
            all.addAll(nvmePorts(a, "B"));
            List<String> found = new ArrayList<>();
            for (PortInfo p : d.ports()) {
                found.add(p.address());
                boolean onA = nvmePorts(a, "A").contains(p.address());
                assertEquals(onA ? AccessState.OPTIMIZED : AccessState.NON_OPTIMIZED, p.state(), p.toString());
                assertEquals(onA ? 1 : 2, p.group());
            }
            assertEquals(all, found);
            assertEquals(64L << 20, d.target().sizeBytes());
            assertEquals(512, d.target().logicalBlockSize());
            assertEquals(a.metadata().load().byName("lun0").wwid(), d.target().id(), "the NGUID is the LUN's WWID");
            assertTrue(d.target().discard() && d.target().writeZeroes() && d.target().fua());
            assertEquals(10_000L, d.target().transitionMillis(), "the ANATT the target advertises (10 s)");

            AtomicInteger notices = new AtomicInteger();
            List<PathSession> sessions = new ArrayList<>();
            try {
                for (PortInfo p : d.ports()) {
                    sessions.add(t.openPath(ctx(null), p, notices::incrementAndGet));
                }
                assertEquals(AccessState.OPTIMIZED, sessions.get(0).probe().state());
                assertEquals(AccessState.NON_OPTIMIZED, sessions.get(2).probe().state());
                assertFalse(sessions.get(2).report().everyPort());

                Random rnd = new Random(5);
                Queue viaA = Queue.open(sessions.get(0), 0);
                Queue viaB = Queue.open(sessions.get(3), 1);
                byte[] big = new byte[256 << 10]; // beyond the in-capsule size: R2T and H2CData
                rnd.nextBytes(big);
                byte[] small = new byte[4096];      // in the capsule
                rnd.nextBytes(small);
                assertEquals(Outcome.DONE, viaB.write(1 << 20, big, false), "shipped write through B");
                assertEquals(Outcome.DONE, viaA.write(0, small, true));
                assertArrayEquals(big, viaA.read(1 << 20, big.length));
                assertArrayEquals(big, viaB.read(1 << 20, big.length));
                assertArrayEquals(small, viaB.read(0, 4096));
                assertEquals(Outcome.DONE, viaA.run(new Cmd(IoOp.FLUSH, 0, 0, null, false))[0]);
                assertEquals(Outcome.DONE, viaB.run(new Cmd(IoOp.WRITE_ZEROES, 1 << 20, 64 << 10, null, false))[0]);
                assertArrayEquals(new byte[64 << 10], viaA.read(1 << 20, 64 << 10));
                assertEquals(Outcome.DONE, viaA.run(new Cmd(IoOp.DISCARD, 0, 4096, null, false))[0]);
                Object[] outside = viaA.run(new Cmd(IoOp.READ, 64L << 20, 4096, null, false));
                assertEquals(Outcome.Disposition.FAILED, ((Outcome) outside[0]).disposition(), "a read past the end");
                assertEquals(io.jmpio.api.IoErrorKind.OUT_OF_RANGE, ((Outcome) outside[0]).error());

                // A dies: its paths close, B's turn optimized and the host hears of it
                a.controller("A").kill();
                viaA.closed.get(5, TimeUnit.SECONDS);
                await("ANA notice", 5000, () -> notices.get() > 0);
                await("B optimized", 5000, () -> {
                    try {
                        return sessions.get(3).probe().state() == AccessState.OPTIMIZED;
                    } catch (IOException e) {
                        return false;
                    }
                });
                byte[] expected = big.clone();
                java.util.Arrays.fill(expected, 0, 64 << 10, (byte) 0);
                assertArrayEquals(expected, viaB.read(1 << 20, big.length), "the survivor serves the data");
                assertThrows(IOException.class, () -> sessions.get(0).probe(), "a dead path's probe fails");
            } finally {
                for (PathSession s : sessions) {
                    s.close();
                }
            }
        }
    }

    @Test
    void headerAndDataDigestsCarryEveryPduWhenAskedFor() throws Exception {
        try (ArrayServer a = ArrayServer.start(config())) {
            assertTrue(a.awaitLinked(5000), "the controllers linked up");
            PathTransport t = PathTransports.from(null).create("nvme-tcp");
            // with SQ flow control given up (reads end in C2HData with SUCCESS) and kept (a CapsuleResp after the data)
            for (String sqflow : List.of("auto", "keep")) {
                TransportContext digests = ctx(null, Map.of("digest", "both", "sqflow", sqflow));
                Discovery d = t.discover(digests, nvmePorts(a, "A").get(0));
                assertEquals(4, d.ports().size());
                try (PathSession s = t.openPath(digests, d.ports().get(2), () -> { })) {
                    Queue viaB = Queue.open(s, 0);
                    byte[] big = new byte[192 << 10]; // R2T and H2CData, each PDU with both digests
                    new Random(9).nextBytes(big);
                    assertEquals(Outcome.DONE, viaB.write(8192, big, false));
                    assertArrayEquals(big, viaB.read(8192, big.length));
                    assertArrayEquals(java.util.Arrays.copyOfRange(big, 4096, 8192), viaB.read(12288, 4096), sqflow);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> t.discover(ctx(null, Map.of("digest", "crc64")),
                nvmePorts(a, "A").get(0)));
            assertThrows(IllegalArgumentException.class, () -> t.discover(ctx(null, Map.of("sqflow", "off")),
                nvmePorts(a, "A").get(0)));
        }
    }

    @Test
    void aTargetThatIsNotThereIsNamedInTheError() throws Exception {
        try (ArrayServer a = ArrayServer.start(config())) {
            PathTransport t = PathTransports.from(null).create("nvme-tcp");
            IOException e = assertThrows(IOException.class, () -> t.discover(ctx("nqn.2000-01.com.example:none"),
                nvmePorts(a, "A").get(0)));
            assertTrue(e.getMessage().contains("not in the discovery log"), e.getMessage());
            IOException ns = assertThrows(IOException.class, () -> t.discover(ctx("#77"), nvmePorts(a, "A").get(0)));
            assertTrue(ns.getMessage().contains("77"), ns.getMessage());
            IOException nobody = assertThrows(IOException.class, () -> t.discover(ctx(null), "127.0.0.1:1"));
            assertTrue(nobody.getMessage().contains("127.0.0.1:1"), nobody.getMessage());
        }
    }
}
