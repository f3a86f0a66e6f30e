package io.jmpio.bridge.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.api.KernelBridge;
import io.jmpio.core.Fixture;
import io.jmpio.core.MultipathConfig;
import io.jmpio.core.NoPathRetry;
import io.jmpio.core.MultipathDevice;
import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may use the NBD export, and what a hostile client costs it: TLS required through the protocol's
 * STARTTLS (with real clients), the address allow-list, and clients that never read, never finish a
 * request, never finish the handshake, or open hundreds of connections.
 */
class NbdTrustTest {
    private static final NbdServer.Limits TEST_LIMITS = new NbdServer.Limits(16, 1000, 1000);

    @TempDir
    Path tmp;
    ArrayServer array;
    MultipathDevice device;
    KernelBridge bridge;

    @BeforeEach
    void setUp() throws Exception {
        array = Fixture.linkedArray(tmp.resolve("array"), "lun0:64M:A", "memory");
        device = Fixture.deviceOnFourPaths(array, "nbd-trust", NoPathRetry.FAIL);
    }

    @AfterEach
    void tearDown() {
        Fixture.closeAll(bridge, device, array);
    }

    private Path certs() throws Exception {
        Path dir = tmp.resolve("certs");
        Tools.ok(60, "../../bin/make-test-certs", dir.toString());
        return dir;
    }

    private String port() {
        String listen = (String) bridge.details().get("listen");
        return listen.substring(listen.lastIndexOf(':') + 1);
    }

    @Test
    void anExportWithACertificateRequiresTlsAndRealClientsUseIt() throws Exception {
        Path certs = certs();
        bridge = NbdServer.start(device, "127.0.0.1:0", "lun0",
            NbdAccess.of("", certs.resolve("cert.pem"), certs.resolve("key.pem")), NbdServer.Limits.DEFAULT);
        // libnbd reads the authority from ca-cert.pem in the directory it is given, and checks the host name
        String tls = "nbds://127.0.0.1:" + port() + "/lun0?tls-certificates=" + certs;
        assertEquals(Long.toString(64L << 20), Tools.ok(30, "nbdinfo", "--size", tls).trim());
        Path src = tmp.resolve("src.img");
        byte[] data = new byte[4 << 20];
        new SplittableRandom(5).nextBytes(data);
        Files.write(src, data);
        Tools.ok(60, "nbdcopy", src.toString(), tls);
        Path back = tmp.resolve("back.img");
        Tools.ok(60, "nbdcopy", tls, back.toString());
        assertArrayEquals(data, java.util.Arrays.copyOf(Files.readAllBytes(back), data.length), "data through TLS");

        Tools.Result plain = Tools.run(30, "nbdinfo", "--size", "nbd://127.0.0.1:" + port() + "/lun0");
        assertNotEquals(0, plain.code(), "a client without TLS gets nothing: " + plain.output());
        try (NbdBridgeTest.RawClient c = NbdBridgeTest.RawClient.connect(bridge)) {
            c.option(NbdProtocol.OPT_LIST, new byte[0]);
            c.expectOptionReply(NbdProtocol.OPT_LIST, NbdProtocol.REP_ERR_TLS_REQD);
            c.option(NbdProtocol.OPT_STARTTLS, new byte[1]);
            c.expectOptionReply(NbdProtocol.OPT_STARTTLS, NbdProtocol.REP_ERR_INVALID);
            c.option(NbdProtocol.OPT_EXPORT_NAME, "lun0".getBytes());
            assertEquals(-1, c.in.read(), "NBD_OPT_EXPORT_NAME before STARTTLS closes the connection");
        }
    }

    @Test
    void theAllowListRefusesOtherAddressesAndBadEntries() throws Exception {
        bridge = NbdServer.start(device, "127.0.0.1:0", "lun0", NbdAccess.of("10.9.8.7, 192.0.2.0/24", null, null),
            NbdServer.Limits.DEFAULT);
        try (Socket s = new Socket("127.0.0.1", Integer.parseInt(port()))) {
            s.setSoTimeout(5000);
            assertEquals(-1, s.getInputStream().read(), "127.0.0.1 is not on the list: closed before the greeting");
        }
        bridge.close();
        bridge = NbdServer.start(device, "127.0.0.1:0", "lun0", NbdAccess.of("::1,127.0.0.0/8", null, null),
            NbdServer.Limits.DEFAULT);
        assertEquals(Long.toString(64L << 20), Tools.ok(30, "nbdinfo", "--size", bridge.location()).trim());
        for (String bad : List.of("evil.example", "10.0.0.0/33", "1.2.3.4/-1", "/8", "10.0.0.0/x")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NbdAccess.of(bad, null, null));
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
        Path key = tmp.resolve("open.key");
        Files.writeString(key, "x");
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        IOException e = assertThrows(IOException.class, () -> NbdAccess.of("", key, key));
        assertTrue(e.getMessage().contains("readable by other users"), e.getMessage());
    }

