package io.jmpio.core.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.core.MultipathConfig;
import io.jmpio.core.MultipathDevice;
import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The device's local endpoints against hostile local clients: the control socket and the metrics endpoint. */
class ControlSocketTest {
    @TempDir
    Path dir;
    ArrayServer array;
    MultipathDevice device;

    @BeforeEach
    void setUp() throws Exception {
        array = ArrayServer.start(new ArrayConfig().dataDir(dir.resolve("array")).basePort(0).heartbeatIntervalMillis(50)
            .heartbeatTimeoutMillis(300).eventLoopThreads(2).lun(LunSpec.parse("lun0:16M:A", "A", "memory")));
        device = MultipathDevice.open(new MultipathConfig().portal(array.controller("A").portAddresses().get(0))
            .hostId("control-test").ioQueues(1).checkIntervalMillis(100).probeTimeoutMillis(500));
    }

    @AfterEach
    void tearDown() {
        if (device != null) {
            device.close();
        }
        if (array != null) {
            array.close();
        }
    }

    @Test
    void theSocketIsOwnerOnlyFromTheStartAndItsDirectoryIsChecked() throws Exception {
        Path socket = dir.resolve("run").resolve("dev.sock");
        try (ControlServer cs = ControlServer.start(device, socket)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())),
                "a missing directory is created owner-only");
            try (var ls = Files.list(socket.getParent())) {
                assertEquals(List.of(socket), ls.toList(), "no staging directory is left behind");
            }
            assertTrue(ControlClient.status(socket).isObject());
        }
        Path open = dir.resolve("open");
        Files.createDirectory(open);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        IOException e = assertThrows(IOException.class, () -> ControlServer.start(device, open.resolve("dev.sock")));
        assertTrue(e.getMessage().contains("writable by other users"), e.getMessage());
        assertFalse(Files.exists(open.resolve("dev.sock")));
    }

    @Test
    void silentOversizedAndEndlessClientsDoNotStopTheOperator() throws Exception {
        Path socket = dir.resolve("dev.sock");
        try (ControlServer cs = ControlServer.start(device, socket)) {
            List<SocketChannel> silent = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                silent.add(SocketChannel.open(UnixDomainSocketAddress.of(socket)));
            }
            long t0 = System.nanoTime();
            assertTrue(ControlClient.status(socket).isObject(), "status beside silent clients");
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
            try (SocketChannel big = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                big.connect(UnixDomainSocketAddress.of(socket));
                byte[] chunk = new byte[64 << 10];
                java.util.Arrays.fill(chunk, (byte) 'x');
                for (int i = 0; i < 3; i++) {
                    big.write(ByteBuffer.wrap(chunk));
                }
                ByteBuffer reply = ByteBuffer.allocate(4096);
                big.read(reply);
                String text = new String(reply.array(), 0, reply.position(), StandardCharsets.UTF_8);
                assertTrue(text.contains("\"ok\":false") && text.contains("longer than"), text);
            }
            for (SocketChannel c : silent) {
                c.close();
            }
        }
    }

    @Test
    void theMetricsEndpointAnswersBesideAStalledClient() throws Exception {
        try (MetricsServer m = MetricsServer.start(device, "127.0.0.1:0")) {
            String[] hp = m.address().split(":");
            List<java.net.Socket> stalled = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                java.net.Socket s = new java.net.Socket(hp[0], Integer.parseInt(hp[1]));
                s.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
                stalled.add(s);
            }
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://" + m.address() + "/metrics")).timeout(java.time.Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("jmpio_"), r.body());
            for (java.net.Socket s : stalled) {
                s.close();
            }
        }
    }
}
