package io.jmpio.bridge.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jmpio.api.KernelBridge;
import io.jmpio.core.Fixture;
import io.jmpio.core.MultipathConfig;
import io.jmpio.core.MultipathDevice;
import io.jmpio.core.NoPathRetry;
import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FUSE bridge as root against the real kernel: a loop device on the served file carries an ext4 file
 * system through mkfs, mount, writes, sync, unmount, e2fsck and a remount, also with the owning controller
 * killed mid-write; detach leaves nothing behind and never leaves a writer hanging.
 */
class FuseBridgeTest {
    @TempDir
    Path tmp;
    ArrayServer array;
    MultipathDevice device;
    KernelBridge bridge;
    Path fs;

    @BeforeEach
    void setUp() throws Exception {
        Assumptions.assumeTrue(FuseBridgeProvider.isRoot(), "FUSE mount and loop devices need root; run the tests as root");
        array = ArrayServer.start(new ArrayConfig().dataDir(tmp.resolve("array")).basePort(0).heartbeatIntervalMillis(50)
            .heartbeatTimeoutMillis(300).failbackDelayMillis(300).autoTransferThreshold(0).eventLoopThreads(2)
            .lun(LunSpec.parse("lun0:256M:A", "A", "file")));
        fs = tmp.resolve("fs");
        Files.createDirectories(fs);
    }

    private void attach(NoPathRetry noPathRetry, Map<String, String> options) throws Exception {
        if (!array.awaitLinked(10_000)) {
            throw new AssertionError("the controllers did not link up");
        }
        device = MultipathDevice.open(new MultipathConfig().transport("nvme-tcp").portal(array.controller("A").portAddresses().get(0)).name("lun0")
            .hostId("fuse-test").ioQueues(2).ioTimeoutMillis(1000).checkIntervalMillis(100).probeTimeoutMillis(500)
            .scanIntervalMillis(500).noPathRetry(noPathRetry));
        long deadline = System.currentTimeMillis() + 15_000;
        while (device.pathsUp() < 4) {
            assertTrue(System.currentTimeMillis() < deadline, "paths did not come up");
            Thread.sleep(50);
        }
        bridge = new FuseBridgeProvider().start(device, options);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (fs != null && mounted(fs)) {
            run(30, "umount", "-l", fs.toString());
        }
        Fixture.closeAll(bridge, device, array);
    }

    @Test
    void ext4OnTheLoopDeviceSurvivesRemountAndFsck() throws Exception {
        attach(NoPathRetry.FAIL, Map.of("mount", tmp.resolve("mnt").toString(), "loop", "true"));
        String loop = bridge.location();
        assertTrue(loop.startsWith("/dev/loop"), loop);
        assertTrue(run(10, "losetup", "--list", "--noheadings", "--output", "DIO", loop).trim().equals("1"),
            "loop attached with direct I/O");
        assertEquals(List.of("lun0"), List.of(tmp.resolve("mnt").toFile().list()));
        Map<String, String> sums = filesystemRoundTrip(loop, null);
        assertEquals(6, sums.size());
        bridge.close();
        assertFalse(run(10, "losetup", "--list", "--noheadings").contains(tmp.resolve("mnt").toString()), "loop device left");
        assertFalse(mounted(tmp.resolve("mnt")), "FUSE mount left");
    }

    @Test
    void ext4WritesCarryOnWhenTheOwnerIsKilled() throws Exception {
        attach(NoPathRetry.FAIL, Map.of("mount", tmp.resolve("mnt").toString(), "loop", "true"));
        filesystemRoundTrip(bridge.location(), () -> array.controller("A").kill());
        assertTrue(device.activeController().startsWith("P1") && device.activeController().length() == 3, "I/O moved to B's ports (P17, P18) after A was killed: " + device.activeController());
    }

    @Test
    void detachAnswersRequestsTheDeviceCannotFinish() throws Exception {
        detachWithAWriteWaiting(Map.of("mount", tmp.resolve("mnt").toString(), "shutdown-grace-ms", "500", "io-uring", "off"));
    }

    @Test
    void overIoUringTheFileSystemRoundTripsAndDetachAnswersWhatIsLeft() throws Exception {
        Path enable = Path.of(FuseLayout.ENABLE_URING);
        Assumptions.assumeTrue(Files.exists(enable), "this kernel has no FUSE over io_uring");
        String before = Files.readString(enable).trim();
        Files.writeString(enable, "1");
        try {
            attach(NoPathRetry.FAIL, Map.of("mount", tmp.resolve("mnt").toString(), "loop", "true"));
            assertTrue(String.valueOf(bridge.details().get("transport")).startsWith("io_uring ("), bridge.details().toString());
            assertEquals(6, filesystemRoundTrip(bridge.location(), null).size());
            bridge.close();
            assertFalse(mounted(tmp.resolve("mnt")), "FUSE mount left");
            bridge = null;
            device.close();
            device = null;
            detachWithAWriteWaiting(Map.of("mount", tmp.resolve("mnt").toString(), "shutdown-grace-ms", "500"));
        } finally {
            Files.writeString(enable, before.equals("Y") ? "1" : "0");
        }
    }

