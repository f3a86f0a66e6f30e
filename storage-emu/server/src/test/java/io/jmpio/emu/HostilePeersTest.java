package io.jmpio.emu;

import static io.jmpio.emu.Harness.await;
import static io.jmpio.emu.Harness.port;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import io.jmpio.emu.controller.Opcode;
import io.jmpio.emu.controller.Status;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile peers against the real emulator on loopback: on the inter-controller link (without and with the
 * secret), on the admin endpoint, in the configuration and the journal on disk, and on the front-end ports.
 * Each attack must end with an error or a closed connection, other clients served, memory bounded, and a
 * verified workload running beside it finding every acknowledged write intact.
 */
class HostilePeersTest {
    private static final int LINK_HELLO = 1;
    private static final int LINK_HEARTBEAT = 2;
    private static final int LINK_REPLY = 3;
    private static final int LINK_SHIP_IO = 4;
    private static final int LINK_SHIP_STREAM = 8;
    private static final int LINK_MIRROR_WRITE = 5;
    private static final int LINK_MIRROR_RELEASE = 6;
    private static final int LINK_MANAGEMENT = 7;
    private static final int CH_MANAGEMENT = 0;
    private static final int CH_SHIP = 1;
    private static final int CH_MIRROR = 2;

    private static final String KILL = "{\"verb\":\"kill\",\"target\":\"A\"}";

    @TempDir
    Path dir;

    private ArrayConfig config() {
        return Harness.config(dir).lun(LunSpec.parse("lunb:16M:B", "A", "file")).maxConnectionsPerPort(64)
            .partialFrameMillis(1000);
    }

    private static String link(ArrayServer a, String c) {
        return "127.0.0.1:" + a.controller(c).linkAddress().getPort();
    }

    @Test
    void unauthenticatedLinkFramesOfEveryKindGetNothingButAClosedConnection() throws Exception {
        try (ArrayServer a = ArrayServer.start(config())) {
            await("link up", 5000, () -> a.controller("A").peerState() == PeerState.ALIVE);
            try (VerifiedWorkload work = new VerifiedWorkload(a, port(a, "A", 0))) {
                byte[] block = new byte[4096];
                java.util.Arrays.fill(block, (byte) 0x5A);
                byte[] peerInfo = ("{\"id\":\"B\",\"incarnation\":1,\"admin\":\"6.6.6.6:1\",\"ports\":[\"6.6.6.6:7\"]}")
                    .getBytes(StandardCharsets.UTF_8);
                List<byte[]> frames = List.of(
                    Attacker.linkFrame(CH_MANAGEMENT, LINK_HELLO, 0, 0, 0, 0, 0, 0, 0, peerInfo),
                    Attacker.linkFrame(CH_SHIP, LINK_HELLO, 0, 0, 0, 0, 0, 0, 0, new byte[0]),
                    Attacker.linkFrame(CH_MANAGEMENT, LINK_HEARTBEAT, 0, 0, 0, 0, 0, 0, 0, new byte[0]),
                    Attacker.linkFrame(CH_SHIP, LINK_SHIP_IO, Opcode.WRITE, 1, 0, 1, 4096, 0, 8 << 20, block),
                    Attacker.linkFrame(CH_MIRROR, LINK_MIRROR_WRITE, 0, 2, 1, 1, 4096, 1L << 40, 8 << 20, block),
                    Attacker.linkFrame(CH_MIRROR, LINK_MIRROR_RELEASE, 0, 3, 1, 1, 0, Long.MAX_VALUE, 0, new byte[0]),
                    Attacker.linkFrame(CH_MANAGEMENT, LINK_MANAGEMENT, 3, 4, 0, 0, 0, 0, 0, new byte[0]),
                    Attacker.linkFrame(CH_MANAGEMENT, LINK_MANAGEMENT, 1, 5, 0, 0, 0, 0, 0, peerInfo),
                    Attacker.linkFrame(CH_MANAGEMENT, LINK_REPLY, 0, 6, 0, 0, 0, 0, 0, new byte[0]));
                for (String c : List.of("A", "B")) {
                    for (byte[] frame : frames) {
                        try (Attacker x = new Attacker(link(a, c))) {
                            byte[] challenge = x.read(40);
                            assertNotNull(challenge, "the link opens with its challenge");
                            x.send(frame);
                            assertTrue(x.closedByPeer(), "controller " + c + " closes a connection that sends a frame"
                                + " instead of authenticating");
                        }
                    }
                }
                // one that never says anything is closed after the authentication timeout
                try (Attacker silent = new Attacker(link(a, "B"))) {
                    assertNotNull(silent.read(40));
                    assertTrue(silent.closedByPeer(), "a connection that never authenticates is closed");
                }
                try (Harness.Host h = new Harness.Host(a, port(a, "B", 1), "check")) {
                    assertArrayEquals(new byte[4096], h.read(8 << 20, 4096), "the forged shipped write never landed");
                    assertTrue(h.serving(), "lun0 is not left transitioning");
                    for (String c : List.of("A", "B")) {
                        for (String p : a.controller(c).peerFrontEndAddresses()) {
                            assertFalse(p.startsWith("6.6.6.6"), "forged port list not believed: " + p);
                        }
                    }
                }
                assertEquals(PeerState.ALIVE, a.controller("A").peerState());
                assertEquals(PeerState.ALIVE, a.controller("B").peerState());
                work.verify();
            }
        }
    }

