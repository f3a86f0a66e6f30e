package io.jmpio.emu.controller;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A controller's disk heartbeat: {@code mailbox/<id>} in the data directory holds a counter (u64, LE) the
 * controller increments every heartbeat interval, then the wall-clock milliseconds of the write (u64, LE), then
 * the wall-clock milliseconds at which this run of the controller began (u64, LE), then the cache slot up to which
 * everything the controller cached is on its drives (i64, LE: the destaged mark; the last two absent in older
 * files). The peer reads it to tell a dead controller from a cut link, and when it takes over, replays only the
 * mirrored writes above the destaged mark: those at or below it are on the drives already, and may have been
 * overwritten there by newer writes the mirror never saw (written through while the link was down). A
 * restarting controller reads its own last write and the peer's start to tell whether the peer was running
 * when it stopped.
 */
final class Mailbox implements AutoCloseable {
    static final int COUNTER_OFFSET = 0;
    static final int WALL_MILLIS_OFFSET = 8;
    static final int STARTED_WALL_MILLIS_OFFSET = 16;
    static final int DESTAGED_UP_TO_OFFSET = 24;
    static final int LENGTH = 32;
    /** A file written before the start time was added: counter and wall time only. */
    static final int OLD_LENGTH = 16;

    private final FileChannel own;
    private final Path peer;
    private final ByteBuffer buf = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final long startedWallMillis = System.currentTimeMillis();
    private final long previousBeatWallMillis;
    private long counter;
    private long destagedUpTo;

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
        if (n < LENGTH) {
            b.putLong(DESTAGED_UP_TO_OFFSET, Long.MIN_VALUE);
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
        buf.putLong(counter).putLong(System.currentTimeMillis()).putLong(startedWallMillis).putLong(destagedUpTo).flip();
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
