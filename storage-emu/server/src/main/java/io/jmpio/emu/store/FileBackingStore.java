package io.jmpio.emu.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/** A sparse file; both controllers open the same file, as both reach the same drives. */
final class FileBackingStore implements BackingStore {
    private static final int ZERO_CHUNK = 1 << 20;
    private static final byte[] ZEROES = new byte[ZERO_CHUNK];
    /** Ranges at least this long are deallocated with fallocate(1) instead of written with zeroes. */
    private static final long PUNCH_THRESHOLD = 4L << 20;

    private final Path path;
    private final FileChannel channel;

    FileBackingStore(Path path, long bytes) throws IOException {
        this.path = path;
        Files.createDirectories(path.getParent());
        this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        if (channel.size() < bytes) {
            channel.truncate(bytes); // no-op when growing; setLength below extends sparsely
            try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(path.toFile(), "rw")) {
                raf.setLength(bytes);
            }
        }
    }

    @Override
    public void read(long offset, byte[] dst, int dstOffset, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(dst, dstOffset, length);
        long pos = offset;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, pos);
            if (n < 0) {
                Arrays.fill(dst, buf.position(), dstOffset + length, (byte) 0);
                return;
            }
            pos += n;
        }
    }

    @Override
    public void write(long offset, byte[] src, int srcOffset, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(src, srcOffset, length);
        long pos = offset;
        while (buf.hasRemaining()) {
            pos += channel.write(buf, pos);
        }
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        if (length >= PUNCH_THRESHOLD && punchHole(offset, length)) {
            return;
        }
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            int n = (int) Math.min(ZERO_CHUNK, end - pos);
            write(pos, ZEROES, 0, n);
            pos += n;
        }
    }

    /** Java has no fallocate; util-linux's fallocate(1) deallocates the range and keeps the size. */
    private boolean punchHole(long offset, long length) throws IOException {
        channel.force(false);
        Process p = new ProcessBuilder("fallocate", "--punch-hole", "--keep-size", "--offset", Long.toString(offset),
            "--length", Long.toString(length), path.toString()).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while deallocating", e);
        }
    }

    @Override
    public void force() throws IOException {
        channel.force(false);
    }

    @Override
    public void resize(long bytes) throws IOException {
        if (bytes < channel.size()) {
            channel.truncate(bytes);
        } else {
            try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(path.toFile(), "rw")) {
                raf.setLength(bytes);
            }
        }
    }

    @Override
    public String kind() {
        return "file";
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
