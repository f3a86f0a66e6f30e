package io.jmpio.core.control;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jmpio.core.Fixture;
import io.jmpio.core.MultipathDevice;
import io.jmpio.core.NoPathRetry;
import io.jmpio.emu.array.ArrayServer;
import java.io.ByteArrayOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzz regression of the control socket's JSON (what a local script may send): requests built from the
 * protocol's own words with random types and values, and lines that are not JSON. Every one gets one JSON line
 * back with {@code ok} true or false (and the error), and the device goes on answering status.
 */
class ControlFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path dir;
    private static ArrayServer array;
    private static MultipathDevice device;
    private static ControlServer control;
    private static Path socket;

    @BeforeContainer
    static void start() throws Exception {
        dir = Files.createTempDirectory("jmpio-control-fuzz");
        array = Fixture.linkedArray(dir.resolve("array"), "lun0:16M:A", "memory");
        device = Fixture.deviceOnFourPaths(array, "control-fuzz", NoPathRetry.FAIL);
        socket = dir.resolve("ctl.sock");
        control = ControlServer.start(device, socket);
    }

    @AfterContainer
    static void stop() throws Exception {
        Fixture.closeAll(control, device, array);
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Provide
    Arbitrary<JsonNode> values() {
        return Arbitraries.oneOf(
            Arbitraries.of("status", "policy", "path", "failback", "", "detach-not", "round-robin", "queue-length",
                "fastest", "P1", "P17", "A0", "offline", "online", "sideways", "ios", "x".repeat(300))
                .map(JSON.getNodeFactory()::textNode),
            Arbitraries.longs().map(JSON.getNodeFactory()::numberNode),
            Arbitraries.of(true, false).map(JSON.getNodeFactory()::booleanNode),
            Arbitraries.just(JSON.getNodeFactory().nullNode()),
            Arbitraries.just(JSON.getNodeFactory().arrayNode().add(1)),
            Arbitraries.just(JSON.getNodeFactory().objectNode().put("ios", "zero").put("weight", -3)));
    }

    @Provide
    Arbitrary<byte[]> lines() {
        Arbitrary<byte[]> requests = Combinators.combine(
            Arbitraries.of("command", "name", "options", "id", "action", "force").list().ofMaxSize(5),
            values().list().ofSize(5)).as((names, vals) -> {
                ObjectNode o = JSON.createObjectNode();
                for (int i = 0; i < names.size(); i++) {
                    o.set(names.get(i), vals.get(i));
                }
                if (o.path("command").asText().equals("detach")) {
                    o.put("command", "status"); // not this device's end, not here
                }
                return o.toString().getBytes(StandardCharsets.UTF_8);
            });
        Arbitrary<byte[]> junk = Arbitraries.oneOf(
            Arbitraries.bytes().filter(b -> b != '\n').array(byte[].class).ofMaxSize(200),
            Arbitraries.of("", " ", "[]", "{", "{\"command\":", "\"status\"", "{\"command\":\"status\"}{}")
                .map(s -> s.getBytes(StandardCharsets.UTF_8)));
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(4, requests), net.jqwik.api.Tuple.of(1, junk));
    }

    @Property
    void everyLineGetsOneJsonAnswerAndStatusStillWorks(@ForAll("lines") byte[] line) throws Exception {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer out = ByteBuffer.allocate(line.length + 1).put(line).put((byte) '\n').flip();
            while (out.hasRemaining()) {
                c.write(out);
            }
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(1 << 16);
            while (c.read(in.clear()) > 0) {
                got.write(in.array(), 0, in.position());
            }
            String text = got.toString(StandardCharsets.UTF_8).trim();
            JsonNode reply = JSON.readTree(text);
            assertTrue(reply.path("ok").isBoolean() && (reply.path("ok").asBoolean() || reply.hasNonNull("error")),
                new String(line, StandardCharsets.UTF_8) + " -> " + text);
        }
        assertTrue(ControlClient.status(socket).isObject(), "status after the request");
        device.setPolicy("round-robin", java.util.Map.of());
        for (String id : List.of("P1", "P2", "P17", "P18")) {
            device.setPathOffline(id, false);
        }
    }
}
