package io.jmpio.emu.controller;

import static io.jmpio.emu.controller.SyncedPair.await;
import static io.jmpio.emu.controller.SyncedPair.block;
import static io.jmpio.emu.controller.SyncedPair.read;
import static io.jmpio.emu.controller.SyncedPair.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.array.ArrayServer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The non-owner answers reads itself under the owner's read lease (shared media overlaid with its mirror), and
 * never with data older than the last acknowledged write: not for writes still in the owner's cache, not after a
 * write the owner could not mirror, not where it cannot see the owner's media.
 */
class LocalReadsTest {
    @TempDir
    Path dir;

    @Test
    void theNonOwnerAnswersReadsFromMediaAndMirrorOnceLeased() throws Exception {
        try (ArrayServer array = SyncedPair.start(dir)) {
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            Lun onB = b.luns.get(0);
            byte[] first = block((byte) 0x31);
            assertEquals(Status.GOOD, write(a, 0, first).status());
            await(() -> granted(a, b), "a read shipped from B brings back a lease");
            long local = onB.stats.localReads.sum();
            assertArrayEquals(first, read(b, 0), "the write dirty in A's cache is read at B from its mirror");
            assertArrayEquals(new byte[4096], read(b, 4096), "a block never written reads as the media holds it");
            assertEquals(local + 2, onB.stats.localReads.sum(), "both answered at B, not shipped");

            byte[] second = block((byte) 0x32);
            assertEquals(Status.GOOD, write(b, 0, second).status(), "a write at B is shipped to A, mirrored back");
            assertArrayEquals(second, read(b, 0));
            a.destager.cycle();
            await(() -> onB.mirror.isEmpty(), "destaged and released: B's mirror is empty");
            assertArrayEquals(second, read(b, 0), "the destaged write is read from the media");
        }
    }

    @Test
    void aWriteTheOwnerCouldNotMirrorEndsTheLeaseBeforeItIsAcknowledged() throws Exception {
        try (ArrayServer array = SyncedPair.start(dir)) {
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            Lun onB = b.luns.get(0);
            assertEquals(Status.GOOD, write(a, 0, block((byte) 0x41)).status());
            await(() -> granted(a, b), "B holds a lease");
            assertEquals(1, onB.mirror.size(), "B's mirror holds the write: an older copy than what comes next");

            a.peerSynced = false; // as when a mirror write fails: the next write goes to disk unmirrored
            byte[] newer = block((byte) 0x42);
            assertEquals(Status.GOOD, write(a, 0, newer).status());
            long local = onB.stats.localReads.sum();
            assertArrayEquals(newer, read(b, 0), "B overlaid its older mirror copy on the newer media");
            assertEquals(local, onB.stats.localReads.sum(), "the lease was revoked: the read was shipped");

            a.peerSynced = true;
            read(b, 0);
            assertEquals(local, onB.stats.localReads.sum(), "no lease again until a resync has emptied B's mirror");
            a.resync();
            await(() -> granted(a, b), "after the resync leases come back");
            assertArrayEquals(newer, read(b, 0));
        }
    }

    @Test
    void noLocalReadsWhereTheMediaIsNotTheOwnersOrWhenConfiguredToShip() throws Exception {
        try (ArrayServer array = SyncedPair.start(dir)) {
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            Lun onB = b.luns.get(0);
            await(() -> granted(a, b), "B holds a lease");
            b.peerInProcess = false; // a memory LUN of an owner in another process is other memory
            long local = onB.stats.localReads.sum();
            read(b, 0);
            assertEquals(local, onB.stats.localReads.sum(), "a memory LUN is read locally only with the owner in-process");
        }
    }