    @Test
    void replayedReflectedAndWrongSecretAuthenticationsAreRefused() throws Exception {
        try (ArrayServer a = ArrayServer.start(config())) {
            await("link up", 5000, () -> a.controller("A").peerState() == PeerState.ALIVE);
            byte[] secret = Attacker.secret(dir);
            byte[] nonce = new byte[32];
            new Random(1).nextBytes(nonce);
            byte[][] recorded;
            try (Attacker good = new Attacker(link(a, "B"))) {
                recorded = good.authenticate(secret, nonce);
                assertNotNull(recorded, "the right secret authenticates");
            }
            try (Attacker replay = new Attacker(link(a, "B"))) {
                byte[] fresh = replay.read(40);
                assertFalse(java.util.Arrays.equals(Attacker.nonceOf(recorded[0]), Attacker.nonceOf(fresh)),
                    "every connection gets a fresh nonce");
                replay.send(Attacker.challenge(0, nonce));
                replay.send(recorded[1]); // the proof that was good for the recorded connection
                assertTrue(replay.closedByPeer(), "a replayed proof is refused");
            }
            try (Attacker reflect = new Attacker(link(a, "B"))) {
                byte[] theirs = reflect.read(40);
                reflect.send(theirs); // the acceptor's own challenge, back at it
                assertTrue(reflect.closedByPeer(), "a reflected challenge is refused");
            }
            try (Attacker wrong = new Attacker(link(a, "A"))) {
                assertNull(wrong.authenticate("not the secret, but long enough to pass".getBytes(), nonce),
                    "a wrong secret is refused");
            }
            assertEquals(PeerState.ALIVE, a.controller("A").peerState());
        }
    }

