package io.jmpio.emu.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * A credential kept in a file readable by its owner only: 32 random bytes written as 64 hex digits and a
 * newline. {@link #loadOrCreate} creates it with mode 0600 at creation time (no window in which another
 * account could open it), and two processes starting at once end up with the same secret: each writes a
 * private temporary file and links it into place, and the one that loses the race reads the winner's.
 */
public final class SecretFile {
    /** Bytes of a generated secret. */
    public static final int SECRET_BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private SecretFile() {
    }

    /** Reads the secret in {@code file}, creating it (0600) when it does not exist. */
    public static byte[] loadOrCreate(Path file, String what) throws IOException {
        byte[] secret = new byte[SECRET_BYTES];
        RANDOM.nextBytes(secret);
        createOnce(file, (HexFormat.of().formatHex(secret) + "\n").getBytes(StandardCharsets.US_ASCII), true);
        return load(file, what);
    }

    /**
     * Writes {@code content} to {@code file} unless it exists, atomically and once even with two processes at
     * it: each writes a private temporary file and links it into place; the loser keeps the winner's. With
     * {@code ownerOnly} the file is 0600 from its creation.
     */
    public static void createOnce(Path file, byte[] content, boolean ownerOnly) throws IOException {
        if (Files.exists(file)) {
            return;
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + "." + ProcessHandle.current().pid() + "."
            + Long.toHexString(RANDOM.nextLong()) + ".tmp");
        Files.write(ownerOnly ? Files.createFile(tmp, OWNER_ONLY) : Files.createFile(tmp), content);
        try {
            Files.createLink(file, tmp);
        } catch (FileAlreadyExistsException e) {
            // another controller created it first: theirs stands
        } catch (UnsupportedOperationException | IOException e) {
            if (!Files.exists(file)) {
                Files.move(tmp, file);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Reads a secret the user gave; refuses one that other accounts can read or that is too short. */
    public static byte[] load(Path file, String what) throws IOException {
        checkPrivate(file, what);
        String text = readSmall(file, what);
        if (text.length() < 32) {
            throw new IOException(what + " " + file + " holds " + text.length()
                + " characters; at least 32 are needed (64 hex digits as generated are best)");
        }
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * The text of a small credential file, stripped: refused when it is not a regular file (a FIFO would block
     * the reader, a directory or device is no credential) or holds more than 4096 bytes (never read whole).
     */
    public static String readSmall(Path file, String what) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(what + " " + file + (Files.isDirectory(file) ? " is a directory"
                : Files.exists(file) ? " is not a regular file" : " does not exist"));
        }
        long size = Files.size(file);
        if (size > 4096) {
            throw new IOException(what + " " + file + " is " + size + " bytes; at most 4096 are expected");
        }
        try {
            return Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IOException(what + " " + file + " is not ASCII text");
        }
    }

    /** Refuses a file that is missing, not regular, or readable or writable by accounts other than its owner. */
    public static void checkPrivate(Path file, String what) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(what + " " + file + " does not exist or is not a regular file");
        }
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            for (PosixFilePermission p : perms) {
                if (p.name().startsWith("GROUP_") || p.name().startsWith("OTHERS_")) {
                    throw new IOException(what + " " + file + " is accessible to other users (mode "
                        + PosixFilePermissions.toString(perms) + "); run 'chmod 600 " + file + "'");
                }
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        }
    }

    /** The secret as text (what a bearer token is sent as). */
    public static String text(byte[] secret) {
        return new String(secret, StandardCharsets.US_ASCII);
    }
}