    @Test
    void leasesComeBackAfterTheOwnerRestartsThoughItsEarlierRunRevokedMany() throws Exception {
        try (ArrayServer array = SyncedPair.start(dir)) {
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            for (int i = 0; i < 3; i++) { // revocations: B now refuses leases of the generations they ended
                await(() -> granted(a, b), "B holds a lease");
                a.peerSynced = false;
                assertEquals(Status.GOOD, write(a, 0, block((byte) (0x50 + i))).status());
                a.peerSynced = true;
                a.resync();
            }
            byte[] last = block((byte) 0x5F);
            assertEquals(Status.GOOD, write(a, 0, last).status());
            a.restart(); // B takes over meanwhile and keeps what it learned of A's leases
            await(() -> "B".equals(SyncedPair.owner(array)), "B took over");
            await(() -> a.peerState == PeerMonitor.PeerState.ALIVE && b.peerSynced, "A is back and B in sync with it");
            b.moveLun("lun0", "A");
            await(() -> a.luns.get(0).owned() && b.luns.get(0).record.owner().equals("A"), "A owns the LUN again");
            a.resync();
            await(() -> granted(a, b), "the restarted owner's leases are taken: its generations start above its last run's");
            assertArrayEquals(last, read(b, 0));
        }
    }

    @Test
    void theOldOwnerReadsUnderTheNewOwnersLeaseAfterAMove() throws Exception {
        try (ArrayServer array = SyncedPair.start(dir)) {
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            Lun onA = a.luns.get(0);
            byte[] before = block((byte) 0x61);
            assertEquals(Status.GOOD, write(a, 0, before).status());
            a.moveLun("lun0", "B");
            await(() -> b.luns.get(0).owned() && !onA.owned(), "B owns the LUN");
            await(() -> granted(b, a), "A, the owner no more, reads under B's lease without waiting for a resync");
            long local = onA.stats.localReads.sum();
            assertArrayEquals(before, read(a, 0), "what A destaged at the move is on the media");
            byte[] after = block((byte) 0x62);
            assertEquals(Status.GOOD, write(b, 0, after).status());
            assertArrayEquals(after, read(a, 0), "B's write dirty in its cache is read at A from A's mirror");
            assertEquals(local + 2, onA.stats.localReads.sum(), "both answered at A");

            b.peerSynced = false; // a write B cannot mirror ends the lease before it is acknowledged
            byte[] unmirrored = block((byte) 0x63);
            assertEquals(Status.GOOD, write(b, 0, unmirrored).status());
            assertArrayEquals(unmirrored, read(a, 0), "shipped, not overlaid with the older mirror copy");
            assertEquals(local + 2, onA.stats.localReads.sum());
        }
    }

    @Test
    void aLunDeletedAndCreatedAgainUnderItsIdWhileThePeerWasFrozenIsANewLunThere() throws Exception {
        try (ArrayServer array = SyncedPair.start(dir)) {
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            assertEquals(Status.GOOD, write(a, 0, block((byte) 0x71)).status());
            await(() -> granted(a, b), "B holds a lease on lun0");
            b.pause(); // frozen: B hears of neither change
            a.deleteLun("lun0");
            io.jmpio.emu.array.LunRecord created = a.createLun(io.jmpio.emu.array.LunSpec.parse("fresh:16M:A", "A", "memory"));
            assertEquals(0, created.id(), "the new LUN takes the freed id");
            byte[] fresh = block((byte) 0x72);
            assertEquals(Status.GOOD, write(a, 0, fresh).status());
            b.resume();
            await(() -> "fresh".equals(b.luns.get(0).record.name()), "B re-read the metadata");
            await(() -> b.peerState == PeerMonitor.PeerState.ALIVE && a.peerSynced, "the pair is in sync again");
            await(() -> granted(a, b), "B holds a lease on the new LUN");
            assertArrayEquals(fresh, read(b, 0), "B reads the new LUN, not what it held of the deleted one");
            assertArrayEquals(new byte[4096], read(b, 4096));
        }
    }

    /** Reads at B until one is answered there (the first ones are shipped and bring the lease back). */
    private static boolean granted(Controller a, Controller b) {
        try {
            Lun onB = b.luns.get(0);
            long before = onB.stats.localReads.sum();
            read(b, 8192);
            return onB.stats.localReads.sum() > before;
        } catch (Exception | AssertionError notYet) {
            return false; // not answered (the LUN may still be transitioning): asked again
        }
    }

