package io.jmpio.emu.controller;

import static io.jmpio.emu.controller.SyncedPair.await;
import static io.jmpio.emu.controller.SyncedPair.block;
import static io.jmpio.emu.controller.SyncedPair.owner;
import static io.jmpio.emu.controller.SyncedPair.read;
import static io.jmpio.emu.controller.SyncedPair.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An owner back from a pause serves its LUNs again only once its peer has seen it alive, and never while the
 * peer, having found it dead, takes them over: the soak found an owner that resumed half a second into a pause,
 * acknowledged writes, and lost them to the peer's takeover that committed a moment later.
 */
class OwnerFenceTest {
    /** Nobody finds anybody dead on its own: the test decides when B finds A dead. */
    private static final long LONG_TIMEOUT_MILLIS = 60_000;

    @TempDir
    Path dir;

    @Test
    void aResumedOwnerAcknowledgesNothingWhileItsPeerTakesItsLunsOver() throws Exception {
        try (ArrayServer array = SyncedPair.start(SyncedPair.config(dir).heartbeatTimeoutMillis(LONG_TIMEOUT_MILLIS))) {
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            byte[] older = block((byte) 0x11);
            assertEquals(Status.GOOD, write(a, 0, older).status(), "the first write is acknowledged (mirrored in B)");

            a.pause();
            // B finds the silent A dead; its takeover queues behind a task that holds B's ops thread
            CountDownLatch opsHeld = new CountDownLatch(1);
            CountDownLatch opsRelease = new CountDownLatch(1);
            CountDownLatch timerRelease = new CountDownLatch(1);
            try {
                b.ops.execute(() -> {
                    opsHeld.countDown();
                    awaitQuietly(opsRelease);
                });
                assertTrue(opsHeld.await(10, TimeUnit.SECONDS), "B's ops thread is held");
                onTimer(b, () -> b.monitor = new PeerMonitor(TimeUnit.MILLISECONDS.toNanos(1), b.clock.nanos()));
                await(() -> b.peerState() == PeerState.DEAD, "B finds the paused A dead");
                // B's verdict stays as it is: its timer is held too, so it sees nothing of A's resume
                onTimer(b, () -> b.monitor = new PeerMonitor(TimeUnit.MILLISECONDS.toNanos(LONG_TIMEOUT_MILLIS),
                    b.clock.nanos()));
                b.timer.execute(() -> awaitQuietly(timerRelease));

                a.resume();
                long resumedAt = a.clock.nanos();
                IoResult early = write(a, 0, block((byte) 0x22));
                assertEquals(Status.TRANSITIONING, early.status(),
                    "A, back from its pause, acknowledges no write before B has seen it alive");
                await(() -> a.lastTickNanos - resumedAt > TimeUnit.MILLISECONDS.toNanos(
                    3 * array.config().heartbeatIntervalMillis()), "A's timer ran rounds since the resume");
                assertTrue(a.luns.get(0).owned(), "A still owns lun0 by the metadata");
                assertEquals(Status.TRANSITIONING, write(a, 0, block((byte) 0x33)).status(),
                    "A acknowledges no write while B, which found it dead, has not taken over");

                opsRelease.countDown();
                await(() -> "B".equals(owner(array)), "B takes lun0 over");
                timerRelease.countDown();
                await(() -> !a.luns.get(0).owned() && !a.ownerFence.closed(),
                    "A re-reads ownership once B has seen it alive, and serves lun0 no more as its owner");
                assertArrayEquals(older, read(b, 0), "the takeover kept the last acknowledged write");
                byte[] newer = block((byte) 0x44);
                awaitGood(() -> write(a, 0, newer), "a write at A is shipped to the new owner B");
                assertArrayEquals(newer, read(b, 0));
            } finally {
                opsRelease.countDown();
                timerRelease.countDown();
            }
        }
    }

    @Test
    void anOwnerNobodyFoundDeadServesAgainOnceItsPeerHasSeenItAlive() throws Exception {
        try (ArrayServer array = SyncedPair.start(SyncedPair.config(dir).heartbeatTimeoutMillis(LONG_TIMEOUT_MILLIS))) {
            Controller a = array.controller("A");
            a.pause();
            a.resume();
            byte[] data = block((byte) 0x55);
            awaitGood(() -> write(a, 0, data), "A serves lun0 again once B has seen it alive");
            assertFalse(a.ownerFence.closed());
            assertEquals("A", owner(array));
            await(() -> a.peerSynced, "A mirrors its writes to B again (the resync the fence put off ran)");
            assertArrayEquals(data, read(array.controller("B"), 0));
        }
    }

    @Test
    void aMailboxWrittenBeforeTheFindingsWereAddedReadsAsNothingFound() throws Exception {
        Path box = dir.resolve("mailbox");
        Files.createDirectories(box);
        ByteBuffer old = ByteBuffer.allocate(Mailbox.DESTAGED_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        old.putLong(Mailbox.COUNTER_OFFSET, 7).putLong(Mailbox.WALL_MILLIS_OFFSET, 1).putLong(
            Mailbox.STARTED_WALL_MILLIS_OFFSET, 1).putLong(Mailbox.DESTAGED_UP_TO_OFFSET, 3);
        Files.write(box.resolve("B"), old.array());
        try (Mailbox a = new Mailbox(dir, "A", "B")) {
            Mailbox.PeerRecord peer = a.peer();
            assertEquals(new Mailbox.PeerRecord(7, -1, 0), peer);
            assertEquals(3, a.peerDestagedUpTo());
        }
    }

    private interface Io {
        IoResult run() throws Exception;
    }

    private static void awaitGood(Io io, String what) throws Exception {
        long until = System.nanoTime() + 30_000_000_000L;
        IoResult r = io.run();
        while (r.status() != Status.GOOD && System.nanoTime() < until) {
            Thread.sleep(20);
            r = io.run();
        }
        assertEquals(Status.GOOD, r.status(), what + ": " + Status.name(r.status()));
    }

    /** Runs {@code r} on the controller's timer thread, so its next rounds see what it set. */
    private static void onTimer(Controller c, Runnable r) throws Exception {
        c.timer.submit(r).get(10, TimeUnit.SECONDS);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
