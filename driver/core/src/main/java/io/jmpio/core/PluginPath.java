package io.jmpio.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Third-party plugins (policies, bridges): every {@code *.jar} in the given directories, loaded in one
 * class loader whose parent is the application's, so a plugin sees jmpio's API and its own classes only.
 */
public final class PluginPath {
    private PluginPath() {
    }

    /**
     * A loader over the jars of {@code dirs} in name order; the application's loader when {@code dirs} is
     * empty. A missing directory, a file where a directory is expected, a directory without jars, and a directory
     * or jar that another account could change is an error naming it: a plugin that silently does not load is worse
     * than none, and one that someone else put there is worse still.
     */
    public static ClassLoader loader(List<Path> dirs) {
        ClassLoader parent = PluginPath.class.getClassLoader();
        if (dirs == null || dirs.isEmpty()) {
            return parent;
        }
        List<URL> jars = new ArrayList<>();
        for (Path dir : dirs) {
            jars.addAll(jarsIn(dir));
        }
        return new URLClassLoader("jmpio-plugins", jars.toArray(new URL[0]), parent);
    }

    static List<URL> jarsIn(Path dir) {
        if (!Files.exists(dir)) {
            throw new IllegalArgumentException("plugin path " + dir + ": no such directory");
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("plugin path " + dir + ": not a directory (give the directory holding the plugin jars)");
        }
        List<URL> jars = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            checkTrusted(dir, "plugin path");
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                if (f.getFileName().toString().endsWith(".jar") && Files.isRegularFile(f)) {
                    if (!Files.isReadable(f)) {
                        throw new IllegalArgumentException("plugin jar " + f + ": not readable");
                    }
                    checkTrusted(f, "plugin jar");
                    jars.add(f.toUri().toURL());
                }
            }
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("plugin path " + dir + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("plugin path " + dir + ": " + e.getMessage(), e);
        }
        if (jars.isEmpty()) {
            throw new IllegalArgumentException("plugin path " + dir + ": no .jar files in it");
        }
        return jars;
    }

    /**
     * Refuses a plugin directory or jar that someone else could change (as sshd's StrictModes does): its code runs
     * in this process, often root's, with the devices it serves. Owned by this account or root, and writable by
     * nobody else.
     */
    private static void checkTrusted(Path f, String what) throws IOException {
        java.nio.file.attribute.PosixFileAttributes a;
        try {
            a = Files.readAttributes(f, java.nio.file.attribute.PosixFileAttributes.class);
        } catch (UnsupportedOperationException notPosix) {
            return; // no owners or modes to check on this file system
        }
        Set<PosixFilePermission> p = a.permissions();
        if (p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IllegalArgumentException(what + " " + f + " is writable by other users (mode "
                + PosixFilePermissions.toString(p) + "): anyone who can write it could run code in this process; "
                + "chmod go-w it");
        }
        String owner = a.owner().getName();
        if (!owner.equals("root") && !owner.equals(System.getProperty("user.name"))) {
            throw new IllegalArgumentException(what + " " + f + " belongs to " + owner + ", not to this account or root: "
                + "its owner could run code in this process");
        }
    }
}
