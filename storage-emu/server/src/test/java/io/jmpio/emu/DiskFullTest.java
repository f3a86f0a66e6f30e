package io.jmpio.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jmpio.emu.array.ArrayServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The array's data directory fills up (a real file system, a small tmpfs, as root): writes the array cannot
 * journal are refused with a media error and never acknowledged, what it acknowledged stays readable, destage
 * retries without leaving a journal file per cycle behind, and once space is back the array writes, destages
 * and, restarted, serves every acknowledged write.
 */
class DiskFullTest {
    private static final int CHUNK = 64 << 10;
    @TempDir
    Path mount;
    private boolean mounted;

    @BeforeEach
    void mountSmallFileSystem() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounting a tmpfs needs root");
        mounted = run("mount", "-t", "tmpfs", "-o", "size=12m", "jmpio-test", mount.toString());
        assumeTrue(mounted, "cannot mount a tmpfs here");
    }

    @AfterEach
    void unmount() throws Exception {
        if (mounted) {
            run("umount", "-l", mount.toString());
        }
    }

    @Test
    void aFullDataDirectoryRefusesNewWritesAndLosesNoAcknowledgedOne() throws Exception {
        Path dir = mount.resolve("data");
        Map<Long, byte[]> acknowledged = new LinkedHashMap<>();
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            try (Harness.Host h = new Harness.Host(a, Harness.port(a, "A", 0), "filler")) {
                int refusedStatus = 0;
                for (long off = 0; off + CHUNK <= (64L << 20) && refusedStatus == 0; off += CHUNK) {
                    byte[] data = Harness.random(CHUNK, (int) (off / CHUNK));
                    int st = h.tryWrite(off, data, false).status();
                    if (st == 0) {
                        acknowledged.put(off, data);
                    } else if (!Harness.Host.isPathError(st)) {
                        refusedStatus = st;
                    }
                }
                assertEquals(0x280, refusedStatus & 0x7FF, "a write the full disk cannot take: Write Fault, status "
                    + Integer.toHexString(refusedStatus));
                assertTrue(acknowledged.size() > 16, "the disk held some writes first: " + acknowledged.size());

                // destage keeps failing for a while: it must not leave a journal segment behind per cycle
                long segmentsBefore = segments(dir);
                Thread.sleep(40 * 50); // forty destage cycles of 50 ms
                assertTrue(segments(dir) <= segmentsBefore + 1, "journal segments " + segmentsBefore + " -> "
                    + segments(dir));
                for (Map.Entry<Long, byte[]> e : acknowledged.entrySet()) {
                    assertArrayEquals(e.getValue(), h.read(e.getKey(), CHUNK), "acknowledged at " + e.getKey());
                }

                assertTrue(run("mount", "-o", "remount,size=256m", mount.toString()), "remount with room");
                long off = 48L << 20;
                byte[] data = Harness.random(CHUNK, 4242);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                int st;
                do {
                    st = h.tryWrite(off, data, false).status();
                } while (st != 0 && System.nanoTime() < deadline && sleep());
                assertEquals(0, st, "writes work again once there is room");
                acknowledged.put(off, data);
                assertEquals(0, h.flush(), "and a Flush destages everything");
            }
        }
        try (ArrayServer a = ArrayServer.start(Harness.config(dir));
             Harness.Host h = new Harness.Host(a, Harness.port(a, "A", 0), "reader")) {
            for (Map.Entry<Long, byte[]> e : acknowledged.entrySet()) {
                assertArrayEquals(e.getValue(), h.read(e.getKey(), CHUNK), "after a restart, acknowledged at " + e.getKey());
            }
        }
    }

    private static long segments(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("nvram").resolve("A"))) {
            return s.filter(p -> p.toString().endsWith(".log")).count();
        }
    }

    private static boolean sleep() {
        try {
            Thread.sleep(50);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static boolean run(String... command) throws IOException, InterruptedException {
        // the output goes to a file, not a pipe read to its end first: a command that hangs must hit the timeout
        java.nio.file.Path log = java.nio.file.Files.createTempFile("jmpio-cmd", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean finished = p.waitFor(30, TimeUnit.SECONDS);
            if (!finished) {
                p.destroyForcibly();
            }
            boolean ok = finished && p.exitValue() == 0;
            if (!ok) {
                System.err.println(String.join(" ", command) + (finished ? "" : " (did not finish in 30 s)") + ": "
                    + new String(java.nio.file.Files.readAllBytes(log)).strip());
            }
            return ok;
        } finally {
            java.nio.file.Files.deleteIfExists(log);
        }
    }
}
