package io.jmpio.emu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.controller.Controller;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * Fuzz regression of the admin endpoint's JSON (what an operator's script, or a confused client holding the
 * token, may send): every request path with bodies whose fields come from the endpoint's own vocabulary but
 * with random types and values, and bodies that are not JSON at all. The answer is a JSON document, never a
 * 500: a bad request is refused with a 4xx naming the problem (503 while the controller asked is down).
 */
class AdminFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> FIELDS = List.of("verb", "target", "name", "size", "owner", "backend",
        "allowedHosts", "ms", "rate", "mode", "port", "address", "bytes", "preferredOwner", "hosts");
    private static final List<String> VERBS = List.of("kill", "pause", "resume", "restart", "port-down", "port-up",
        "latency", "flaky", "partition", "heal", "explode", "");
    private static Path dir;
    private static ArrayServer array;
    private static String bearer;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeContainer
    static void start() throws Exception {
        dir = Files.createTempDirectory("jmpio-admin-fuzz");
        array = ArrayServer.start(Harness.config(dir));
        bearer = Harness.bearer(dir);
    }

    @AfterContainer
    static void stop() throws Exception {
        array.close();
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Provide
    Arbitrary<String[]> requests() {
        return Arbitraries.of(
            new String[] {"POST", "/faults"}, new String[] {"POST", "/luns"}, new String[] {"POST", "/luns/lun0/move"},
            new String[] {"POST", "/luns/lun0/resize"}, new String[] {"POST", "/luns/lun0/hosts"},
            new String[] {"POST", "/luns/nope/move"}, new String[] {"POST", "/luns/%2e%2e/move"},
            new String[] {"DELETE", "/luns/fz"}, new String[] {"DELETE", "/luns/..%2f..%2fetc"},
            new String[] {"GET", "/status"}, new String[] {"GET", "/hosts"}, new String[] {"POST", "/status"},
            new String[] {"GET", "/luns/lun0/move"}, new String[] {"POST", "/%00"});
    }

    @Provide
    Arbitrary<JsonNode> values() {
        return Arbitraries.oneOf(
            Arbitraries.of(VERBS).map(JSON.getNodeFactory()::textNode),
            Arbitraries.of("A", "B", "C", "fz", "lun0", "4M", "1G", "-1M", "8388607T", "memory", "file", "tape",
                "127.0.0.1:1", "error", "drop", "x".repeat(500)).map(JSON.getNodeFactory()::textNode),
            Arbitraries.longs().map(JSON.getNodeFactory()::numberNode),
            Arbitraries.of(0.5, -1.0, 2.0, 1e308).map(JSON.getNodeFactory()::numberNode),
            Arbitraries.of(true, false).map(JSON.getNodeFactory()::booleanNode),
            Arbitraries.just(JSON.getNodeFactory().nullNode()),
            Arbitraries.just(JSON.getNodeFactory().arrayNode().add("h").add(7)),
            Arbitraries.just(JSON.getNodeFactory().objectNode().put("x", 1)));
    }

    @Provide
    Arbitrary<byte[]> bodies() {
        Arbitrary<byte[]> objects = Combinators.combine(Arbitraries.of(FIELDS).list().ofMaxSize(5),
            values().list().ofSize(5)).as((names, vals) -> {
                ObjectNode o = JSON.createObjectNode();
                for (int i = 0; i < names.size(); i++) {
                    o.set(names.get(i), vals.get(i));
                }
                try {
                    return JSON.writeValueAsBytes(o);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        Arbitrary<byte[]> junk = Arbitraries.oneOf(Arbitraries.bytes().array(byte[].class).ofMaxSize(200),
            Arbitraries.of("[1,2]", "\"x\"", "{", "{\"verb\":", "null", "{\"verb\":\"kill\"}{}").map(String::getBytes));
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(4, objects), net.jqwik.api.Tuple.of(1, junk));
    }

    @Property
    void everyRequestGetsAJsonAnswerAndNoneA500(@ForAll("requests") String[] request, @ForAll("bodies") byte[] body,
                                               @ForAll boolean viaB) throws Exception {
        String admin = array.controller(viaB ? "B" : "A").adminAddress();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + admin + request[1]))
            .timeout(Duration.ofSeconds(20)).header("Authorization", bearer).header("Content-Type", "application/json");
        b.method(request[0], request[0].equals("GET") ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(body));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        net.jqwik.api.statistics.Statistics.collect(r.statusCode());
        try {
            assertTrue(r.statusCode() < 500 || r.statusCode() == 503, request[0] + " " + request[1] + " "
                + new String(body) + " -> " + r.statusCode() + " " + r.body());
            JsonNode doc = JSON.readTree(r.body());
            assertTrue(r.statusCode() < 400 ? doc != null : doc.hasNonNull("error"), r.body());
        } finally {
            // whatever the request did to the pair, the next try starts from a running, healed one
            for (String c : List.of("A", "B")) {
                Controller ctl = array.controller(c);
                if (ctl.state() == Controller.State.PAUSED) {
                    ctl.resume();
                } else if (ctl.state() == Controller.State.KILLED || ctl.state() == Controller.State.STOPPED) {
                    ctl.start();
                }
                ctl.healLink();
                for (String p : ctl.portAddresses()) {
                    ctl.setPortDown(p, false);
                    ctl.setPortLatency(p, 0);
                    ctl.setPortFlaky(p, 0, "mixed");
                }
            }
        }
    }
}