    @Test
    void theBridgeSaysWhichFuseTransportItChoseAndWhy() throws Exception {
        Path enable = Path.of(FuseLayout.ENABLE_URING);
        String before = Files.exists(enable) ? Files.readString(enable).trim() : null;
        try {
            if (before != null) {
                Files.writeString(enable, "0");
            }
            attach(NoPathRetry.FAIL, Map.of("mount", tmp.resolve("mnt").toString()));
            assertEquals("/dev/fuse", bridge.details().get("transport"));
            String why = String.valueOf(bridge.details().get("transportReason"));
            assertTrue(before == null ? why.contains("no FUSE over io_uring") : why.contains("switched off"), why);
            bridge.close();
            bridge = new FuseBridgeProvider().start(device, Map.of("mount", tmp.resolve("mnt2").toString(), "io-uring", "off"));
            assertEquals("io-uring=off", bridge.details().get("transportReason"));
            assertThrows(IllegalArgumentException.class, () -> new FuseBridgeProvider().start(device,
                Map.of("mount", tmp.resolve("mnt3").toString(), "io-uring", "sometimes")));
        } finally {
            if (before != null) {
                Files.writeString(enable, before.equals("Y") ? "1" : "0");
            }
        }
        assertEquals(2, FuseRings.possibleCpus("0-1"));
        assertEquals(9, FuseRings.possibleCpus("0-3,5,7-8"));
        assertEquals(1, FuseRings.possibleCpus("0"));
        assertThrows(IllegalArgumentException.class, () -> FuseRings.possibleCpus("x"));
    }

    private void detachWithAWriteWaiting(Map<String, String> options) throws Exception {
        attach(NoPathRetry.QUEUE, options);
        Path file = tmp.resolve("mnt/lun0");
        assertEquals(256L << 20, Files.size(file));
        // Both controllers paused: a direct write waits in the device's no-path queue.
        array.controller("A").pause();
        array.controller("B").pause();
        Process dd = new ProcessBuilder("dd", "if=/dev/zero", "of=" + file, "bs=4096", "count=1", "oflag=direct",
            "conv=notrunc").redirectErrorStream(true).start();
        assertFalse(dd.waitFor(1500, TimeUnit.MILLISECONDS), "the write should be waiting for a path");
        long t0 = System.nanoTime();
        bridge.close();
        assertTrue(dd.waitFor(10, TimeUnit.SECONDS), "writer left hanging after detach");
        assertTrue(dd.exitValue() != 0, "the unfinished write must fail, not succeed");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
        assertFalse(mounted(tmp.resolve("mnt")), "FUSE mount left");
        array.controller("A").resume();
        array.controller("B").resume();
    }

    @Test
    void badMountPointIsNamedAndNothingIsLeft() throws Exception {
        Path notDir = Files.writeString(tmp.resolve("plain-file"), "x");
        IOException e = assertThrows(IOException.class,
            () -> attach(NoPathRetry.FAIL, Map.of("mount", notDir.toString(), "loop", "true")));
        assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
            () -> new FuseBridgeProvider().start(device, Map.of("mount", tmp.resolve("m2").toString(), "threads", "zero")));
        assertTrue(bad.getMessage().contains("threads must be a positive number"), bad.getMessage());
        assertFalse(mounted(tmp.resolve("m2")));
    }

    /**
     * mkfs.ext4, mount, six files of random data (the fault runs after the second), sync, unmount,
     * e2fsck -fn, remount and compare every checksum. Returns name to SHA-256.
     */
    private Map<String, String> filesystemRoundTrip(String blockDevice, Runnable fault) throws Exception {
        run(120, "mkfs.ext4", "-q", "-F", blockDevice);
        run(30, "mount", blockDevice, fs.toString());
        Map<String, String> sums = new LinkedHashMap<>();
        SplittableRandom rnd = new SplittableRandom(11);
        for (int i = 0; i < 6; i++) {
            byte[] data = new byte[(3 << 20) + rnd.nextInt(1 << 20)];
            rnd.nextBytes(data);
            Path f = fs.resolve("file" + i);
            Files.write(f, data);
            sums.put(f.getFileName().toString(), sha256(data));
            if (i == 1 && fault != null) {
                run(30, "sync");
                fault.run();
            }
        }
        run(120, "sync");
        run(60, "umount", fs.toString());
        // exit 0 (run() fails on anything else) and the summary line of a checked, consistent file system
        String fsck = run(120, "e2fsck", "-fn", blockDevice);
        assertTrue(fsck.matches("(?s).*: \\d+/\\d+ files \\(.*\\), \\d+/\\d+ blocks\\s*") && !fsck.contains("INCONSISTENCY"), fsck);
        run(30, "mount", blockDevice, fs.toString());
        for (Map.Entry<String, String> e : sums.entrySet()) {
            assertEquals(e.getValue(), sha256(Files.readAllBytes(fs.resolve(e.getKey()))), e.getKey());
        }
        run(60, "umount", fs.toString());
        return sums;
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    private static boolean mounted(Path p) throws IOException {
        String target = p.toAbsolutePath().toString();
        return Files.readAllLines(Path.of("/proc/self/mounts")).stream().anyMatch(l -> l.split(" ")[1].equals(target));
    }

    /** Runs a command; a non-zero exit fails the test with its output. */
    static String run(long seconds, String... cmd) throws Exception {
        // the output goes to a file, not a pipe read to its end first: a command that hangs must hit the timeout
        Path log = Files.createTempFile("jmpio-cmd", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(String.join(" ", cmd) + " did not finish in " + seconds + " s: "
                    + new String(Files.readAllBytes(log), StandardCharsets.UTF_8));
            }
            String out = new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                fail(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + out);
            }
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
