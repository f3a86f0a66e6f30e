package io.jmpio.emu.store;

import io.jmpio.emu.array.LunSpec;
import io.jmpio.netty.FailureText;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Asks a backend for a new LUN's drive before the array records the LUN: a size the backend cannot hold
 * (a file beyond the file system's limit, a size beyond the array's maximum) fails here with the reason,
 * and nothing is written to the metadata, so a failed create leaves no trace.
 */
public final class LunStorage {
    private LunStorage() {
    }

    public static void checkSize(long bytes, long max) {
        if (bytes > max) {
            throw new IllegalArgumentException("LUN size " + bytes + " bytes exceeds this array's limit of " + max
                + " bytes (" + (max >> 30) + " GiB)");
        }
    }

    /**
     * Creates the drive of {@code spec} (file or memory); on failure removes what was created and says why. A drive
     * file already there is refused and left alone.
     */
    public static void provision(LunSpec spec, Path dataDir, long maxBytes) throws IOException {
        checkSize(spec.bytes(), maxBytes);
        BackingStores.checkKind(spec.backend());
        try {
            BackingStores.create(spec.backend(), dataDir, spec.name(), spec.bytes()).close();
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // not ours to remove
            throw new IOException("LUN " + spec.name() + " cannot be created: " + FailureText.of(e), e);
        } catch (IOException | RuntimeException e) {
            try {
                BackingStores.destroy(spec.backend(), dataDir, spec.name());
            } catch (IOException ignored) {
                // reported below
            }
            throw new IOException("the " + spec.backend() + " backend cannot hold LUN " + spec.name() + " of "
                + spec.bytes() + " bytes: " + FailureText.of(e), e);
        }
    }
}
