package io.jmpio.emu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.array.MetadataStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzz regression of the array metadata file (what a hand edit, a bad disk or another tool may leave): a real
 * file, with one of its values replaced by something of another type or range, a field removed, or bytes
 * changed. Loading either gives metadata that passed every check, or an IOException naming the file; nothing
 * else escapes.
 */
class MetadataFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] VALID;

    static {
        try {
            Path dir = Files.createTempDirectory("jmpio-metadata-fuzz");
            try (ArrayServer a = ArrayServer.start(Harness.config(dir).lun(LunSpec.parse("lunb:16M:B", "A", "memory")))) {
                a.controller("A").registerHost("nqn.2014-08.io.jmpio.test:fuzz", "00112233445566778899aabbccddeeff");
            }
            VALID = Files.readAllBytes(dir.resolve("array.json"));
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Provide
    Arbitrary<JsonNode> replacements() {
        return Arbitraries.oneOf(
            Arbitraries.longs().map(JSON.getNodeFactory()::numberNode),
            Arbitraries.of(Long.MAX_VALUE, Long.MIN_VALUE, -1L, 0L, 1L << 53, 4096L).map(JSON.getNodeFactory()::numberNode),
            Arbitraries.of(1e300, -0.5, Double.NaN).map(JSON.getNodeFactory()::numberNode),
            Arbitraries.strings().ofMaxLength(40).map(JSON.getNodeFactory()::textNode),
            Arbitraries.of("../../etc/passwd", "", "A", "B", "C", "a b", "x".repeat(300), "nqn.evil", "\u0000")
                .map(JSON.getNodeFactory()::textNode),
            Arbitraries.of(true, false).map(JSON.getNodeFactory()::booleanNode),
            Arbitraries.just(JSON.getNodeFactory().nullNode()),
            Arbitraries.just(JSON.getNodeFactory().arrayNode()),
            Arbitraries.just(JSON.getNodeFactory().objectNode()));
    }

    @Property
    void oneValueReplacedOrRemoved(@ForAll("replacements") JsonNode value, @ForAll int which, @ForAll boolean remove)
            throws Exception {
        JsonNode tree = JSON.readTree(VALID);
        List<JsonNode[]> slots = new ArrayList<>();
        collect(tree, slots);
        JsonNode[] slot = slots.get(Math.floorMod(which, slots.size()));
        String field = slot[1].textValue();
        if (slot[0] instanceof ObjectNode o) {
            if (remove) {
                o.remove(field);
            } else {
                o.set(field, value);
            }
        } else {
            int i = Integer.parseInt(field);
            if (remove) {
                ((ArrayNode) slot[0]).remove(i);
            } else {
                ((ArrayNode) slot[0]).set(i, value);
            }
        }
        load(JSON.writeValueAsBytes(tree));
    }

    @Property
    void bytesChanged(@ForAll("positions") List<Integer> at, @ForAll byte value) throws Exception {
        byte[] b = VALID.clone();
        for (int p : at) {
            b[Math.floorMod(p, b.length)] = value;
        }
        load(b);
    }

    @Provide
    Arbitrary<List<Integer>> positions() {
        return Arbitraries.integers().list().ofMinSize(1).ofMaxSize(4);
    }

    /** Every (container, field name or index) of the tree. */
    private static void collect(JsonNode n, List<JsonNode[]> out) {
        if (n instanceof ObjectNode o) {
            for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                out.add(new JsonNode[] {o, JSON.getNodeFactory().textNode(f)});
                collect(o.get(f), out);
            }
        } else if (n instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                out.add(new JsonNode[] {a, JSON.getNodeFactory().textNode(Integer.toString(i))});
                collect(a.get(i), out);
            }
        }
    }

    private static void load(byte[] file) throws IOException {
        Path dir = Files.createTempDirectory("jmpio-metadata-fuzz");
        try {
            Files.write(dir.resolve("array.json"), file);
            try {
                new MetadataStore(dir).load();
            } catch (IOException e) {
                assertTrue(e.getMessage().contains("array.json"), "the error names the file: " + e.getMessage());
                assertTrue(e.getMessage().length() < 600, "a short message: " + e.getMessage());
            }
        } finally {
            Files.deleteIfExists(dir.resolve("array.json"));
            Files.deleteIfExists(dir);
        }
    }
}
