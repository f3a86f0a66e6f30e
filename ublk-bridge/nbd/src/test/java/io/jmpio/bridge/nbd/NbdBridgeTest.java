package io.jmpio.bridge.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jmpio.api.KernelBridge;
import io.jmpio.core.Fixture;
import io.jmpio.core.MultipathConfig;
import io.jmpio.core.MultipathDevice;
import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The NBD export of a multipath device on two controllers, driven by real NBD clients. */
class NbdBridgeTest {
    @TempDir
    Path tmp;
    ArrayServer array;
    MultipathDevice device;
    KernelBridge bridge;
    String uri;

    @BeforeEach
    void setUp() throws Exception {
        array = ArrayServer.start(new ArrayConfig().dataDir(tmp.resolve("array")).basePort(0).heartbeatIntervalMillis(50)
            .heartbeatTimeoutMillis(300).failbackDelayMillis(300).autoTransferThreshold(0).eventLoopThreads(2)
            .lun(LunSpec.parse("lun0:128M:A", "A", "file")));
        if (!array.awaitLinked(10_000)) {
            throw new AssertionError("the controllers did not link up");
        }
        device = MultipathDevice.open(new MultipathConfig().transport("nvme-tcp").portal(array.controller("A").portAddresses().get(0)).name("lun0")
            .hostId("nbd-test").ioQueues(2).ioTimeoutMillis(1000).checkIntervalMillis(100).probeTimeoutMillis(500)
            .scanIntervalMillis(500));
        awaitPaths(4);
        bridge = new NbdBridgeProvider().start(device, Map.of("listen", "127.0.0.1:0"));
        uri = bridge.location();
    }

    @AfterEach
    void tearDown() {
        Fixture.closeAll(bridge, device, array);
    }

