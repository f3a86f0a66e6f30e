package io.jmpio.emu.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Opens backing stores. Memory stores are kept per data directory and LUN name in this process, so the two
 * controllers of one process see the same memory "drives"; file stores are shared through the file itself.
 */
public final class BackingStores {
    public static final String FILE = "file";
    public static final String MEMORY = "memory";
    public static final String NULL = "null";

    private static final Map<String, MemoryBackingStore> MEMORY_STORES = new HashMap<>();

    private BackingStores() {
    }

    public static void checkKind(String kind) {
        if (!FILE.equals(kind) && !MEMORY.equals(kind) && !NULL.equals(kind)) {
            throw new IllegalArgumentException("unknown LUN backend '" + kind + "' (file, memory, null)");
        }
    }

    /** The backing file of a file-backed LUN. */
    public static Path filePath(Path dataDir, String lunName) {
        return dataDir.resolve("luns").resolve(lunName + ".img");
    }

    /** The store of a recorded LUN: a file-backed one's drive file must be there, whole (see {@link #create}). */
    public static BackingStore open(String kind, Path dataDir, String lunName, long bytes) throws IOException {
        return open(kind, dataDir, lunName, bytes, false);
    }

    /** A new LUN's store: a file-backed one gets a new drive file, which must not exist yet. */
    public static BackingStore create(String kind, Path dataDir, String lunName, long bytes) throws IOException {
        return open(kind, dataDir, lunName, bytes, true);
    }

    private static BackingStore open(String kind, Path dataDir, String lunName, long bytes, boolean create)
        throws IOException {
        checkKind(kind);
        switch (kind) {
            case FILE:
                return create ? FileBackingStore.create(filePath(dataDir, lunName), bytes)
                    : FileBackingStore.open(filePath(dataDir, lunName), bytes);
            case MEMORY:
                synchronized (MEMORY_STORES) {
                    return MEMORY_STORES.computeIfAbsent(dataDir.toAbsolutePath() + "#" + lunName,
                        k -> new MemoryBackingStore(bytes));
                }
            default:
                return new NullBackingStore();
        }
    }

    /** Forgets a deleted LUN's data (memory) or file. */
    public static void destroy(String kind, Path dataDir, String lunName) throws IOException {
        if (MEMORY.equals(kind)) {
            synchronized (MEMORY_STORES) {
                MEMORY_STORES.remove(dataDir.toAbsolutePath() + "#" + lunName);
            }
        } else if (FILE.equals(kind)) {
            java.nio.file.Files.deleteIfExists(filePath(dataDir, lunName));
        }
    }
}
