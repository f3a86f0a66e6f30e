package io.jmpio.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
     * empty. A missing directory, a file where a directory is expected or a directory without jars is an error
     * naming it: a plugin that silently does not load is worse than none.
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
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                if (f.getFileName().toString().endsWith(".jar") && Files.isRegularFile(f)) {
                    if (!Files.isReadable(f)) {
                        throw new IllegalArgumentException("plugin jar " + f + ": not readable");
                    }
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
}
