package io.jmpio.emu;

import static io.jmpio.emu.Harness.await;
import static io.jmpio.emu.Harness.port;
import static io.jmpio.emu.Harness.quietly;
import static io.jmpio.emu.Harness.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jmpio.emu.Harness.Host;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunRecord;
import io.jmpio.emu.array.LunSpec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The emulator against real host connections on loopback. */
class EmulatorTest {
    @TempDir
    Path dir;

    private static String owner(ArrayServer a) throws IOException {
        return a.metadata().load().byName("lun0").owner();
    }

    /** The array's own view of one LUN's ports (its status), port address to ANA/ALUA label. */
    @SuppressWarnings("unchecked")
    private static java.util.Map<String, Object> portStates(ArrayServer a, String controller) {
        return (java.util.Map<String, Object>) ((java.util.Map<String, Object>) ((List<?>) a.controller(controller)
            .localStatus().get("luns")).get(0)).get("alua");
    }

    @Test
    void theOwnersPortsAreOptimizedThePeersNonOptimized() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir));
             Host viaB = new Host(a, port(a, "B", 1), "host-1");
             Host viaA = new Host(a, port(a, "A", 1), "host-1")) {
            await("peer link up", 5000, () -> quietly(() -> viaB.ana() == Host.ANA_NON_OPTIMIZED));
            assertEquals(Host.ANA_OPTIMIZED, viaA.ana());
            java.util.Map<String, Object> states = portStates(a, "B");
            assertEquals(4, states.size(), states.toString());
            assertEquals("active/optimized", states.get(port(a, "A", 0)));
            assertEquals("active/non-optimized", states.get(port(a, "B", 0)));
            assertTrue(viaB.serving());
        }
    }

    @Test
    void shippedWriteIsReadBackFromTheMirrorByItsRecordedPosition() throws Exception {
        // destage never runs and the position lease (the heartbeat timeout) outlasts a slow host
        try (ArrayServer a = ArrayServer.start(Harness.config(dir).destageIntervalMillis(3_600_000)
                .heartbeatTimeoutMillis(5000))) {
            try (Host viaB = new Host(a, port(a, "B", 0), "host-1"); Host viaA = new Host(a, port(a, "A", 0), "host-1")) {
                await("mirroring", 15_000, () -> Boolean.TRUE.equals(((java.util.Map<?, ?>) a.controller("A")
                    .localStatus().get("link")).get("mirroring")) && quietly(() -> viaB.serving()));
                byte[] data = random(64 * 1024, 1);
                viaB.write(1 << 20, data);
                long position = a.controller("B").shippedPosition("lun0", 1 << 20);
                assertTrue(position > 0, "B recorded the owner's storage position of the shipped write");
                assertEquals(position, a.controller("B").shippedPosition("lun0", (1 << 20) + data.length - 1));
                assertEquals(-1, a.controller("B").shippedPosition("lun0", 0));
                assertArrayEquals(data, viaB.read(1 << 20, data.length));
                assertEquals(1L, lunStat(a, "B", "shippedOut"), "the read was answered by B from its mirror");
                assertEquals(1L, lunStat(a, "B", "mirrorReads"));

                // a newer write at the owner (FUA: written through, and mirrored too) is what B then reads
                byte[] newer = random(8192, 2);
                viaA.write((1 << 20) + 4096, newer, true);
                byte[] expected = data.clone();
                System.arraycopy(newer, 0, expected, 4096, newer.length);
                assertArrayEquals(expected, viaB.read(1 << 20, data.length));
                assertEquals(2L, lunStat(a, "B", "mirrorReads"));
                assertArrayEquals(expected, viaA.read(1 << 20, data.length));

                // a range only partly written by shipped writes goes to the owner
                byte[] wider = viaB.read((1 << 20) - 4096, 8192);
                assertArrayEquals(java.util.Arrays.copyOfRange(data, 0, 4096), java.util.Arrays.copyOfRange(wider, 4096, 8192));
                assertEquals(2L, lunStat(a, "B", "shippedOut"));
                assertEquals(2L, lunStat(a, "B", "mirrorReads"));
                assertEquals(data.length + 8192L, lunStat(a, "B", "shippedOutBytes"));
                assertTrue(((Number) lunStats(a, "B").get("shipAddedLatencyP50Micros")).doubleValue() > 0);
            }
        }
    }

    @Test
    void shippedPositionsGoWhenTheOwnerDestages() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            try (Host viaB = new Host(a, port(a, "B", 0), "host-1")) {
                await("mirroring", 15_000, () -> Boolean.TRUE.equals(((java.util.Map<?, ?>) a.controller("A")
                    .localStatus().get("link")).get("mirroring")) && quietly(() -> viaB.serving()));
                byte[] data = random(16 * 1024, 3);
                viaB.write(0, data);
                assertTrue(a.controller("B").shippedPosition("lun0", 0) > 0);
                await("positions pruned at destage", 10_000, () -> a.controller("B").shippedPosition("lun0", 0) == -1
                    && ((Number) ((java.util.Map<?, ?>) ((List<?>) a.controller("B").localStatus().get("luns")).get(0))
                        .get("mirroredBytes")).longValue() == 0);
                assertArrayEquals(data, viaB.read(0, data.length));
                assertEquals(0L, lunStat(a, "B", "mirrorReads"), "nothing is read from a released mirror");
                assertEquals(2L, lunStat(a, "B", "shippedOut"));
            }
        }
    }

    @Test
    void unmirroredWriteWaitsUntilThePeerCannotReadAnOlderPosition() throws Exception {
        long lease = 3000; // the heartbeat timeout: how long B may answer reads from a shipped write's position
        try (ArrayServer a = ArrayServer.start(Harness.config(dir).destageIntervalMillis(3_600_000)
                .heartbeatTimeoutMillis(lease))) {
            try (Host viaB = new Host(a, port(a, "B", 0), "host-1"); Host viaA = new Host(a, port(a, "A", 0), "host-1")) {
                await("mirroring", 20_000, () -> Boolean.TRUE.equals(((java.util.Map<?, ?>) a.controller("A")
                    .localStatus().get("link")).get("mirroring")) && quietly(() -> viaB.serving()));
                byte[] old = random(4096, 4);
                long shippedAt = System.nanoTime();
                viaB.write(0, old);
                assertTrue(a.controller("B").shippedPosition("lun0", 0) > 0);

                // A can no longer mirror (nor tell B to drop the position): its write waits out B's lease
                a.controller("A").partitionLink();
                byte[] newer = random(4096, 5);
                viaA.write(0, newer);
                long ackedAfterMillis = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - shippedAt);
                assertTrue(ackedAfterMillis >= lease - 50, "acknowledged " + ackedAfterMillis + " ms after B's position"
                    + " was granted, inside its " + lease + " ms lease");
                SpecNvmeHost.Reply r = viaB.tryRead(0, 4096);
                assertFalse(r.status() == 0 && java.util.Arrays.equals(old, r.data()),
                    "B answered the acknowledged-over data from its mirror");
                a.controller("A").healLink();
                await("mirroring again", 30_000, () -> Boolean.TRUE.equals(((java.util.Map<?, ?>) a.controller("A")
                    .localStatus().get("link")).get("mirroring")));
                await("B reads the newer data", 30_000, () -> quietly(() -> {
                    SpecNvmeHost.Reply again = viaB.tryRead(0, 4096);
                    return again.status() == 0 && java.util.Arrays.equals(newer, again.data());
                }));
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static java.util.Map<String, Object> lunStats(ArrayServer a, String controller) {
        return (java.util.Map<String, Object>) ((java.util.Map<String, Object>) ((List<?>) a.controller(controller)
            .localStatus().get("luns")).get(0)).get("stats");
    }

    private static long lunStat(ArrayServer a, String controller, String name) {
        return ((Number) lunStats(a, controller).get(name)).longValue();
    }

    @Test
    void acknowledgedWriteStillInCacheSurvivesOwnerKill() throws Exception {
        // destage effectively never runs: the data lives only in A's cache and B's mirror
        try (ArrayServer a = ArrayServer.start(Harness.config(dir).destageIntervalMillis(3_600_000))) {
            byte[][] blocks = new byte[32][];
            try (Host viaA = new Host(a, port(a, "A", 0), "host-1")) {
                await("mirroring", 5000, () -> Boolean.TRUE.equals(((java.util.Map<?, ?>) a.controller("A")
                    .localStatus().get("link")).get("mirroring")));
                for (int i = 0; i < blocks.length; i++) {
                    blocks[i] = random(4096, 100 + i);
                    viaA.write(i * 8192L, blocks[i]);
                }
                assertTrue(((Number) ((java.util.Map<?, ?>) ((List<?>) a.controller("B").localStatus().get("luns"))
                    .get(0)).get("mirroredBytes")).longValue() >= 32 * 4096, "B holds the mirror");
            }
            a.controller("A").kill();
            try (Host viaB = new Host(a, port(a, "B", 0), "host-1")) {
                await("B took over", 5000, () -> quietly(() -> "B".equals(owner(a))
                    && viaB.serving()));
                for (int i = 0; i < blocks.length; i++) {
                    assertArrayEquals(blocks[i], viaB.read(i * 8192L, 4096), "block " + i);
                }
                assertEquals(Host.ANA_OPTIMIZED, viaB.ana());
                assertEquals("unavailable", portStates(a, "B").get(port(a, "A", 0)));
                assertTrue(a.metadata().load().byName("lun0").failedOver());
            }
        }
    }

    @Test
    void shippedWritesWhoseMirrorCopyTheNonOwnerKeptSurviveOwnerKill() throws Exception {
        // B ships in-capsule writes to A and keeps their mirror copies itself (A sends none back); destage never
        // runs, so after A dies only those copies hold the data
        try (ArrayServer a = ArrayServer.start(Harness.config(dir).destageIntervalMillis(3_600_000))) {
            byte[][] blocks = new byte[32][];
            byte[] streamed;
            try (Host viaB = new Host(a, port(a, "B", 0), "host-1")) {
                await("mirroring", 15_000, () -> Boolean.TRUE.equals(((java.util.Map<?, ?>) a.controller("A")
                    .localStatus().get("link")).get("mirroring")) && quietly(() -> viaB.serving()));
                for (int i = 0; i < blocks.length; i++) {
                    blocks[i] = random(4096, 200 + i);
                    viaB.write(i * 8192L, blocks[i]);
                }
                // one block overwritten: the mirror must hold the newer slot's copy
                blocks[7] = random(4096, 300);
                viaB.write(7 * 8192L, blocks[7]);
                // beyond the in-capsule size: streamed to A as the host sends it (R2T), the copy gathered on the way
                streamed = random(64 * 1024, 301);
                viaB.write(1 << 20, streamed);
                assertEquals(1L, lunStat(a, "B", "streamedWrites"));
                assertEquals(34L, lunStat(a, "B", "mirrorCopiesKept"), "B kept every shipped write's mirror copy");
                assertEquals(34L, lunStat(a, "B", "shippedOut"));
            }
            a.controller("A").kill();
            try (Host viaB = new Host(a, port(a, "B", 0), "host-1")) {
                await("B took over", 5000, () -> quietly(() -> "B".equals(owner(a)) && viaB.serving()));
                for (int i = 0; i < blocks.length; i++) {
                    assertArrayEquals(blocks[i], viaB.read(i * 8192L, 4096), "block " + i);
                }
                assertArrayEquals(streamed, viaB.read(1 << 20, streamed.length), "the streamed write");
            }
        }
    }

    @Test
    void failbackReturnsOwnershipToThePreferredOwnerAfterTheDelay() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            byte[] before = random(8192, 7);
            byte[] during = random(8192, 8);
            try (Host viaB = new Host(a, port(a, "B", 0), "host-1")) {
                await("link up", 5000, () -> quietly(() -> viaB.serving()));
                viaB.write(0, before);
                a.controller("A").kill();
                await("B took over", 5000, () -> quietly(() -> "B".equals(owner(a))));
                viaB.writeRetrying(65536, during);
                long epochWhileFailedOver = a.metadata().load().byName("lun0").epoch();
                a.controller("A").start();
                await("failback to A", 10_000, () -> quietly(() -> "A".equals(owner(a))));
                LunRecord r = a.metadata().load().byName("lun0");
                assertFalse(r.failedOver());
                assertTrue(r.epoch() > epochWhileFailedOver);
            }
            try (Host viaA = new Host(a, port(a, "A", 1), "host-1")) {
                await("A serving", 5000, () -> quietly(() -> viaA.serving()));
                assertArrayEquals(before, viaA.read(0, before.length));
                assertArrayEquals(during, viaA.read(65536, during.length));
                assertEquals(Host.ANA_OPTIMIZED, viaA.ana());
            }
        }
    }

    @Test
    void manualFailbackWaitsForAMove() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir).failback("manual"))) {
            a.controller("A").kill();
            await("B took over", 5000, () -> quietly(() -> "B".equals(owner(a))));
            a.controller("A").start();
            await("link up", 5000, () -> a.controller("B").peerState() == io.jmpio.emu.controller.PeerMonitor.PeerState.ALIVE);
            Thread.sleep(1000); // more than the failback delay
            assertEquals("B", owner(a), "manual failback must not move ownership by itself");
            var refused = org.junit.jupiter.api.Assertions.assertThrows(
                io.jmpio.emu.controller.Controller.NotOwnerException.class, () -> a.controller("A").moveLun("lun0", "A"));
            assertEquals("B", refused.owner, "only the owner moves a LUN; the admin endpoint forwards to it");
            await("B in sync with A", 5000, () -> Boolean.TRUE.equals(((java.util.Map<?, ?>) a.controller("B")
                .localStatus().get("link")).get("mirroring")));
            a.controller("B").moveLun("lun0", "A");
            assertEquals("A", owner(a));
        }
    }

    @Test
    void mostIoAtTheNonOwnerMovesOwnership() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir).autoTransferThreshold(0.75)
                .autoTransferWindowMillis(500).autoTransferMinIos(20));
             Host viaB = new Host(a, port(a, "B", 0), "host-1")) {
            await("link up", 5000, () -> quietly(() -> viaB.serving()));
            long changesBefore = viaB.anaChangeCount();
            byte[] data = random(4096, 3);
            long deadline = System.currentTimeMillis() + 10_000;
            while (!"B".equals(owner(a)) && System.currentTimeMillis() < deadline) {
                viaB.writeRetrying(0, data);
            }
            assertEquals("B", owner(a), "ownership moves to where the I/O arrives");
            assertFalse(a.metadata().load().byName("lun0").failedOver());
            assertArrayEquals(data, viaB.read(0, 4096));
            await("B optimized", 5000, () -> quietly(() -> viaB.ana() == Host.ANA_OPTIMIZED));
            assertTrue(viaB.anaChangeCount() > changesBefore, "the ANA log's change count moved with the owner");
        }
    }

    @Test
    void partitionedLinkWithBothControllersAliveGivesNoSplitBrain() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir));
             Host viaA = new Host(a, port(a, "A", 0), "host-1");
             Host viaB = new Host(a, port(a, "B", 0), "host-1")) {
            await("link up", 5000, () -> quietly(() -> viaB.serving()));
            long epoch = a.metadata().load().byName("lun0").epoch();
            a.controller("A").partitionLink();
            a.controller("B").partitionLink();
            await("B sees a partition", 5000, () -> quietly(() -> viaB.ana() == Host.ANA_INACCESSIBLE));
            Thread.sleep(1000); // several heartbeat timeouts: nobody may take over
            LunRecord r = a.metadata().load().byName("lun0");
            assertEquals("A", r.owner());
            assertEquals(epoch, r.epoch());
            byte[] data = random(4096, 11);
            viaA.write(4096, data); // the owner keeps serving (written through, no mirror)
            assertEquals(Host.ANA_INACCESSIBLE, viaB.ana());
            a.controller("A").healLink();
            a.controller("B").healLink();
            await("link healed", 5000, () -> quietly(() -> viaB.serving()));
            assertArrayEquals(data, viaB.read(4096, 4096));
            assertEquals("A", owner(a));
        }
    }

    @Test
    void pausedOwnerIsTakenOverAndFencedWhenItResumes() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir));
             Host viaA = new Host(a, port(a, "A", 0), "host-1");
             Host viaB = new Host(a, port(a, "B", 0), "host-1")) {
            await("link up", 5000, () -> quietly(() -> viaB.serving()));
            viaA.write(0, random(4096, 1));
            a.controller("A").pause();
            // a write that reaches A while it is paused waits; the host gives up on it and writes newer data
            // through B, which takes over meanwhile
            java.util.concurrent.CompletableFuture<SpecNvmeHost.Reply> held = java.util.concurrent.CompletableFuture
                .supplyAsync(() -> {
                    try {
                        return viaA.tryWrite(0, random(4096, 3), false);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
            await("B took over from the silent A", 5000, () -> quietly(() -> "B".equals(owner(a))));
            assertFalse(held.isDone(), "a paused controller answers nothing");
            byte[] newer = random(4096, 2);
            viaB.writeRetrying(0, newer);
            a.controller("A").resume();
            SpecNvmeHost.Reply late = held.get(5, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(Host.isPathError(late.status()), "the held write is answered with a path error (ANA "
                + "transition or inaccessible), not carried out over the newer data: status "
                + Integer.toHexString(late.status()));
            await("A ships to B again", 5000, () -> quietly(() -> viaA.serving()));
            assertArrayEquals(newer, viaA.read(0, 4096), "the resumed controller serves the survivor's data");
            assertArrayEquals(newer, viaB.read(0, 4096));
        }
    }

    @Test
    void aCommandHeldOverAPauseIsDroppedWhenItsHostHasGoneMeanwhile() throws Exception {
        // a long heartbeat timeout: nobody takes over, A is still the owner when it resumes
        try (ArrayServer a = ArrayServer.start(Harness.config(dir).heartbeatTimeoutMillis(60_000));
             Host viaA = new Host(a, port(a, "A", 0), "host-1")) {
            assertTrue(a.awaitLinked(10_000), "the controllers linked up");
            byte[] acknowledged = random(4096, 1);
            viaA.write(0, acknowledged);
            a.controller("A").pause();
            byte[] abandoned = random(4096, 2);
            java.nio.ByteBuffer sqe = viaA.io.sqe(0x01, viaA.nsid, 0x01, abandoned.length);
            sqe.putLong(40, 0).putInt(48, abandoned.length / 512 - 1);
            long before = connectionsOnFirstPort(a.controller("A"));
            viaA.io.sendCommand(sqe, abandoned);
            viaA.io.close(); // the host gives up on the write: its queue's connection ends
            // the close reaches A's event loop, which a pause does not stop
            await("A saw the queue's connection close", 5000,
                () -> connectionsOnFirstPort(a.controller("A")) == before - 1);
            a.controller("A").resume();
            try (Host again = new Host(a, port(a, "A", 0), "host-1")) {
                // the resumed owner serves once its peer has seen it alive: a path status until then
                assertArrayEquals(acknowledged, again.readRetrying(0, 4096),
                    "a write from a connection that had closed was carried out when the controller resumed");
            }
        }
    }

    private static long connectionsOnFirstPort(io.jmpio.emu.controller.Controller c) {
        java.util.List<?> ports = (java.util.List<?>) c.localStatus().get("ports");
        return ((Number) ((java.util.Map<?, ?>) ports.get(0)).get("connections")).longValue();
    }

    @Test
    void gracefulRestartKeepsEveryWrite() throws Exception {
        byte[] data = random(256 * 1024, 5);
        try (ArrayServer a = ArrayServer.start(Harness.config(dir).destageIntervalMillis(3_600_000));
             Host h = new Host(a, port(a, "B", 0), "host-1")) {
            await("link up", 5000, () -> quietly(() -> h.serving()));
            h.write(3 << 20, data);
        }
        try (ArrayServer a = ArrayServer.start(Harness.config(dir)); Host h = new Host(a, port(a, "A", 0), "host-1")) {
            assertArrayEquals(data, h.read(3 << 20, data.length));
        }
    }

    @Test
    void crashOfTheWholeArrayKeepsAcknowledgedWritesThroughTheJournal() throws Exception {
        byte[] data = random(128 * 1024, 6);
        ArrayServer a = ArrayServer.start(Harness.config(dir).destageIntervalMillis(3_600_000));
        try (Host h = new Host(a, port(a, "A", 0), "host-1")) {
            await("mirroring", 5000, () -> Boolean.TRUE.equals(((java.util.Map<?, ?>) a.controller("A")
                .localStatus().get("link")).get("mirroring")));
            h.write(5 << 20, data);
        } finally {
            a.crash();
        }
        byte[] onDisk = java.nio.file.Files.readAllBytes(dir.resolve("luns/lun0.img"));
        assertFalse(java.util.Arrays.equals(data, java.util.Arrays.copyOfRange(onDisk, 5 << 20, (5 << 20) + data.length)),
            "the write was only cached when the array crashed");
        try (ArrayServer b = ArrayServer.start(Harness.config(dir)); Host h = new Host(b, port(b, "A", 0), "host-1")) {
            assertArrayEquals(data, h.read(5 << 20, data.length));
        }
    }

    @Test
    void lunMaskingDeniesOtherHosts() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            LunRecord secret = a.controller("A").createLun(new LunSpec("secret", 1 << 20, "A", "memory",
                List.of(Harness.nqn("host-allowed"))));
            int nsid = secret.id() + 1;
            try (Host allowed = new Host(a, port(a, "A", 0), "host-allowed", nsid);
                 Host other = new Host(a, port(a, "A", 0), "host-other", nsid)) {
                assertEquals(0, allowed.tryRead(0, 4096).status());
                SpecNvmeHost.Reply denied = other.tryRead(0, 4096);
                assertEquals(0x00B, denied.sc(), "a masked namespace is an invalid namespace to others");
                assertTrue(denied.dnr());
                java.util.List<Integer> seen = other.activeNamespaces();
                assertFalse(seen.contains(nsid), "a masked namespace is not listed: " + seen);
                assertTrue(seen.contains(1), "lun0 is: " + seen);
                assertTrue(allowed.activeNamespaces().contains(nsid));
            }
        }
    }

    @Test
    void adminStatusFromEitherControllerListsControllersPortsLunsAndAlua() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            // both sides: B's ports are standby until B, too, has heard from A
            await("link up", 5000, () -> a.controller("A").peerState() == io.jmpio.emu.controller.PeerMonitor.PeerState.ALIVE
                && a.controller("B").peerState() == io.jmpio.emu.controller.PeerMonitor.PeerState.ALIVE);
            HttpClient http = HttpClient.newHttpClient();
            ObjectMapper json = new ObjectMapper();
            for (String c : List.of("A", "B")) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://"
                    + a.controller(c).adminAddress() + "/status")).header("Authorization", Harness.bearer(dir)).build(),
                    HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                JsonNode s = json.readTree(r.body());
                assertEquals(c, s.path("answeredBy").asText());
                assertEquals(2, s.path("controllers").size());
                for (JsonNode ctl : s.path("controllers")) {
                    assertEquals("running", ctl.path("state").asText());
                    assertEquals(2, ctl.path("ports").size());
                }
                JsonNode lun = s.path("luns").get(0);
                assertEquals("lun0", lun.path("name").asText());
                assertEquals("A", lun.path("owner").asText());
                assertEquals("active/optimized", lun.path("alua").path(port(a, "A", 0)).asText());
                assertEquals("active/non-optimized", lun.path("alua").path(port(a, "B", 1)).asText());
            }
            HttpResponse<String> bad = http.send(HttpRequest.newBuilder(URI.create("http://"
                + a.controller("B").adminAddress() + "/faults")).header("Authorization", Harness.bearer(dir))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                "{\"verb\":\"explode\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, bad.statusCode());
            assertTrue(bad.body().contains("unknown fault 'explode'"), bad.body());
            HttpResponse<String> kill = http.send(HttpRequest.newBuilder(URI.create("http://"
                + a.controller("B").adminAddress() + "/faults")).header("Authorization", Harness.bearer(dir))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                "{\"verb\":\"kill\",\"target\":\"A\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, kill.statusCode(), kill.body());
            assertEquals(io.jmpio.emu.controller.Controller.State.KILLED, a.controller("A").state());
        }
    }
}
