package io.jmpio.netty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Replaces a file's content all at once, safely in a directory other accounts can write (a ready file in
 * {@code /tmp}): the content goes to a temporary file beside it whose name is random and which is created
 * exclusively — so a symlink or file another account planted under a predictable name is neither followed nor
 * reused — and is then renamed over the file, which replaces a symlink found there instead of writing through it.
 * Readers see the old content or the new, never a part.
 */
public final class AtomicFile {
    private AtomicFile() {
    }

    /** Replaces {@code file} with {@code content} (mode rw-r--r-- less the umask; the directory is created). */
    public static void replace(Path file, byte[] content) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
        try {
            Files.write(tmp, content);
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