    @Test
    void clientsThatNeverReadNeverFinishOrCrowdInCostBoundedMemoryAndOthersAreServed() throws Exception {
        bridge = NbdServer.start(device, "127.0.0.1:0", "lun0", NbdAccess.open(), TEST_LIMITS);
        long before = memoryAfterGc();
        // 1. a client that asks for 3 GiB of reads and never reads a reply
        Socket deaf = new Socket();
        deaf.setReceiveBufferSize(4096);
        deaf.connect(new java.net.InetSocketAddress("127.0.0.1", Integer.parseInt(port())));
        java.io.DataOutputStream out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(deaf.getOutputStream()));
        java.io.DataInputStream in = new java.io.DataInputStream(deaf.getInputStream());
        in.skipNBytes(18);
        out.writeInt(NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES);
        out.writeLong(NbdProtocol.IHAVEOPT);
        out.writeInt(NbdProtocol.OPT_EXPORT_NAME);
        out.writeInt(4);
        out.write("lun0".getBytes());
        out.flush();
        in.skipNBytes(10);
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; i < 3072; i++) {
                    out.writeInt(NbdProtocol.REQUEST_MAGIC);
                    out.writeShort(0);
                    out.writeShort(NbdProtocol.CMD_READ);
                    out.writeLong(i);
                    out.writeLong((i % 60) * (1L << 20));
                    out.writeInt(1 << 20);
                }
                out.flush();
            } catch (IOException ignored) {
                // the export stopped reading: expected
            }
        });
        writer.setDaemon(true);
        writer.start();
        Thread.sleep(3000);
        long grown = memoryAfterGc() - before;
        assertTrue(grown < 256L << 20, "a client that never reads costs bounded memory: grew " + (grown >> 20)
            + " MiB for 3 GiB of reads asked");
        assertEquals(Long.toString(64L << 20), Tools.ok(30, "nbdinfo", "--size", bridge.location()).trim(),
            "others are served meanwhile");

        // 2. half a request after the handshake, then silence; and a handshake never finished
        try (NbdBridgeTest.RawClient half = NbdBridgeTest.RawClient.connect(bridge)) {
            half.go("lun0");
            half.out.writeInt(NbdProtocol.REQUEST_MAGIC);
            half.out.writeShort(0);
            half.out.flush();
            assertEquals(-1, half.in.read(), "a request left unfinished is closed after the limit");
        }
        try (Socket mute = new Socket("127.0.0.1", Integer.parseInt(port()))) {
            mute.setSoTimeout(10_000);
            mute.getInputStream().skipNBytes(18);
            assertEquals(-1, mute.getInputStream().read(), "a handshake never finished is closed after the limit");
        }

        // 3. a crowd: past the limit connections are closed at once; when the crowd's handshakes time out,
        //    real clients get in again
        List<Socket> crowd = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            Socket s = new Socket("127.0.0.1", Integer.parseInt(port()));
            s.setSoTimeout(2000);
            crowd.add(s);
        }
        int greeted = 0;
        for (Socket s : crowd) {
            try {
                if (s.getInputStream().read() >= 0) {
                    greeted++; // admitted: it got the greeting
                }
            } catch (IOException e) {
                // closed or reset: refused
            }
        }
        assertTrue(greeted <= TEST_LIMITS.maxConnections(), greeted + " of 300 crowding connections were admitted");
        assertTrue(greeted > 0, "the export admits up to its limit");
        Thread.sleep(1500);
        assertEquals(Long.toString(64L << 20), Tools.ok(30, "nbdinfo", "--size", bridge.location()).trim(),
            "the crowd's handshakes timed out; a real client gets in");
        for (Socket s : crowd) {
            s.close();
        }
        deaf.close();
        writer.join(5000);
    }

    private static long memoryAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        long direct = Math.max(0, io.netty.util.internal.PlatformDependent.usedDirectMemory());
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                direct += pool.getMemoryUsed();
            }
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() + direct;
    }
}