    @Test
    void aPeerHoldingTheSecretStillCannotWriteOutsideALun() throws Exception {
        try (ArrayServer a = ArrayServer.start(config().destageIntervalMillis(20))) {
            await("link up", 5000, () -> a.controller("A").peerState() == PeerState.ALIVE);
            int lun0 = a.metadata().load().byName("lun0").id();
            int lunb = a.metadata().load().byName("lunb").id();
            long lunBytes = a.metadata().load().byName("lun0").bytes();
            byte[] secret = Attacker.secret(dir);
            try (VerifiedWorkload work = new VerifiedWorkload(a, port(a, "A", 0));
                 Attacker ship = new Attacker(link(a, "A"));
                 Attacker mirror = new Attacker(link(a, "A"))) {
                assertNotNull(ship.authenticate(secret, java.util.Arrays.copyOf(random(2), 32)));
                ship.send(Attacker.linkFrame(CH_SHIP, LINK_HELLO, 1, 0, 0, 0, 0, 0, 0, new byte[0]));
                assertEquals(LINK_HELLO, Attacker.linkKind(ship.read(56)), "A answers the hello");
                byte[] b4k = random(4096);
                long[][] bad = { // offset, length, payload length
                    {-4096, 4096, 4096}, {100, 4096, 4096}, {0, 4000, 4000}, {lunBytes, 4096, 4096},
                    {lunBytes - 4096, 8192, 8192}, {Long.MAX_VALUE - 4095, 4096, 4096}, {0, 4096, 512},
                    {0, 512, 4096}, {0, 8 << 20, 8 << 20}, {0, 0, 0}};
                long corr = 100;
                for (long[] t : bad) {
                    byte[] payload = t[2] == 4096 ? b4k : new byte[(int) t[2]];
                    ship.send(Attacker.linkFrame(CH_SHIP, LINK_SHIP_IO, Opcode.WRITE, ++corr, lun0, 1, (int) t[1], 0, t[0],
                        payload));
                    byte[] reply = ship.read(56);
                    assertNotNull(reply, "a bad shipped write is answered, not a reason to drop the link");
                    assertNotEquals(Status.GOOD, Attacker.linkStatus(reply), "shipped write at " + t[0] + "+" + t[1]
                        + " with " + t[2] + " payload bytes");
                    ship.read(Attacker.linkPayloadLength(reply));
                }
                for (int[] t : new int[][] {{0x77, lun0, 0}, {Opcode.WRITE, 999, 0}, {Opcode.READ, lun0, 4096}}) {
                    ship.send(Attacker.linkFrame(CH_SHIP, LINK_SHIP_IO, t[0], ++corr, t[1], 1, 4096, 0, 0,
                        new byte[t[2]]));
                    byte[] reply = ship.read(56);
                    assertNotEquals(Status.GOOD, Attacker.linkStatus(reply), "op " + t[0] + " lun " + t[1]);
                    ship.read(Attacker.linkPayloadLength(reply));
                }
                ship.send(Attacker.linkFrame(CH_SHIP, LINK_SHIP_IO, Opcode.WRITE, ++corr, lun0, 1, 4096, 99, 0, b4k));
                assertNotEquals(Status.GOOD, Attacker.linkStatus(ship.read(56)), "an impossible port index");
                // streamed writes: every reservation, chunk and commit checked; a broken stream is dropped
                for (long[] t : new long[][] {{-4096, 4096, 0}, {100, 4096, 0}, {lunBytes, 4096, 0}, {0, 0, 0},
                        {0, 4096, 512}}) {
                    ship.send(Attacker.linkFrame(CH_SHIP, LINK_SHIP_STREAM, 1, ++corr, lun0, 1, (int) t[1], 0, t[0],
                        new byte[(int) t[2]]));
                    assertNotEquals(Status.GOOD, Attacker.linkStatus(ship.read(56)), "stream reservation at " + t[0]
                        + "+" + t[1] + " with " + t[2] + " payload bytes");
                }
                ship.send(Attacker.linkFrame(CH_SHIP, LINK_SHIP_STREAM, 2, ++corr, lun0, 1, 4096, 424242, 0, b4k));
                assertNotEquals(Status.GOOD, Attacker.linkStatus(ship.read(56)), "a chunk of a stream never opened");
                for (long firstChunkAt : new long[] {4096, 0}) {
                    ship.send(Attacker.linkFrame(CH_SHIP, LINK_SHIP_STREAM, 1, ++corr, lun0, 1, 8192, 0, 16 << 20,
                        new byte[0]));
                    byte[] reserved = ship.read(56);
                    assertEquals(Status.GOOD, Attacker.linkStatus(reserved), "a well-formed reservation");
                    long token = Attacker.linkSource(reserved);
                    ship.send(Attacker.linkFrame(CH_SHIP, LINK_SHIP_STREAM, 2, ++corr, lun0, 1, 4096, token,
                        firstChunkAt, b4k));
                    assertEquals(firstChunkAt == 0 ? Status.GOOD : Status.INVALID_FIELD, Attacker.linkStatus(ship.read(56)),
                        "chunk at " + firstChunkAt);
                    ship.send(Attacker.linkFrame(CH_SHIP, LINK_SHIP_STREAM, 3, ++corr, lun0, 1, 8192, token, 0,
                        new byte[0]));
                    assertNotEquals(Status.GOOD, Attacker.linkStatus(ship.read(56)), "commit of a stream missing data");
                }
                // a frame of another channel's kind closes the connection
                ship.send(Attacker.linkFrame(CH_SHIP, LINK_MIRROR_WRITE, 0, ++corr, lun0, 1, 4096, 0, 0, b4k));
                assertTrue(ship.closedByPeer(), "a mirror write on a shipping channel");

                assertNotNull(mirror.authenticate(secret, java.util.Arrays.copyOf(random(3), 32)));
                mirror.send(Attacker.linkFrame(CH_MIRROR, LINK_HELLO, 1, 0, 0, 0, 0, 0, 0, new byte[0]));
                assertEquals(LINK_HELLO, Attacker.linkKind(mirror.read(56)));
                long bBytes = a.metadata().load().byName("lunb").bytes();
                long[][] badMirror = {{-4096, 4096, 4096}, {100, 4096, 4096}, {bBytes, 4096, 4096}, {0, 4096, 512}};
                for (long[] t : badMirror) {
                    mirror.send(Attacker.linkFrame(CH_MIRROR, LINK_MIRROR_WRITE, 0, ++corr, lunb, 1, (int) t[1], 7,
                        t[0], t[2] == 4096 ? b4k : new byte[(int) t[2]]));
                    byte[] reply = mirror.read(56);
                    assertNotEquals(Status.GOOD, Attacker.linkStatus(reply), "mirror write at " + t[0]);
                }
                // zeroes whose length is negative, or whose payload is not a u64
                mirror.send(Attacker.linkFrame(CH_MIRROR, LINK_MIRROR_WRITE, 1, ++corr, lunb, 1, 0, 7, 0,
                    java.nio.ByteBuffer.allocate(8).putLong(-1).array()));
                assertNotEquals(Status.GOOD, Attacker.linkStatus(mirror.read(56)), "zeroes of -1 bytes");
                mirror.send(Attacker.linkFrame(CH_MIRROR, LINK_MIRROR_WRITE, 1, ++corr, lunb, 1, 0, 7, 0, new byte[3]));
                assertNotEquals(Status.GOOD, Attacker.linkStatus(mirror.read(56)), "zeroes without a length");
                mirror.send(Attacker.linkFrame(CH_MIRROR, LINK_MIRROR_WRITE, 0, ++corr, lun0, 1, 4096, 7, 0, b4k));
                assertEquals(Status.NOT_OWNER, Attacker.linkStatus(mirror.read(56)), "a mirror of the receiver's own LUN");

                try (Harness.Host h = new Harness.Host(a, port(a, "A", 1), "flusher")) {
                    assertEquals(0, h.flush(), "Flush works after the attack");
                }
                work.verify();
            }
        }
        // the array starts again and the data is there (destage was never poisoned)
        try (ArrayServer again = ArrayServer.start(config());
             Harness.Host h = new Harness.Host(again, port(again, "A", 0), "after")) {
            assertEquals(64 << 20, again.metadata().load().byName("lun0").bytes());
            h.read(0, 4096);
        }
    }

