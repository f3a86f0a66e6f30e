package io.jmpio.emu.array;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code array.json} in the data directory, shared by both controllers (like the configuration area arrays
 * keep on their drives). Updates are read-modify-write under a lock held across processes ({@code array.lock},
 * a file lock) and threads of this process, and land atomically: a temporary file, fsync, rename, fsync of
 * the directory. A reader never sees a half-written file.
 */
public final class MetadataStore {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataStore.class);
    /** How long the cross-process lock is waited for before the wait is reported. */
    private static final long LOCK_PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

    private final Path dir;
    private final Path file;
    private final ReentrantLock lock;

    public MetadataStore(Path dataDir) throws IOException {
        this.dir = dataDir.toAbsolutePath();
        Files.createDirectories(dir);
        this.file = dir.resolve("array.json");
        this.lock = LOCKS.computeIfAbsent(dir, k -> new ReentrantLock());
    }

    public Path file() {
        return file;
    }

    public ArrayMetadata load() throws IOException {
        if (!Files.exists(file)) {
            return ArrayMetadata.empty();
        }
        try {
            ArrayMetadata m = JSON.readValue(file.toFile(), ArrayMetadata.class);
            if (m.version() != ArrayMetadata.VERSION) {
                throw new IOException(file + ": unsupported metadata version " + m.version());
            }
            MetadataCheck.check(m, file);
            return m;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(file + " is not valid array metadata: " + e.getOriginalMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + " is not valid array metadata: " + e.getMessage(), e);
        }
    }

    /** Applies {@code change} to the current metadata and stores the result; returns it. */
    public ArrayMetadata update(UnaryOperator<ArrayMetadata> change) throws IOException {
        lock.lock();
        try (FileChannel lockFile = FileChannel.open(dir.resolve("array.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
             FileLock ignored = acquire(lockFile)) {
            ArrayMetadata next = change.apply(load());
            MetadataCheck.check(next, file); // nothing that could not be loaded again is ever written
            write(next);
            return next;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The cross-process lock, waited for without end (an update given up would leave the change unmade while its
     * caller, a takeover say, cannot do without it), but not silently: the other controller may hold it frozen
     * (paused, stopped by a debugger), and then that is the story of a stalled takeover.
     */
    private FileLock acquire(FileChannel lockFile) throws IOException {
        FileLock held = lockFile.tryLock();
        long since = System.nanoTime();
        boolean told = false;
        while (held == null) {
            if (!told && System.nanoTime() - since > LOCK_PATIENCE_NANOS) {
                LOG.warn("{} has been locked by another process for more than {} ms (a frozen or stuck controller?); "
                    + "still waiting to update the array metadata", dir.resolve("array.lock"),
                    TimeUnit.NANOSECONDS.toMillis(LOCK_PATIENCE_NANOS));
                told = true;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted waiting for " + dir.resolve("array.lock"));
            }
            held = lockFile.tryLock();
        }
        if (told) {
            LOG.warn("{} acquired after {} ms", dir.resolve("array.lock"), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since));
        }
        return held;
    }

    private void write(ArrayMetadata m) throws IOException {
        Path tmp = dir.resolve("array.json.tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(java.nio.ByteBuffer.wrap(JSON.writeValueAsBytes(m)));
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // some file systems cannot fsync a directory; the rename is still atomic
        }
    }
}