    @Test
    void shippingEveryReadIsAChoice() throws Exception {
        try (ArrayServer array = SyncedPair.start(SyncedPair.config(dir).nonOwnerReads("ship"))) {
            Controller b = array.controller("B");
            for (int i = 0; i < 20; i++) {
                read(b, 0);
            }
            assertEquals(0, b.luns.get(0).stats.localReads.sum(), "--non-owner-reads ship: every read shipped");
        }
    }

    @Test
    void readsAnsweredAtTheNonOwnerCountTowardTheImplicitTransferAndForgedCountsDoNot() throws Exception {
        // destage on its usual schedule (not the pair's hour): the move to B destages what A caches
        try (ArrayServer array = SyncedPair.start(SyncedPair.config(dir).destageIntervalMillis(
                new io.jmpio.emu.array.ArrayConfig().destageIntervalMillis()).autoTransferThreshold(0.75)
                .autoTransferWindowMillis(300).autoTransferMinIos(20))) {
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            Lun onA = a.luns.get(0);
            long epoch = onA.record.epoch();
            for (long forged : new long[] {1L << 40, -5}) {
                assertEquals(null, a.links.onRequest(io.jmpio.emu.link.LinkFrame.message(
                    io.jmpio.emu.link.LinkFrame.CHANNEL_MANAGEMENT, io.jmpio.emu.link.LinkFrame.MANAGEMENT,
                    io.jmpio.emu.link.LinkFrame.OP_LOCAL_READS, onA.id(), epoch, 0, forged, 0, null)));
            }
            assertEquals(null, a.links.onRequest(io.jmpio.emu.link.LinkFrame.message(
                io.jmpio.emu.link.LinkFrame.CHANNEL_MANAGEMENT, io.jmpio.emu.link.LinkFrame.MANAGEMENT,
                io.jmpio.emu.link.LinkFrame.OP_LOCAL_READS, 999, epoch, 0, 1000, 0, null)), "an unknown LUN");
            Thread.sleep(1000); // three windows
            assertEquals("A", SyncedPair.owner(array), "forged counts moved the LUN");

            // reads at B, nearly all answered there: only B's reports tell A where the I/O arrives
            long until = System.nanoTime() + 15_000_000_000L;
            while (!"B".equals(SyncedPair.owner(array)) && System.nanoTime() < until) {
                try {
                    read(b, 0);
                } catch (AssertionError | Exception moving) {
                    Thread.sleep(5); // answered "transitioning" while the LUN moves
                }
            }
            assertEquals("B", SyncedPair.owner(array), "ownership follows reads answered at the non-owner");
            assertTrue(b.luns.get(0).stats.localReads.sum() > 0, "reads were answered at B");
        }
    }

    @Test
    void aWriteNotMirroredJustAsMirroringResumesKeepsLeasesOff() throws Exception {
        try (ArrayServer array = SyncedPair.start(dir)) {
            Controller a = array.controller("A");
            Lun l = a.luns.get(0);
            await(() -> a.grants.grantReadLease(l) >= 0, "leases are granted after the resync");
            // a resync reads the generation, then mirroring resumes; a write whose mirror fails in between
            long generation = a.grants.generation(l);
            a.grants.revokeThrough(l, Long.MAX_VALUE - 1).get(10, java.util.concurrent.TimeUnit.SECONDS);
            a.grants.allowReadLeases(l, generation);
            assertEquals(-1, a.grants.grantReadLease(l), "the peer's mirror may hold an older copy than the media");
        }
    }

    @Test
    void aWriteNotMirroredAsAResyncBeginsStillRevokesTheLeaseThePeerHolds() throws Exception {
        try (ArrayServer array = SyncedPair.start(dir)) {
            Controller a = array.controller("A");
            Controller b = array.controller("B");
            assertEquals(Status.GOOD, write(a, 0, block((byte) 0x51)).status(), "mirrored: B's mirror has it");
            await(() -> granted(a, b), "B holds a lease");
            // a resync has begun (no more grants, writes unmirrored) but the peer has not had the reset yet
            a.peerSynced = false;
            a.grants.beginResync(a.luns.get(0));
            byte[] newer = block((byte) 0x52);
            assertEquals(Status.GOOD, write(a, 0, newer).status());
            assertArrayEquals(newer, read(b, 0), "B read its older mirror copy over the newer media");
        }
    }
}
