package io.jmpio.emu.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
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

    private FileBackingStore(Path path, FileChannel channel) {
        this.path = path;
        this.channel = channel;
    }

    /**
     * A new LUN's drive: a sparse file of {@code bytes} that must not exist yet (a file left there is another LUN's
     * data or someone else's, never silently taken over), created without following a symbolic link.
     */
    static FileBackingStore create(Path path, long bytes) throws IOException {
        Path dir = drivesDirectory(path);
        Files.createDirectories(dir);
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS);
        } catch (FileAlreadyExistsException e) {
            throw new FileAlreadyExistsException(path.toString(), null, "already exists though no LUN records it "
                + "(left by a LUN deleted in a crash, or put there by hand): move it away to create a LUN of this name");
        }
        try {
            extend(ch, bytes);
            return new FileBackingStore(path, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * The drive of a recorded LUN of {@code bytes}: a regular file (not a symbolic link: the array writes into it)
     * at least that long. A missing or shorter file is refused by name, never created or extended: its data would
     * be zeroes where the hosts wrote.
     */
    static FileBackingStore open(Path path, long bytes) throws IOException {
        drivesDirectory(path);
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new IOException("its drive file " + path + " is missing", e);
        }
        if (!a.isRegularFile()) {
            throw new IOException("its drive file " + path + " is not a regular file" + (a.isSymbolicLink()
                ? " but a symbolic link (the array does not write through links)" : ""));
        }
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE,
            LinkOption.NOFOLLOW_LINKS);
        try {
            long size = ch.size();
            if (size < bytes) {
                throw new IOException("its drive file " + path + " holds " + size + " bytes, less than the LUN's "
                    + bytes + " (truncated or replaced?); restore it, the array does not extend a drive it did not "
                    + "create");
            }
            return new FileBackingStore(path, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** The directory of the drive files, refused when it is a symbolic link (writes would land elsewhere). */
    private static Path drivesDirectory(Path file) throws IOException {
        Path dir = file.getParent();
        if (Files.isSymbolicLink(dir)) {
            throw new IOException(dir + " is a symbolic link; the array keeps its drives in a directory of its own");
        }
        return dir;
    }

    /** Grows the file to {@code bytes} sparsely: one zero byte written at the new end. */
    private static void extend(FileChannel ch, long bytes) throws IOException {
        if (bytes > ch.size()) {
            ch.write(ByteBuffer.allocate(1), bytes - 1);
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
            extend(channel, bytes);
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
