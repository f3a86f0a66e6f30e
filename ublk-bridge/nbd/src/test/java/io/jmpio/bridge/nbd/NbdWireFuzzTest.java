package io.jmpio.bridge.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jmpio.api.KernelBridge;
import io.jmpio.core.Fixture;
import io.jmpio.core.MultipathDevice;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.core.NoPathRetry;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzz regression of the NBD export's wire (what any client may send): random handshakes (client flags, options
 * with random codes and lengths, truncated data) and, after a proper NBD_OPT_GO, random requests (types, flags,
 * offsets, lengths, with or without their payload). The server answers or closes the connection; it never stops
 * serving: after every try a well-behaved client still reads what an earlier one wrote.
 */
class NbdWireFuzzTest {
    private static Path dir;
    private static ArrayServer array;
    private static MultipathDevice device;
    private static KernelBridge bridge;
    private static final byte[] KNOWN = new byte[4096];

    @BeforeContainer
    static void start() throws Exception {
        dir = Files.createTempDirectory("jmpio-nbd-fuzz");
        array = Fixture.linkedArray(dir, "lun0:64M:A", "memory");
        device = Fixture.deviceOnFourPaths(array, "nbd-fuzz", NoPathRetry.FAIL);
        bridge = NbdServer.start(device, "127.0.0.1:0", "lun0", NbdAccess.of("", null, null), NbdServer.Limits.DEFAULT);
        new java.util.Random(3).nextBytes(KNOWN);
        try (NbdBridgeTest.RawClient c = NbdBridgeTest.RawClient.connect(bridge)) {
            c.go("lun0");
            // the last block: random requests write everywhere else
            c.request(0, NbdProtocol.CMD_WRITE, 1, (64L << 20) - 4096, 4096, KNOWN);
            assertEquals(0, c.simpleReplyError(1));
        }
    }

    @AfterContainer
    static void stop() throws IOException {
        Fixture.closeAll(bridge, device, array);
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Provide
    Arbitrary<byte[]> handshakes() {
        Arbitrary<byte[]> option = Combinators.combine(Arbitraries.integers().between(0, 12),
            Arbitraries.integers().between(-1, 300), Arbitraries.bytes().array(byte[].class).ofMaxSize(300),
            Arbitraries.of(true, false)).as((code, len, data, magic) -> {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16 + data.length);
                b.putLong(magic ? NbdProtocol.IHAVEOPT : 0x1234L).putInt(code).putInt(len).put(data);
                return b.array();
            });
        return Combinators.combine(Arbitraries.integers().between(0, 7), option.list().ofMaxSize(4)).as((flags, opts) -> {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            out.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(flags).array());
            opts.forEach(out::writeBytes);
            return out.toByteArray();
        });
    }

    @Provide
    Arbitrary<byte[]> requests() {
        Arbitrary<byte[]> request = Combinators.combine(Arbitraries.of(true, true, true, false),
            Arbitraries.integers().between(0, 15), Arbitraries.integers().between(0, 10),
            Arbitraries.oneOf(Arbitraries.longs().between(0, (64L << 20) - 16384).map(o -> o & ~511L),
                Arbitraries.of(-512L, 64L << 20, Long.MAX_VALUE, 1L)),
            Arbitraries.oneOf(Arbitraries.integers().between(0, 16).map(k -> k * 512), Arbitraries.of(-1, 7, 1 << 30)),
            Arbitraries.of(true, false)).as((magic, flags, type, offset, length, payload) -> {
                int n = type == NbdProtocol.CMD_WRITE && payload && length > 0 && length <= 8192 ? length : 0;
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(28 + n);
                b.putInt(magic ? NbdProtocol.REQUEST_MAGIC : 0x25609514).putShort((short) (int) flags)
                    .putShort((short) (int) type).putLong(7).putLong(offset).putInt(length);
                return b.array();
            });
        return request.list().ofMinSize(1).ofMaxSize(6).map(list -> {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            list.forEach(out::writeBytes);
            return out.toByteArray();
        });
    }

    @Property
    void randomHandshakesAreAnsweredOrClosed(@ForAll("handshakes") byte[] bytes) throws Exception {
        String listen = (String) bridge.details().get("listen");
        try (Socket s = new Socket("127.0.0.1", Integer.parseInt(listen.substring(listen.lastIndexOf(':') + 1)))) {
            s.getInputStream().readNBytes(18);
            send(s, bytes);
        }
        stillServes();
    }

    @Property
    void randomRequestsAreAnsweredOrClosed(@ForAll("requests") byte[] bytes) throws Exception {
        try (NbdBridgeTest.RawClient c = NbdBridgeTest.RawClient.connect(bridge)) {
            c.go("lun0");
            send(c.socket, bytes);
        }
        stillServes();
    }

    /** Sends, then reads whatever comes until the server closes or goes quiet; a reset counts as a close. */
    private static void send(Socket s, byte[] bytes) throws IOException {
        s.setSoTimeout(25); // what has not come by then is the server waiting for more: each try costs this much
        try {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.write(bytes);
            out.flush();
            InputStream in = s.getInputStream();
            byte[] sink = new byte[65536];
            while (in.read(sink) >= 0) {
                // drain
            }
        } catch (SocketTimeoutException quiet) {
            // the server waits for the rest of a request: a valid answer to a partial one
        } catch (java.net.SocketException closed) {
            // the server closed the connection on bad input
        }
    }

    private static void stillServes() throws IOException {
        try (NbdBridgeTest.RawClient c = NbdBridgeTest.RawClient.connect(bridge)) {
            c.go("lun0");
            c.request(0, NbdProtocol.CMD_READ, 9, (64L << 20) - 4096, 4096, null);
            assertEquals(0, c.simpleReplyError(9));
            assertArrayEquals(KNOWN, c.readBytes(4096), "the block a well-behaved client wrote");
        }
    }
}
