package io.jmpio.emu.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.BooleanSupplier;

/**
 * The controller tests' pair: one memory LUN owned by A, destage only when asked (so a write stays dirty), manual
 * failback (so ownership changes only when a test makes it), linked and mirroring before the test begins.
 */
final class SyncedPair {
    private SyncedPair() {
    }

    static ArrayServer start(Path dir) throws Exception {
        return start(config(dir));
    }

    /** The pair's configuration, for a test that changes one setting of it. */
    static ArrayConfig config(Path dir) {
        return new ArrayConfig().dataDir(dir).basePort(0).portsPerController(1).destageIntervalMillis(3_600_000)
            .failback("manual").lun(LunSpec.parse("lun0:16M:A", "A", "memory"));
    }

    static ArrayServer start(ArrayConfig config) throws Exception {
        ArrayServer array = ArrayServer.start(config);
        assertTrue(array.awaitLinked(30_000), "the controllers linked up");
        Controller a = array.controller("A");
        // until A is in sync with B, a write is written through rather than cached and mirrored
        await(() -> a.peerSynced, "A is in sync with B");
        return array;
    }

    static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long until = System.nanoTime() + 30_000_000_000L;
        while (!cond.getAsBoolean() && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertTrue(cond.getAsBoolean(), what);
    }

    static byte[] block(byte fill) {
        byte[] b = new byte[4096];
        Arrays.fill(b, fill);
        return b;
    }

    static IoResult write(Controller c, long offset, byte[] data) throws Exception {
        return c.hostIo(0, Opcode.WRITE, false, offset, data.length, Unpooled.wrappedBuffer(data), 0).get();
    }

    /**
     * Reads one block as a host would: TRANSITIONING is retried (a takeover's metadata names the new owner a moment
     * before the new owner has reloaded it and ends the transition), any other status fails the test.
     */
    static byte[] read(Controller c, long offset) throws Exception {
        long until = System.nanoTime() + 30_000_000_000L;
        IoResult r = c.hostIo(0, Opcode.READ, false, offset, 4096, null, 0).get();
        while (r.status() == Status.TRANSITIONING && System.nanoTime() < until) {
            r.releaseData();
            Thread.sleep(10);
            r = c.hostIo(0, Opcode.READ, false, offset, 4096, null, 0).get();
        }
        assertEquals(Status.GOOD, r.status(), "the read is answered");
        byte[] got = new byte[4096];
        r.data().readBytes(got);
        r.releaseData();
        return got;
    }

    static String owner(ArrayServer array) {
        try {
            return array.metadata().load().byName("lun0").owner();
        } catch (IOException e) {
            return null;
        }
    }
}
