package io.jmpio.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.api.BalancingPolicyProvider;
import io.jmpio.emu.array.ArrayServer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A third-party policy jar, compiled and packed by the test, loaded from a plugin directory and used for I/O. */
class PluginPathTest {
    @TempDir
    Path tmp;

    /** Always the last path offered: easy to recognise in the per-path counters. */
    private static final String PROVIDER_SOURCE = String.join("\n",
        "package com.example.jmpio;",
        "import io.jmpio.api.*;",
        "import java.util.*;",
        "public final class LastPathProvider implements BalancingPolicyProvider {",
        "  public String name() { return \"last-path\"; }",
        "  public String description() { return \"Every request on the last path offered (a test plugin)\"; }",
        "  public List<PolicyOption> options() { return List.of(); }",
        "  public BalancingPolicy create(Map<String, String> options) {",
        "    return (paths, op, offset, length) -> paths.get(paths.size() - 1);",
        "  }",
        "}");

    /** Compiles the provider against the test's class path and packs it with its service entry. */
    static Path buildPluginJar(Path dir) throws IOException {
        Path src = dir.resolve("src/com/example/jmpio/LastPathProvider.java");
        Path classes = dir.resolve("classes");
        Files.createDirectories(src.getParent());
        Files.createDirectories(classes);
        Files.writeString(src, PROVIDER_SOURCE);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertTrue(javac != null, "a JDK (javac) is needed to build the plugin jar");
        int rc = javac.run(null, null, null, "-d", classes.toString(), "-cp", System.getProperty("java.class.path"),
            "--release", "17", src.toString());
        assertEquals(0, rc, "javac of the test plugin");
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        Path jar = plugins.resolve("last-path-policy.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
             Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
            out.putNextEntry(new JarEntry("META-INF/services/" + BalancingPolicyProvider.class.getName()));
            out.write("com.example.jmpio.LastPathProvider\n".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        return plugins;
    }

    @Test
    void policyJarInPluginDirectoryIsListedAndServesIo() throws Exception {
        Path plugins = buildPluginJar(tmp);
        assertThrows(IllegalArgumentException.class, () -> Policies.installed().provider("last-path"),
            "the plugin is not on the application class path");
        ClassLoader loader = PluginPath.loader(List.of(plugins));
        Policies policies = Policies.from(loader);
        BalancingPolicyProvider p = policies.provider("last-path");
        assertEquals("Every request on the last path offered (a test plugin)", p.description());
        assertTrue(policies.all().stream().anyMatch(x -> x.name().equals("round-robin")), "built-ins still there");

        try (ArrayServer array = ArrayServer.start(Fixture.arrayConfig(tmp.resolve("array")));
             MultipathDevice device = MultipathDevice.open(Fixture.deviceConfig(array).pluginLoader(loader).policy("last-path"))) {
            assertEquals("last-path", device.policyName());
            byte[] block = new byte[4096];
            for (int i = 0; i < 64; i++) {
                Arrays.fill(block, (byte) i);
                Fixture.write(device, i * 4096L, block);
            }
            for (int i = 0; i < 64; i++) {
                byte[] got = Fixture.read(device, i * 4096L, 4096);
                assertEquals(i, got[4095], "block " + i);
            }
            List<Long> perPath = new ArrayList<>();
            for (Object g : (List<?>) device.status().get("groups")) {
                for (Object path : (List<?>) ((Map<?, ?>) g).get("paths")) {
                    perPath.add(((Number) ((Map<?, ?>) path).get("ios")).longValue());
                }
            }
            assertEquals(1, perPath.stream().filter(n -> n > 0).count(), "all I/O on one path: " + perPath);
            assertEquals(128L, perPath.stream().mapToLong(Long::longValue).sum(), "per-path I/O counts " + perPath);
        }
    }

    @Test
    void badPluginDirectoriesAreNamed() throws Exception {
        Path missing = tmp.resolve("nope");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PluginPath.loader(List.of(missing)));
        assertEquals("plugin path " + missing + ": no such directory", e.getMessage());
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        e = assertThrows(IllegalArgumentException.class, () -> PluginPath.loader(List.of(empty)));
        assertEquals("plugin path " + empty + ": no .jar files in it", e.getMessage());
        Path file = Files.writeString(tmp.resolve("file.jar"), "x");
        e = assertThrows(IllegalArgumentException.class, () -> PluginPath.loader(List.of(file)));
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
        try (OutputStream ignored = Files.newOutputStream(empty.resolve("broken.jar"))) {
            // An empty file named .jar: loads, but offers no policy, so the name is still unknown.
        }
        e = assertThrows(IllegalArgumentException.class,
            () -> Policies.from(PluginPath.loader(List.of(empty))).provider("last-path"));
        assertTrue(e.getMessage().startsWith("unknown policy 'last-path' (known: adaptive, "), e.getMessage());
    }

    @Test
    void pluginsSomeoneElseCouldChangeAreRefused() throws Exception {
        Path plugins = buildPluginJar(tmp);
        Path jar = plugins.resolve("last-path-policy.jar");
        Files.setPosixFilePermissions(plugins, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PluginPath.loader(List.of(plugins)));
        assertTrue(e.getMessage().contains("plugin path " + plugins + " is writable by other users (mode rwxrwxrwx)"),
            e.getMessage());
        Files.setPosixFilePermissions(plugins, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(jar, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-r--"));
        e = assertThrows(IllegalArgumentException.class, () -> PluginPath.loader(List.of(plugins)));
        assertTrue(e.getMessage().contains("plugin jar " + jar + " is writable by other users"), e.getMessage());
        Files.setPosixFilePermissions(jar, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Policies.from(PluginPath.loader(List.of(plugins))).provider("last-path"); // and now it loads
    }
}