    private void awaitPaths(int n) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 15_000;
        while (device.pathsUp() < n) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("paths did not come up: " + device.status());
            }
            Thread.sleep(50);
        }
    }

    @Test
    void nbdinfoShowsSizeAndFlags() throws Exception {
        JsonNode info = new ObjectMapper().readTree(Tools.ok(30, "nbdinfo", "--json", uri));
        JsonNode export = info.path("exports").get(0);
        assertEquals("lun0", export.path("export-name").asText(), info.toString());
        assertEquals(128L << 20, export.path("export-size").asLong());
        assertTrue(export.path("can_flush").asBoolean() && export.path("can_fua").asBoolean()
            && export.path("can_multi_conn").asBoolean() && export.path("can_trim").asBoolean()
            && export.path("can_zero").asBoolean() && !export.path("is_read_only").asBoolean(), export.toString());
        assertEquals(512, export.path("block_size_minimum").asInt());
        assertTrue(info.path("protocol").asText().contains("newstyle-fixed"), info.toString());
        String list = Tools.ok(30, "nbdinfo", "--list", uri.substring(0, uri.lastIndexOf('/')));
        assertTrue(list.contains("export=\"lun0\""), list);
        Tools.Result unknown = Tools.run(30, "nbdinfo", uri.substring(0, uri.lastIndexOf('/')) + "/nope");
        assertTrue(unknown.code() != 0 && unknown.output().contains("server replied with error to opt_go"), unknown.output());
    }

    @Test
    void nbdcopyRoundTripsThroughOwnerAndNonOwnerAndQemuImgCompares() throws Exception {
        Path src = tmp.resolve("random.img");
        byte[] data = new byte[64 << 20];
        new SplittableRandom(42).nextBytes(data);
        Files.write(src, data);
        // Written with the owner's paths offline: every write is shipped from B to A over the link.
        device.setPathOffline("P1", true);
        device.setPathOffline("P2", true);
        Tools.ok(120, "nbdcopy", "--connections=2", src.toString(), uri);
        assertTrue(((Number) pathStat("P17", "ios")).longValue() + ((Number) pathStat("P18", "ios")).longValue() > 0);
        device.setPathOffline("P1", false);
        device.setPathOffline("P2", false);
        Path back = tmp.resolve("back.img");
        Tools.ok(120, "nbdcopy", uri, back.toString());
        assertEquals(-1L, Files.mismatch(src, truncated(back, data.length)));
        Tools.ok(120, "qemu-img", "compare", "-f", "raw", "-F", "raw", src.toString(), uri);
    }

    @Test
    void fioVerifiesRandomWritesAndAgainWhileTheOwnerIsKilled() throws Exception {
        String[] fio = {"fio", "--name=verify", "--ioengine=nbd", "--uri=" + uri, "--rw=randwrite", "--bs=4k",
            "--iodepth=32", "--size=96m", "--verify=crc32c", "--verify_fatal=1", "--do_verify=1", "--output-format=json"};
        JsonNode first = new ObjectMapper().readTree(jsonPart(Tools.ok(300, fio)));
        assertEquals(0, first.path("jobs").get(0).path("error").asInt(), first.toString());

        CompletableFuture<Tools.Result> run = CompletableFuture.supplyAsync(() -> {
            try {
                return Tools.run(300, fio);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        // Kill the owner once writes are under way.
        long deadline = System.currentTimeMillis() + 30_000;
        long before = ((Number) ((Map<?, ?>) device.status().get("stats")).get("writes")).longValue();
        while (((Number) ((Map<?, ?>) device.status().get("stats")).get("writes")).longValue() < before + 3000) {
            assertTrue(System.currentTimeMillis() < deadline, "fio never started writing");
            Thread.sleep(10);
        }
        array.controller("A").kill();
        Tools.Result r = run.get();
        assertEquals(0, r.code(), r.output());
        JsonNode second = new ObjectMapper().readTree(jsonPart(r.output()));
        assertEquals(0, second.path("jobs").get(0).path("error").asInt(), r.output());
        assertTrue(second.path("jobs").get(0).path("write").path("io_bytes").asLong() >= 96L << 20, r.output());
    }

    @Test
    void hostileClientInputGetsProtocolErrorsNotACrashOrHang() throws Exception {
        try (RawClient c = RawClient.connect(bridge)) {
            c.option(99, new byte[0]);
            c.expectOptionReply(99, NbdProtocol.REP_ERR_UNSUP);
            c.option(NbdProtocol.OPT_STARTTLS, new byte[0]);
            c.expectOptionReply(NbdProtocol.OPT_STARTTLS, NbdProtocol.REP_ERR_POLICY);
            c.option(NbdProtocol.OPT_LIST, new byte[3]);
            c.expectOptionReply(NbdProtocol.OPT_LIST, NbdProtocol.REP_ERR_INVALID);
            c.option(NbdProtocol.OPT_GO, new byte[] {0, 0, 0, 50, 'x', 0, 0});
            c.expectOptionReply(NbdProtocol.OPT_GO, NbdProtocol.REP_ERR_INVALID);
            c.option(NbdProtocol.OPT_SET_META_CONTEXT, new byte[8]);
            c.expectOptionReply(NbdProtocol.OPT_SET_META_CONTEXT, NbdProtocol.REP_ERR_INVALID);
            c.go("lun0");
            long size = 128L << 20;
            c.request(0, NbdProtocol.CMD_READ, 1, size - 4096, 8192, null);
            assertEquals(NbdProtocol.EINVAL, c.simpleReplyError(1));
            c.request(0, NbdProtocol.CMD_WRITE, 2, size, 4096, new byte[4096]);
            assertEquals(NbdProtocol.ENOSPC, c.simpleReplyError(2));
            c.request(0, NbdProtocol.CMD_READ, 3, 100, 4096, null);
            assertEquals(NbdProtocol.EINVAL, c.simpleReplyError(3));
            c.request(0, NbdProtocol.CMD_WRITE, 4, 0, 8 << 20, new byte[8 << 20]);
            assertEquals(NbdProtocol.EINVAL, c.simpleReplyError(4));
            c.request(0, 77, 5, 0, 4096, null);
            assertEquals(NbdProtocol.EINVAL, c.simpleReplyError(5));
            c.request(1 << 9, NbdProtocol.CMD_READ, 6, 0, 4096, null);
            assertEquals(NbdProtocol.EINVAL, c.simpleReplyError(6));
            c.request(0, NbdProtocol.CMD_READ, 7, 0, 0, null);
            assertEquals(NbdProtocol.EINVAL, c.simpleReplyError(7));
            // After all that the stream is still in step: a write and its read-back work.
            byte[] block = new byte[4096];
            new SplittableRandom(7).nextBytes(block);
            c.request(NbdProtocol.CMD_FLAG_FUA, NbdProtocol.CMD_WRITE, 8, 8192, 4096, block);
            assertEquals(0, c.simpleReplyError(8));
            c.request(0, NbdProtocol.CMD_READ, 9, 8192, 4096, null);
            assertEquals(0, c.simpleReplyError(9));
            assertEquals(-1, java.util.Arrays.mismatch(block, c.readBytes(4096)));
            c.request(0, NbdProtocol.CMD_DISC, 10, 0, 0, null);
            assertEquals(-1, c.in.read(), "the server closes after NBD_CMD_DISC");
        }
        try (RawClient c = RawClient.connect(bridge)) {
            c.out.writeLong(NbdProtocol.IHAVEOPT);
            c.out.writeInt(NbdProtocol.OPT_GO);
            c.out.writeInt(Integer.MAX_VALUE);
            c.out.flush();
            c.expectOptionReply(NbdProtocol.OPT_GO, NbdProtocol.REP_ERR_TOO_BIG);
            assertEquals(-1, c.in.read(), "an option too long to read closes the connection");
        }
        try (RawClient c = RawClient.connect(bridge)) {
            c.out.writeLong(0x1234);
            c.out.writeLong(0x5678);
            c.out.flush();
            assertEquals(-1, c.in.read(), "garbage instead of an option closes the connection");
        }
        // The export still serves normal clients.
        assertTrue(Tools.ok(30, "nbdinfo", "--size", uri).trim().equals(Long.toString(128L << 20)));
    }

    /** A client written against the protocol document, byte by byte, to send what real clients never do. */
    static final class RawClient implements AutoCloseable {
        final java.net.Socket socket;
        final java.io.DataInputStream in;
        final java.io.DataOutputStream out;

        private RawClient(java.net.Socket s) throws java.io.IOException {
            socket = s;
            s.setSoTimeout(10_000);
            in = new java.io.DataInputStream(new java.io.BufferedInputStream(s.getInputStream()));
            out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(s.getOutputStream()));
        }

        static RawClient connect(KernelBridge bridge) throws java.io.IOException {
            String listen = (String) bridge.details().get("listen");
            int colon = listen.lastIndexOf(':');
            RawClient c = new RawClient(new java.net.Socket(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1))));
            assertEquals(NbdProtocol.NBDMAGIC, c.in.readLong());
            assertEquals(NbdProtocol.IHAVEOPT, c.in.readLong());
            assertEquals(NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES, c.in.readUnsignedShort());
            c.out.writeInt(NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES);
            return c;
        }

        void option(int option, byte[] data) throws java.io.IOException {
            out.writeLong(NbdProtocol.IHAVEOPT);
            out.writeInt(option);
            out.writeInt(data.length);
            out.write(data);
            out.flush();
        }

        void expectOptionReply(int option, int type) throws java.io.IOException {
            assertEquals(NbdProtocol.OPT_REPLY_MAGIC, in.readLong());
            assertEquals(option, in.readInt());
            assertEquals(type, in.readInt(), "reply type to option " + option);
            in.skipNBytes(in.readInt());
        }

        void go(String export) throws java.io.IOException {
            byte[] n = export.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + n.length + 2);
            b.putInt(n.length).put(n).putShort((short) 0);
            option(NbdProtocol.OPT_GO, b.array());
            expectOptionReply(NbdProtocol.OPT_GO, NbdProtocol.REP_INFO);
            expectOptionReply(NbdProtocol.OPT_GO, NbdProtocol.REP_ACK);
        }

        void request(int flags, int type, long cookie, long offset, int length, byte[] payload) throws java.io.IOException {
            out.writeInt(NbdProtocol.REQUEST_MAGIC);
            out.writeShort(flags);
            out.writeShort(type);
            out.writeLong(cookie);
            out.writeLong(offset);
            out.writeInt(length);
            if (payload != null) {
                out.write(payload);
            }
            out.flush();
        }

        int simpleReplyError(long cookie) throws java.io.IOException {
            assertEquals(NbdProtocol.SIMPLE_REPLY_MAGIC, in.readInt());
            int error = in.readInt();
            assertEquals(cookie, in.readLong());
            return error;
        }

        byte[] readBytes(int n) throws java.io.IOException {
            return in.readNBytes(n);
        }

        @Override
        public void close() throws java.io.IOException {
            socket.close();
        }
    }

    private Object pathStat(String id, String key) {
        for (Object g : (java.util.List<?>) device.status().get("groups")) {
            for (Object p : (java.util.List<?>) ((Map<?, ?>) g).get("paths")) {
                if (id.equals(((Map<?, ?>) p).get("id"))) {
                    return ((Map<?, ?>) p).get(key);
                }
            }
        }
        throw new AssertionError("no path " + id);
    }

    private static Path truncated(Path file, long size) throws Exception {
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
        return file;
    }

    /** fio prints connection notes before its JSON. */
    private static String jsonPart(String out) {
        return out.substring(out.indexOf('{'));
    }
}
