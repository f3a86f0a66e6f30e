package io.jmpio.emu.controller;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A controller's disk heartbeat: {@code mailbox/<id>} in the data directory, little-endian:
 * <pre>
 *   0  u64 counter             incremented every heartbeat interval
 *   8  u64 wall millis         when this record was written
 *  16  u64 started wall millis when this run of the controller began (-1 in older files)
 *  24  i64 destaged up to      the cache slot up to which everything cached is on the drives (MIN_VALUE: none)
 *  32  i64 peer counter seen   the peer's counter as last seen here, while this controller neither finds the
 *                              peer dead nor is taking its LUNs over; -1 otherwise (and in older files)
 *  40  u64 peer deaths found   how often this controller has found the peer dead, over all its runs (0 in older
 *                              files)
 * </pre>
 * The peer reads it to tell a dead controller from a cut link, and when it takes over, replays only the
 * mirrored writes above the destaged mark: those at or below it are on the drives already, and may have been
 * overwritten there by newer writes the mirror never saw (written through while the link was down). A
 * restarting controller reads its own last write and the peer's start to tell whether the peer was running
 * when it stopped. A controller back from a pause or a freeze reads the last two fields to learn whether the
 * peer found it dead meanwhile before it serves its LUNs again (see {@link OwnerFence}).
 */
final class Mailbox implements AutoCloseable {
    static final int COUNTER_OFFSET = 0;
    static final int WALL_MILLIS_OFFSET = 8;
    static final int STARTED_WALL_MILLIS_OFFSET = 16;
    static final int DESTAGED_UP_TO_OFFSET = 24;
    static final int PEER_COUNTER_SEEN_OFFSET = 32;
    static final int PEER_DEATHS_OFFSET = 40;
    static final int LENGTH = 48;
    /** A file written before the peer's counter seen and deaths found were added. */
    static final int DESTAGED_LENGTH = 32;
    /** A file written before the start time was added: counter and wall time only. */
    static final int OLD_LENGTH = 16;

    private final FileChannel own;
    private final Path peer;
    private final ByteBuffer buf = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final long startedWallMillis = System.currentTimeMillis();
    private final long previousBeatWallMillis;
    private long counter;
    private long destagedUpTo;
    private long peerCounterSeen = -1;
    private long peerDeaths;

    /** The peer's mailbox as read at one instant (null fields never: absent ones read as in an older file). */
    record PeerRecord(long counter, long counterSeen, long deathsFound) {
    }

    Mailbox(Path dataDir, String selfId, String peerId) throws IOException {
        Path dir = dataDir.resolve("mailbox");
        Files.createDirectories(dir);
        this.own = FileChannel.open(dir.resolve(selfId), StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        this.peer = dir.resolve(peerId);
        ByteBuffer b = read(own);
        this.counter = b == null ? 0 : b.getLong(COUNTER_OFFSET);
        this.previousBeatWallMillis = b == null ? -1 : b.getLong(WALL_MILLIS_OFFSET);
        // carried over: slots only grow, and a mark of the previous run still holds for what it covered
        this.destagedUpTo = b == null ? Long.MIN_VALUE : b.getLong(DESTAGED_UP_TO_OFFSET);
        // carried over too: the peer tells a new finding from one it has accounted for by the count growing
        this.peerDeaths = b == null ? 0 : b.getLong(PEER_DEATHS_OFFSET);
    }

    /** The file's fields (at least counter and wall time), or null when it holds fewer bytes. */
    private static ByteBuffer read(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        int n = 0;
        while (b.hasRemaining()) {
            int r = ch.read(b, n);
            if (r <= 0) {
                break;
            }
            n += r;
        }
        if (n < OLD_LENGTH) {
            return null;
        }
        if (n < STARTED_WALL_MILLIS_OFFSET + 8) {
            b.putLong(STARTED_WALL_MILLIS_OFFSET, -1);
        }
        if (n < DESTAGED_LENGTH) {
            b.putLong(DESTAGED_UP_TO_OFFSET, Long.MIN_VALUE);
        }
        if (n < LENGTH) {
            b.putLong(PEER_COUNTER_SEEN_OFFSET, -1).putLong(PEER_DEATHS_OFFSET, 0);
        }
        return b;
    }

    /** When this controller's previous run last wrote its mailbox (wall-clock ms), or -1 if it never did. */
    long previousBeatWallMillis() {
        return previousBeatWallMillis;
    }

    synchronized void beat() throws IOException {
        counter++;
        write();
    }

    /** This controller's counter as last written (or carried over from its previous run). */
    synchronized long counter() {
        return counter;
    }

    /**
     * What this controller tells the peer it has seen of it, written now when it changed (a peer back from a pause
     * waits for it): the peer's counter while it neither finds the peer dead nor takes its LUNs over, else -1.
     */
    synchronized void peerCounterSeen(long peerCounter) throws IOException {
        if (peerCounter != peerCounterSeen) {
            peerCounterSeen = peerCounter;
            write();
        }
    }

    /**
     * This controller has found the peer dead and is about to take its LUNs over: written now, before the takeover
     * begins, so that a peer that was only frozen learns of it before it serves its LUNs again.
     */
    synchronized void peerFoundDead() throws IOException {
        peerDeaths++;
        peerCounterSeen = -1;
        write();
    }

    /**
     * Raises the destaged mark (everything cached up to {@code slot} is on the drives); written now when
     * {@code now} (the peer must see it before what depends on it is acknowledged), else at the next beat.
     */
    synchronized void destagedUpTo(long slot, boolean now) throws IOException {
        if (slot <= destagedUpTo) {
            return;
        }
        destagedUpTo = slot;
        if (now) {
            write();
        }
    }

    synchronized long destagedUpTo() {
        return destagedUpTo;
    }

    private void write() throws IOException {
        buf.clear();
        buf.putLong(counter).putLong(System.currentTimeMillis()).putLong(startedWallMillis).putLong(destagedUpTo)
            .putLong(peerCounterSeen).putLong(peerDeaths).flip();
        own.write(buf, 0);
    }

    /** The peer's counter, or -1 when it has never written one. */
    long peerCounter() {
        ByteBuffer b = readPeer();
        return b == null ? -1 : b.getLong(COUNTER_OFFSET);
    }

    /** When the peer last wrote its mailbox (wall-clock ms), or -1 when it never has. */
    long peerWallMillis() {
        ByteBuffer b = readPeer();
        return b == null ? -1 : b.getLong(WALL_MILLIS_OFFSET);
    }

    /** When the peer's current run began (wall-clock ms), or -1 when unknown. */
    long peerStartedWallMillis() {
        ByteBuffer b = readPeer();
        return b == null ? -1 : b.getLong(STARTED_WALL_MILLIS_OFFSET);
    }

    /** The peer's destaged mark: its mirrored writes at or below it are on the drives (MIN_VALUE: none known). */
    long peerDestagedUpTo() {
        ByteBuffer b = readPeer();
        return b == null ? Long.MIN_VALUE : b.getLong(DESTAGED_UP_TO_OFFSET);
    }

    /** The peer's record read at once, or null when it has never written one. */
    PeerRecord peer() {
        ByteBuffer b = readPeer();
        return b == null ? null : new PeerRecord(b.getLong(COUNTER_OFFSET), b.getLong(PEER_COUNTER_SEEN_OFFSET),
            b.getLong(PEER_DEATHS_OFFSET));
    }

    private ByteBuffer readPeer() {
        try (FileChannel ch = FileChannel.open(peer, StandardOpenOption.READ)) {
            return read(ch);
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        own.close();
    }
}
