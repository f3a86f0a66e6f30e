package io.jmpio.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Symlinks another account planted where a file is replaced are neither followed nor written through. */
class AtomicFileTest {
    @TempDir
    Path dir;

    @Test
    void plantedSymlinksAreReplacedNotFollowed() throws Exception {
        Path victim = Files.writeString(dir.resolve("victim"), "precious");
        Path ready = dir.resolve("array.json");
        Files.createSymbolicLink(dir.resolve("array.json.tmp"), victim); // the old, predictable temporary name
        Files.createSymbolicLink(ready, victim);

        AtomicFile.replace(ready, "{\"ok\":true}".getBytes(StandardCharsets.UTF_8));

        assertEquals("precious", Files.readString(victim), "the symlinks' target is untouched");
        assertFalse(Files.isSymbolicLink(ready), "the planted link is replaced by the file");
        assertEquals("{\"ok\":true}", Files.readString(ready));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(0, s.filter(p -> p.getFileName().toString().startsWith(".array.json.")).count(),
                "no temporary file left behind");
        }
    }
}
