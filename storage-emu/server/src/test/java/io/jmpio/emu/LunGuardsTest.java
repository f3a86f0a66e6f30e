package io.jmpio.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunRecord;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Management verbs that destroy data a host may rely on: deleting a LUN a connected host can see, and shrinking
 * any LUN, are refused with the reason unless forced; the refused request changes nothing.
 */
class LunGuardsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:0f0f0f0f-2222-3333-4444-555555555555";
    private static final String OTHER = "nqn.2014-08.org.nvmexpress:uuid:abababab-2222-3333-4444-555555555555";

    @TempDir
    Path dir;

    private record Answer(int code, JsonNode body) {
    }

    private Answer send(ArrayServer a, String controller, String method, String path, String body) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + a.controller(controller).adminAddress() + path))
            .timeout(Duration.ofSeconds(20)).header("Authorization", Harness.bearer(dir))
            .header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<String> r = HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), JSON.readTree(r.body()));
    }

    private static long bytes(ArrayServer a, String lun) {
        for (LunRecord r : a.controller("A").lunRecords()) {
            if (r.name().equals(lun)) {
                return r.bytes();
            }
        }
        return -1;
    }

    @SuppressWarnings("unchecked")
    private static String port(ArrayServer a, String controller) throws Exception {
        for (Object o : (List<Object>) a.readyInfo().get("controllers")) {
            Map<String, Object> m = (Map<String, Object>) o;
            if (controller.equals(m.get("id"))) {
                return ((List<String>) m.get("ports")).get(0);
            }
        }
        throw new AssertionError("no controller " + controller);
    }

    @Test
    void aLunInUseIsNotDeletedAndNoLunIsShrunkWithoutForce() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            assertEquals(200, send(a, "A", "POST", "/luns",
                "{\"name\":\"busy\",\"size\":\"16M\",\"owner\":\"A\",\"backend\":\"memory\"}").code());
            assertEquals(200, send(a, "A", "POST", "/luns",
                "{\"name\":\"masked\",\"size\":\"16M\",\"owner\":\"A\",\"backend\":\"memory\",\"allowedHosts\":[\""
                    + OTHER + "\"]}").code());

            // the host is connected to B: A's endpoint still sees it, through its partner
            Harness.await("link up", 5000, () -> !a.controller("A").peerFrontEndAddresses().isEmpty());
            try (SpecNvmeHost h = new SpecNvmeHost(port(a, "B"))) {
                h.connectTransport(false, false);
                h.adminQueue(a.subsystemNqn(), HOST);
                Harness.await("session seen", 5000, () -> !a.controller("B").localStatus().get("sessions").toString()
                    .equals("[]"));

                Answer refused = send(a, "A", "DELETE", "/luns/busy", "");
                assertEquals(409, refused.code(), refused.body().toString());
                String why = refused.body().path("error").asText();
                assertTrue(why.contains("in use") && why.contains(HOST + " on B") && why.contains("--force"), why);
                assertEquals(16L << 20, bytes(a, "busy"), "a refused delete changes nothing");

                // a LUN masked from that host is not in its use
                assertEquals(200, send(a, "A", "DELETE", "/luns/masked", "{}").code());

                Answer badFlag = send(a, "A", "DELETE", "/luns/busy", "{\"force\":\"yes\"}");
                assertEquals(400, badFlag.code());
                assertTrue(badFlag.body().path("error").asText().contains("'force' must be true or false"),
                    badFlag.body().toString());

                Answer shrink = send(a, "B", "POST", "/luns/busy/resize", "{\"size\":\"8M\"}");
                assertEquals(409, shrink.code(), shrink.body().toString());
                assertTrue(shrink.body().path("error").asText().contains("discards its last 8388608 bytes"),
                    shrink.body().toString());
                assertEquals(16L << 20, bytes(a, "busy"));

                assertEquals(200, send(a, "A", "POST", "/luns/busy/resize", "{\"size\":\"32M\"}").code(),
                    "growing needs no force");
                assertEquals(32L << 20, bytes(a, "busy"));
                assertEquals(200, send(a, "A", "POST", "/luns/busy/resize", "{\"size\":\"8M\",\"force\":true}").code());
                assertEquals(8L << 20, bytes(a, "busy"));
            }
            Harness.await("session gone", 5000, () -> a.controller("B").localStatus().get("sessions").toString()
                .equals("[]"));
            assertEquals(200, send(a, "A", "DELETE", "/luns/busy", "").code(), "no host: deleted without force");
            assertEquals(-1, bytes(a, "busy"));

            // managed through B the moment A created it, before A's notice reaches B: the metadata decides
            assertEquals(200, send(a, "A", "POST", "/luns",
                "{\"name\":\"fresh\",\"size\":\"16M\",\"owner\":\"A\",\"backend\":\"memory\"}").code());
            Answer grown = send(a, "B", "POST", "/luns/fresh/resize", "{\"size\":\"32M\"}");
            assertEquals(200, grown.code(), grown.body().toString());
            assertEquals(32L << 20, bytes(a, "fresh"));
        }
    }
}
