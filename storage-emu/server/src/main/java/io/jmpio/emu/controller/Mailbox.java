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
 * controller increments every heartbeat interval, then the wall-clock milliseconds of the write (u64, LE).
 * The peer reads it to tell a dead controller from a cut link.
 */
final class Mailbox implements AutoCloseable {
    static final int COUNTER_OFFSET = 0;
    static final int WALL_MILLIS_OFFSET = 8;
    static final int LENGTH = 16;

    private final FileChannel own;
    private final Path peer;
    private final ByteBuffer buf = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private long counter;

    Mailbox(Path dataDir, String selfId, String peerId) throws IOException {
        Path dir = dataDir.resolve("mailbox");
        Files.createDirectories(dir);
        this.own = FileChannel.open(dir.resolve(selfId), StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        this.peer = dir.resolve(peerId);
        this.counter = readCounter(own);
    }

    private static long readCounter(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        int n = ch.read(b, 0);
        return n == LENGTH ? b.getLong(COUNTER_OFFSET) : 0;
    }

    synchronized void beat() throws IOException {
        counter++;
        buf.clear();
        buf.putLong(counter).putLong(System.currentTimeMillis()).flip();
        own.write(buf, 0);
    }

    /** The peer's counter, or -1 when it has never written one. */
    long peerCounter() {
        try (FileChannel ch = FileChannel.open(peer, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            return ch.read(b, 0) == LENGTH ? b.getLong(COUNTER_OFFSET) : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** When the peer last wrote its mailbox (wall-clock ms), or -1 when it never has. */
    long peerWallMillis() {
        try (FileChannel ch = FileChannel.open(peer, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            return ch.read(b, 0) == LENGTH ? b.getLong(WALL_MILLIS_OFFSET) : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public void close() throws IOException {
        own.close();
    }
}
