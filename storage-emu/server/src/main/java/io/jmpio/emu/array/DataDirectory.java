package io.jmpio.emu.array;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The array's data directory holds its drives (LUN files), NVRAM journals, metadata and credentials, so
 * only its owner may enter it: created with mode 0700, and a pre-existing one that others can write is
 * refused (they could swap the metadata or a LUN file).
 */
final class DataDirectory {
    private DataDirectory() {
    }

    static void create(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        if (!Files.exists(abs)) {
            if (abs.getParent() != null) {
                Files.createDirectories(abs.getParent());
            }
            try {
                Files.createDirectory(abs, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (UnsupportedOperationException e) {
                Files.createDirectory(abs);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // created meanwhile by the other controller's process
            }
            return;
        }
        if (!Files.isDirectory(abs)) {
            throw new IOException("data directory " + abs + " exists and is not a directory");
        }
        try {
            String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(abs));
            if (mode.charAt(7) == 'w') {
                throw new IOException("data directory " + abs + " is writable by every user (mode " + mode
                    + "); run 'chmod 700 " + abs + "'");
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
    }
}