    @Test
    void aLinkWithMutualTlsComesUpAndRefusesPlainAndForeignClients() throws Exception {
        Path certs = dir.resolveSibling(dir.getFileName() + "-certs");
        Path foreign = dir.resolveSibling(dir.getFileName() + "-foreign");
        for (Path p : List.of(certs, foreign)) {
            Process mk = new ProcessBuilder("../../bin/make-test-certs", p.toString()).redirectErrorStream(true).start();
            assertEquals(0, mk.waitFor(), new String(mk.getInputStream().readAllBytes()));
        }
        try (ArrayServer a = ArrayServer.start(config().linkTls(certs.resolve("cert.pem"), certs.resolve("key.pem"),
                certs.resolve("ca-cert.pem")))) {
            await("link up over TLS", 10_000, () -> a.controller("A").peerState() == PeerState.ALIVE
                && a.controller("B").peerState() == PeerState.ALIVE);
            try (VerifiedWorkload work = new VerifiedWorkload(a, port(a, "B", 0))) { // shipped and mirrored over TLS
                try (Attacker plain = new Attacker(link(a, "B"))) {
                    plain.send(Attacker.challenge(0, new byte[32]));
                    assertTrue(plain.closedByPeer(), "a client without TLS is refused");
                }
                javax.net.ssl.SSLContext ctx = io.netty.handler.ssl.SslContextBuilder.forClient()
                    .keyManager(foreign.resolve("cert.pem").toFile(), foreign.resolve("key.pem").toFile())
                    .trustManager(io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE)
                    .sslProvider(io.netty.handler.ssl.SslProvider.JDK).build() instanceof io.netty.handler.ssl.JdkSslContext j
                    ? j.context() : null;
                try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1",
                        a.controller("B").linkAddress().getPort())) {
                    s.setSoTimeout(8000);
                    boolean refused;
                    try {
                        s.startHandshake();
                        refused = s.getInputStream().read() < 0;
                    } catch (IOException e) {
                        refused = true;
                    }
                    assertTrue(refused, "a certificate from another authority is refused");
                }
                Thread.sleep(500);
                work.verify();
            }
        }
        IOException e = assertThrows(IOException.class, () -> ArrayServer.start(new ArrayConfig().dataDir(dir)
            .basePort(0).linkTls(certs.resolve("cert.pem"), certs.resolve("nope.pem"), certs.resolve("ca-cert.pem"))));
        assertTrue(e.getMessage().contains("nope.pem"), e.getMessage());
    }

    @Test
    void forgedHeartbeatsDoNotKeepADeadControllerAlive() throws Exception {
        try (ArrayServer a = ArrayServer.start(config())) {
            await("link up", 5000, () -> a.controller("A").peerState() == PeerState.ALIVE);
            List<Attacker> forgers = new ArrayList<>();
            Thread flood = new Thread(() -> {
                byte[] hb = Attacker.linkFrame(CH_MANAGEMENT, LINK_HEARTBEAT, 0, 0, 0, 0, 0, 0, 0, new byte[0]);
                long end = System.currentTimeMillis() + 3000;
                while (System.currentTimeMillis() < end && forgers.size() < 300) {
                    try {
                        Attacker x = new Attacker(link(a, "A"));
                        forgers.add(x);
                        for (int i = 0; i < 20; i++) {
                            x.send(hb);
                        }
                        Thread.sleep(10);
                    } catch (IOException | InterruptedException ignored) {
                        // refused or closed: what the test wants
                    }
                }
            });
            flood.start();
            a.controller("B").kill();
            await("A takes over lunb from dead B despite forged heartbeats", 4000, () -> Harness.quietly(
                () -> "A".equals(a.metadata().load().byName("lunb").owner())));
            flood.join();
            for (Attacker x : forgers) {
                x.close();
            }
        }
    }

    @Test
    void adminRequestsWithoutCredentialsFromBrowsersSlowOrOversizedAreRefused() throws Exception {
        try (ArrayServer a = ArrayServer.start(config())) {
            String admin = a.controller("A").adminAddress();
            String token = Files.readString(dir.resolve("admin.token")).strip();
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("admin.token"))));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("link.secret"))));
            String ok = "Host: " + admin + "\r\nAuthorization: Bearer " + token + "\r\n";
            assertEquals(200, http(admin, "GET /status HTTP/1.1\r\n" + ok + "\r\n"));
            assertEquals(401, http(admin, "GET /status HTTP/1.1\r\nHost: " + admin + "\r\n\r\n"), "no token");
            assertEquals(401, http(admin, "POST /faults HTTP/1.1\r\nHost: " + admin + "\r\nAuthorization: Bearer "
                + token.substring(1) + "x\r\nContent-Type: application/json\r\nContent-Length: " + KILL.length() + "\r\n\r\n" + KILL), "wrong token");
            assertEquals(403, http(admin, "POST /faults HTTP/1.1\r\n" + ok + "Origin: http://evil.example\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + KILL.length() + "\r\n\r\n" + KILL),
                "a browser page, even with the token");
            assertEquals(403, http(admin, "GET /status HTTP/1.1\r\nHost: rebound.evil.example:7400\r\nAuthorization: "
                + "Bearer " + token + "\r\n\r\n"), "a DNS name in Host (rebinding)");
            assertEquals(400, http(admin, "GET /status HTTP/1.1\r\n" + ok + "Host: rebound.evil.example\r\n\r\n"),
                "a second Host header (one check could read one copy, a proxy or a log the other)");
            assertEquals(400, http(admin, "GET /status HTTP/1.1\r\nHost: " + admin + "\r\nAuthorization: Bearer wrong\r\n"
                + "Authorization: Bearer " + token + "\r\n\r\n"), "two tokens");
            assertEquals(400, http(admin, "POST /faults HTTP/1.1\r\n" + ok + "Origin: null\r\nOrigin: null\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + KILL.length() + "\r\n\r\n" + KILL), "two Origins");
            assertEquals(400, http(admin, "GET http://rebound.evil.example/status HTTP/1.1\r\n" + ok + "\r\n"),
                "an absolute request target (its authority overrides Host)");
            assertEquals(415, http(admin, "POST /faults HTTP/1.1\r\n" + ok + "Content-Type: text/plain\r\n"
                + "Content-Length: " + KILL.length() + "\r\n\r\n" + KILL), "a form post");
            assertEquals(413, http(admin, "POST /luns HTTP/1.1\r\n" + ok + "Content-Type: application/json\r\n"
                + "Content-Length: " + (1 << 20) + "\r\n\r\n"), "a body over the limit");
            assertEquals(io.jmpio.emu.controller.Controller.State.RUNNING, a.controller("A").state());

            // a crowd of slow clients: status still answers, and the crowd is closed in the end
            List<Socket> slow = new ArrayList<>();
            long heapBefore = Attacker.heapAfterGc();
            for (int i = 0; i < 150; i++) {
                Socket s = new Socket("127.0.0.1", Integer.parseInt(admin.substring(admin.lastIndexOf(':') + 1)));
                s.getOutputStream().write(("GET /status HTTP/1.1\r\nHost: " + admin + "\r\nX-Slow: ").getBytes());
                slow.add(s);
            }
            long t0 = System.nanoTime();
            assertEquals(200, http(admin, "GET /status HTTP/1.1\r\n" + ok + "\r\n"), "status beside 150 slow clients");
            assertTrue(System.nanoTime() - t0 < 3_000_000_000L, "status answered promptly");
            assertTrue(Attacker.heapAfterGc() - heapBefore < 64 << 20, "slow clients cost little memory");
            Socket last = slow.get(slow.size() - 1);
            last.setSoTimeout(15_000);
            assertEquals(-1, last.getInputStream().read(), "a slow client is closed by the request deadline");
            for (Socket s : slow) {
                s.close();
            }
        }
    }

    @Test
    void lunSizesAndNamesThatWouldPoisonTheArrayAreRefused() throws Exception {
        try (ArrayServer a = ArrayServer.start(config())) {
            String admin = a.controller("B").adminAddress();
            String ok = "Host: " + admin + "\r\nAuthorization: Bearer " + Files.readString(dir.resolve("admin.token")).strip()
                + "\r\nContent-Type: application/json\r\n";
            byte[] before = Files.readAllBytes(dir.resolve("array.json"));
            for (String body : List.of("{\"name\":\"../escape\",\"size\":\"1M\"}", "{\"name\":\"x\",\"size\":\"8388607T\"}",
                "{\"name\":\"x\",\"bytes\":-512}", "{\"name\":\"x\",\"size\":\"1M\",\"owner\":\"C\"}",
                "{\"name\":\"x\",\"size\":\"1M\",\"backend\":\"tape\"}", "{\"name\":\"x\",\"size\":\"100\"}",
                "{\"name\":\"lun0\",\"size\":\"1M\"}", "[1,2]", "{\"name\":\"x\",\"size\":\"1M\",\"allowedHosts\":[\"a b\"]}",
                "{\"name\":{\"x\":1},\"size\":\"1M\"}", "{\"name\":\"x\",\"bytes\":1048576.5}",
                "{\"name\":\"x\",\"bytes\":1e30}", "{\"name\":\"x\",\"bytes\":\"1M\"}", "{\"name\":\"x\",\"size\":\"1e30\"}",
                "{\"name\":\"x\",\"size\":\"1M\",\"allowedHosts\":[{}]}", "{\"name\":\"x\",\"size\":[\"1M\"]}")) {
                int code = http(admin, "POST /luns HTTP/1.1\r\n" + ok + "Content-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body);
                assertTrue(code == 400 || code == 409, body + " answered " + code);
                assertArrayEquals(before, Files.readAllBytes(dir.resolve("array.json")), body + " left the metadata alone");
            }
            assertFalse(Files.exists(dir.resolve("escape.img")) || Files.exists(dir.resolve("luns/x.img")),
                "a refused create leaves no drive behind");
            String good = "{\"name\":\"fine\",\"size\":\"4M\",\"owner\":\"B\"}";
            assertEquals(200, http(admin, "POST /luns HTTP/1.1\r\n" + ok + "Content-Length: " + good.length() + "\r\n\r\n"
                + good), "a later create works");
            String resize = "{\"size\":\"8388607T\"}";
            assertEquals(400, http(admin, "POST /luns/fine/resize HTTP/1.1\r\n" + ok + "Content-Length: "
                + resize.length() + "\r\n\r\n" + resize));
        }
        try (ArrayServer again = ArrayServer.start(config())) {
            assertNotNull(again.metadata().load().byName("fine"), "the array starts again with every good LUN");
        }
    }

    @Test
    void faultValuesOutsideTheirRangeAreRefusedAndChangeNothing() throws Exception {
        try (ArrayServer a = ArrayServer.start(config())) {
            String admin = a.controller("A").adminAddress();
            String port = a.controller("A").portAddresses().get(0);
            String ok = "Host: " + admin + "\r\nAuthorization: Bearer " + Files.readString(dir.resolve("admin.token")).strip()
                + "\r\nContent-Type: application/json\r\n";
            for (String value : List.of("1e30", "-1", "1.5", "\"NaN\"", "\"1f\"", "{}", "600001")) {
                for (String verb : List.of("latency", "flaky")) {
                    // 1.5 is refused as latency (not whole); a rate needs a value past 1 instead
                    String v = verb.equals("flaky") && value.equals("1.5") ? "2" : value;
                    for (String target : verb.equals("latency") ? List.of(port, "link") : List.of(port)) {
                        String body = "{\"verb\":\"" + verb + "\",\"target\":\"" + target + "\",\"value\":" + v + "}";
                        assertEquals(400, http(admin, "POST /faults HTTP/1.1\r\n" + ok + "Content-Length: " + body.length()
                            + "\r\n\r\n" + body), body);
                    }
                }
            }
            String status = a.controller("A").localStatus().toString();
            assertFalse(java.util.regex.Pattern.compile("latencyMs=(?!0[,}])|flakyRate=(?!0\\.0[,}])").matcher(status).find(),
                "no latency or flakiness was set: " + status);
            String fine = "{\"verb\":\"flaky\",\"target\":\"" + port + "\",\"value\":0.25}";
            assertEquals(200, http(admin, "POST /faults HTTP/1.1\r\n" + ok + "Content-Length: " + fine.length() + "\r\n\r\n"
                + fine));
        }
    }

    @Test
    void aHandEditedMetadataFileIsRefusedWithAClearError() throws Exception {
        try (ArrayServer a = ArrayServer.start(config())) {
            assertNotNull(a.metadata().load().byName("lun0"));
        }
        Path meta = dir.resolve("array.json");
        String good = Files.readString(meta);
        for (String[] edit : new String[][] {{"\"name\" : \"lunb\"", "\"name\" : \"../../etc/lunb\"", "bad LUN name"},
                {"\"name\" : \"lunb\"", "\"name\" : \"lun0\"", "used twice"},
                {"\"bytes\" : 16777216", "\"bytes\" : 9223372036854775807", "size"},
                {"\"owner\" : \"B\"", "\"owner\" : \"Z\"", "owner"},
                {"\"hosts\" : [ ]", "\"hosts\" : [ {\"nqn\" : \"nqn.evil host\", \"hostId\" : \"00\"} ]",
                    "registered host"}}) {
            assertTrue(good.contains(edit[0]), "fixture has " + edit[0]);
            Files.writeString(meta, good.replace(edit[0], edit[1]));
            IOException e = assertThrows(IOException.class, () -> ArrayServer.start(config()).close(), edit[1]);
            assertTrue(e.getMessage().contains(meta.toString()) && e.getMessage().contains(edit[2]), e.getMessage());
        }
        Files.writeString(meta, good);
        try (ArrayServer a = ArrayServer.start(config())) {
            assertNotNull(a.metadata().load().byName("lunb"));
        }
    }

    @Test
    void driveFilesThatAreLinksShortMissingOrInTheWayAreRefusedAndNeverWrittenThrough() throws Exception {
        try (ArrayServer a = ArrayServer.start(config())) {
            assertNotNull(a.metadata().load().byName("lunb"));
        }
        Path drive = io.jmpio.emu.store.BackingStores.filePath(dir, "lunb");
        Path elsewhere = dir.resolveSibling(dir.getFileName() + "-victim");
        Files.writeString(elsewhere, "someone else's file\n");
        Path kept = dir.resolveSibling(dir.getFileName() + "-lunb.img");
        Files.move(drive, kept);
        String[][] cases = {{"link", "symbolic link"}, {"short", "holds 4096 bytes"}, {"missing", "is missing"}};
        for (String[] c : cases) {
            Files.deleteIfExists(drive);
            switch (c[0]) {
                case "link":
                    Files.createSymbolicLink(drive, elsewhere);
                    break;
                case "short":
                    Files.write(drive, new byte[4096]);
                    break;
                default:
                    break;
            }
            IOException why = assertThrows(IOException.class,
                () -> io.jmpio.emu.store.BackingStores.open("file", dir, "lunb", 16 << 20), c[0]);
            assertTrue(why.getMessage().contains(c[1]), why.getMessage());
            try (ArrayServer a = ArrayServer.start(config())) {
                // the LUN stays offline, named in the log; the others are served
                assertTrue(a.controller("A").lunRecords().stream().noneMatch(r -> r.name().equals("lunb")), c[0]);
                assertTrue(a.controller("A").lunRecords().stream().anyMatch(r -> r.name().equals("lun0")), c[0]);
                assertNotNull(a.metadata().load().byName("lunb"), "the record stays for the drive to be restored");
            }
            assertEquals("someone else's file\n", Files.readString(elsewhere), "written through a link");
            if (c[0].equals("short")) {
                assertEquals(4096, Files.size(drive), "a short drive was extended with zeroes");
            }
            if (c[0].equals("missing")) {
                assertFalse(Files.exists(drive), "a missing drive was made anew, empty");
            }
        }
        Files.move(kept, drive);
        try (ArrayServer a = ArrayServer.start(config())) {
            assertTrue(a.controller("A").lunRecords().stream().anyMatch(r -> r.name().equals("lunb")), "restored");
            // a drive file no LUN records is in the way of a new LUN of its name: refused, and left as it was
            Path orphan = io.jmpio.emu.store.BackingStores.filePath(dir, "orphan");
            Files.writeString(orphan, "data of a LUN deleted in a crash");
            IOException e = assertThrows(IOException.class,
                () -> a.controller("A").createLun(LunSpec.parse("orphan:1M:A", "A", "file")));
            assertTrue(e.getMessage().contains("already exists"), e.getMessage());
            assertEquals("data of a LUN deleted in a crash", Files.readString(orphan));
            assertNull(a.metadata().load().byName("orphan"), "a refused create leaves no record");
        }
    }

    @Test
    void aJournalWithACorruptMiddleRecordKeepsEveryOtherAcknowledgedWrite() throws Exception {
        byte[][] blocks = {random(11), random(12), random(13)};
        ArrayServer a = ArrayServer.start(config().destageIntervalMillis(600_000));
        try (Harness.Host h = new Harness.Host(a, port(a, "A", 0), "journal")) {
            await("link up", 5000, () -> a.controller("A").peerState() == PeerState.ALIVE);
            Thread.sleep(500); // the pair has synchronised: writes are cached and mirrored, not written through
            for (int i = 0; i < 3; i++) {
                h.writeRetrying(i * 4096L, blocks[i]);
            }
        }
        a.crash();
        List<Path> segments = new ArrayList<>();
        try (var s = Files.newDirectoryStream(dir.resolve("nvram").resolve("A"), "*.log")) {
            s.forEach(segments::add);
        }
        boolean corrupted = false;
        for (Path seg : segments) {
            byte[] b = Files.readAllBytes(seg);
            int at = indexOf(b, java.util.Arrays.copyOf(blocks[1], 64));
            if (at >= 0) {
                b[at + 100] ^= 0x40;
                Files.write(seg, b);
                corrupted = true;
            }
        }
        assertTrue(corrupted, "the middle write is in the journal");
        try (ArrayServer again = ArrayServer.start(config());
             Harness.Host h = new Harness.Host(again, port(again, "A", 0), "after")) {
            assertArrayEquals(blocks[0], h.read(0, 4096), "the record before the damaged one is replayed");
            assertArrayEquals(blocks[2], h.read(8192, 4096), "the record after the damaged one is replayed");
            assertFalse(java.util.Arrays.equals(blocks[1], h.read(4096, 4096)), "the damaged record is not replayed");
        }
    }

    @Test
    void hostsThatNeverReadSendHalfFramesOrOpenThousandsOfConnectionsCostBoundedMemory() throws Exception {
        try (ArrayServer a = ArrayServer.start(config())) {
            await("link up", 5000, () -> a.controller("A").peerState() == PeerState.ALIVE);
            try (VerifiedWorkload work = new VerifiedWorkload(a, port(a, "A", 0))) {
                int lun0 = a.metadata().load().byName("lun0").id();
                long heapBefore = Attacker.heapAfterGc();
                // 1. a host that asks for 3 GiB of reads and never reads a reply
                Harness.Host deaf = new Harness.Host(a, port(a, "A", 1), "deaf");
                String p = port(a, "A", 1);
                byte[] reads = new byte[72 * 3072];
                for (int i = 0; i < 3072; i++) {
                    java.nio.ByteBuffer sqe = deaf.io.sqe(0x02, 1, 0x5A, 1 << 20);
                    sqe.putLong(40, (i % 60) * 2048L).putInt(48, 2047);
                    byte[] pdu = new byte[72];
                    pdu[0] = 0x04; // CapsuleCmd, HLEN 72, PLEN 72
                    pdu[2] = 72;
                    pdu[4] = 72;
                    System.arraycopy(sqe.array(), 0, pdu, 8, 64);
                    System.arraycopy(pdu, 0, reads, i * 72, 72);
                }
                Thread writer = new Thread(() -> {
                    try {
                        deaf.io.out.write(reads);
                    } catch (IOException ignored) {
                        // the array stopped reading, or closed a queue that overran its size: what is expected
                    }
                });
                writer.setDaemon(true);
                writer.start();
                Thread.sleep(3000);
                long grown = Attacker.heapAfterGc() - heapBefore;
                assertTrue(grown < 400L << 20, "a host that never reads costs bounded memory: grew "
                    + (grown >> 20) + " MiB for 3 GiB of reads asked");

                // 2. half PDUs: an ICReq cut short, then silence
                try (Attacker half = new Attacker(port(a, "A", 0))) {
                    byte[] icreq = new byte[128];
                    icreq[2] = (byte) 128;
                    icreq[4] = (byte) 128;
                    half.send(java.util.Arrays.copyOf(icreq, 30));
                    assertTrue(half.closedByPeer(), "a PDU left unfinished is closed after the partial-PDU limit");
                }
                // 3. a flood of connections: past the limit they are closed at once; the workload goes on
                List<Socket> crowd = new ArrayList<>();
                for (int i = 0; i < 1000; i++) {
                    Socket s = new Socket("127.0.0.1", Integer.parseInt(p.substring(p.indexOf(':') + 1)));
                    s.setSoTimeout(20);
                    crowd.add(s);
                }
                int refused = 0;
                List<Socket> open = new ArrayList<>(crowd);
                long until = System.currentTimeMillis() + 10_000;
                while (open.size() > 64 && System.currentTimeMillis() < until) {
                    for (java.util.Iterator<Socket> it = open.iterator(); it.hasNext(); ) {
                        Socket s = it.next();
                        try {
                            if (s.getInputStream().read() < 0) {
                                refused++;
                                it.remove();
                            }
                        } catch (java.net.SocketTimeoutException e) {
                            // still open (so far)
                        } catch (IOException e) {
                            refused++;
                            it.remove();
                        }
                    }
                }
                assertTrue(refused >= 1000 - 64, "connections beyond the limit are closed (" + refused + " of 1000)");
                for (Socket s : crowd) {
                    s.close();
                }
                deaf.close();
                writer.join(5000);
                work.verify();
                assertTrue(work.writes() > 10, "the legitimate host kept writing: " + work.writes());
            }
        }
    }

    @Test
    void hostsThatAskForWriteDataRoomAndNeverSendTheDataHoldBoundedMemoryAndAreCutOff() throws Exception {
        // 8 s for a transfer's data (and a PDU's): long enough to measure the heap while the attack holds
        try (ArrayServer a = ArrayServer.start(config().partialFrameMillis(8000))) {
            await("link up", 5000, () -> a.controller("A").peerState() == PeerState.ALIVE);
            try (VerifiedWorkload work = new VerifiedWorkload(a, port(a, "A", 0))) {
                long heapBefore = Attacker.heapAfterGc();
                // six hosts, one queue each, 32 writes of 4 MiB (MDTS) each sent by R2T: 768 MiB of room asked
                // for, no byte of it ever sent
                int megs = 4 << 20;
                List<Harness.Host> attackers = new ArrayList<>();
                for (int h = 0; h < 6; h++) {
                    Harness.Host host = new Harness.Host(a, port(a, "A", 1), "hoarder-" + h);
                    attackers.add(host);
                    for (int i = 0; i < 32; i++) {
                        host.io.sendWriteByR2t(1, i % 8 * (megs / 512L), megs);
                    }
                }
                int r2ts = 0;
                boolean[] heldRoom = new boolean[attackers.size()];
                for (int h = 0; h < attackers.size(); h++) {
                    Harness.Host host = attackers.get(h);
                    host.io.socket.setSoTimeout(300);
                    try {
                        while (true) {
                            assertEquals(0x09, host.io.readPdu()[0],
                                "the array answers a hoarder only with R2Ts while it waits");
                            r2ts++;
                            heldRoom[h] = true;
                        }
                    } catch (java.net.SocketTimeoutException e) {
                        // no more for now: the rest wait for room
                    }
                }
                long grown = Attacker.heapAfterGc() - heapBefore;
                assertTrue(r2ts <= 32, "at most 128 MiB of R2T data is asked for at once, all hosts together: " + r2ts
                    + " R2Ts of 4 MiB");
                assertTrue(r2ts >= 16, "the first hosts get their R2Ts: " + r2ts);
                assertTrue(grown < 400L << 20, "hosts asking for 768 MiB of room cost bounded memory: grew "
                    + (grown >> 20) + " MiB");

                // a well-behaved host's write by R2T waits for room, then is served once the hoarders that sent
                // nothing for the limit are cut off
                try (Harness.Host good = new Harness.Host(a, port(a, "A", 0), "patient")) {
                    byte[] data = Harness.random(256 << 10, 77);
                    good.io.socket.setSoTimeout(60_000);
                    // as Linux's host does, Namespace Not Ready (waited for room past the limit) is retried
                    long until = System.currentTimeMillis() + 60_000;
                    int status;
                    do {
                        status = good.tryWrite(40L << 20, data, false).status();
                    } while (status == Harness.Host.NS_NOT_READY && System.currentTimeMillis() < until);
                    assertEquals(0, status, "the patient host's write: status " + Integer.toHexString(status));
                    assertArrayEquals(data, good.read(40L << 20, data.length), "the patient host's write");
                }
                for (int h = 0; h < attackers.size(); h++) {
                    Harness.Host host = attackers.get(h);
                    if (!heldRoom[h]) {
                        host.close(); // its writes waited for room past the limit: answered "not ready"
                        continue;
                    }
                    host.io.socket.setSoTimeout(15_000);
                    try {
                        while (true) {
                            host.io.readPdu(); // "not ready" answers, until the connection is closed
                        }
                    } catch (java.net.SocketTimeoutException e) {
                        fail("hoarder " + h + " held room, sent nothing and was not cut off");
                    } catch (IOException e) {
                        // cut off
                    }
                    host.close();
                }
                work.verify();
                assertTrue(work.writes() > 10, "the legitimate host kept writing: " + work.writes());
            }
        }
    }

    /** Sends one raw HTTP request; returns the status code (or -1 if the connection closed without one). */
    private static int http(String hostPort, String request) throws IOException {
        int colon = hostPort.lastIndexOf(':');
        try (Socket s = new Socket(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)))) {
            s.setSoTimeout(15_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            byte[] head = new byte[12];
            int n = 0;
            while (n < 12) {
                int r = s.getInputStream().read(head, n, 12 - n);
                if (r < 0) {
                    return -1;
                }
                n += r;
            }
            return Integer.parseInt(new String(head, 9, 3, StandardCharsets.US_ASCII));
        } catch (java.net.SocketException e) {
            return -1;
        }
    }

    private static byte[] random(long seed) {
        return Harness.random(4096, seed);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
