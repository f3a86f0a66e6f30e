package io.jmpio.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `jmpio attach` in the foreground, driven by the other host commands over its control socket. */
class HostCliTest {
    @TempDir
    Path dir;

    @Test
    void attachServesTheControlSocketAndMetricsUntilDetached() throws Exception {
        ArrayConfig ac = new ArrayConfig().dataDir(dir.resolve("array")).basePort(0).heartbeatIntervalMillis(50)
            .heartbeatTimeoutMillis(300).autoTransferThreshold(0).lun(LunSpec.parse("lun0:16M:A", "A", "memory"));
        try (ArrayServer array = ArrayServer.start(ac)) {
            Path ready = dir.resolve("ready.json");
            Path control = dir.resolve("ctl.sock");
            String portal = array.controller("B").portAddresses().get(1);
            CompletableFuture<Integer> attach = CompletableFuture.supplyAsync(() -> Jmpio.run("attach", "--portal", portal,
                "--name", "lun0", "--host-id", "cli-test", "--ready-file", ready.toString(), "--control", control.toString(),
                "--metrics-listen", "127.0.0.1:0", "--scan-interval", "200", "--policy", "queue-length"));
            long deadline = System.currentTimeMillis() + 15_000;
            while (!Files.exists(ready) && System.currentTimeMillis() < deadline && !attach.isDone()) {
                Thread.sleep(20);
            }
            assertTrue(Files.exists(ready), "ready file written; attach ended with " + (attach.isDone() ? attach.get() : "-"));
            JsonNode r = new ObjectMapper().readTree(Files.readString(ready));
            assertEquals("none", r.path("bridge").asText());
            assertEquals("unix:" + control.toAbsolutePath(), r.path("control").asText());
            assertTrue(r.path("device").isNull() && r.path("nbd").isMissingNode(), r.toString());

            deadline = System.currentTimeMillis() + 10_000;
            JsonNode s = null;
            while (System.currentTimeMillis() < deadline) {
                CliRun st = CliRun.run("status", "--json", "--control", control.toString());
                assertEquals(0, st.code(), st.err());
                s = new ObjectMapper().readTree(st.out());
                if (s.path("groups").size() == 2 && s.toString().split("\"health\":\"up\"", -1).length - 1 == 4) {
                    break;
                }
                Thread.sleep(100);
            }
            assertEquals("queue-length", s.path("policy").path("name").asText());
            assertEquals("active", s.path("groups").get(0).path("status").asText(), s.toPrettyString());
            assertEquals("cli-test", s.path("hostId").asText());

            CliRun text = CliRun.run("status", "--control", control.toString());
            assertTrue(text.out().contains("group 1 controller=P1+P2 status=active access=optimized"), text.out());
            assertTrue(text.out().contains("P1 "), text.out());

            CliRun bad = CliRun.run("policy", "set", "fastest", "--control", control.toString());
            assertEquals(1, bad.code());
            assertTrue(bad.err().contains("unknown policy 'fastest' (known: ") && bad.err().contains("round-robin"), bad.err());
            CliRun set = CliRun.run("policy", "set", "round-robin", "ios=4", "--control", control.toString());
            assertEquals(0, set.code(), set.err());
            CliRun badOpt = CliRun.run("policy", "set", "round-robin", "ios=zero", "--control", control.toString());
            assertTrue(badOpt.err().contains("option ios"), badOpt.err());

            assertEquals(0, CliRun.run("path", "offline", "P1", "--control", control.toString()).code());
            CliRun off = CliRun.run("status", "--json", "--control", control.toString());
            assertTrue(off.out().contains("\"health\" : \"offline\""), off.out());
            CliRun noSuch = CliRun.run("path", "offline", "Q7", "--control", control.toString());
            assertTrue(noSuch.err().contains("no path 'Q7'"), noSuch.err());
            assertEquals(2, CliRun.run("path", "sideways", "P1", "--control", control.toString()).code());
            assertEquals(0, CliRun.run("path", "online", "P1", "--control", control.toString()).code());

            String metricsUrl = r.path("metrics").asText();
            HttpResponse<String> m = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(metricsUrl)).build(),
                HttpResponse.BodyHandlers.ofString());
            assertEquals(200, m.statusCode());
            assertTrue(m.body().contains("jmpio_path_up{device=\"lun0\",path=\"P18\""), m.body());
            assertTrue(m.body().contains("# TYPE jmpio_device_latency_seconds summary"), m.body());

            CliRun detach = CliRun.run("detach", "--control", control.toString());
            assertEquals(0, detach.code(), detach.err());
            assertEquals(0, attach.get(15, TimeUnit.SECONDS));
            assertTrue(!Files.exists(control) && !Files.exists(ready), "socket and ready file removed");
            CliRun gone = CliRun.run("status", "--control", control.toString());
            assertEquals(1, gone.code());
            assertTrue(gone.err().contains("no control socket"), gone.err());
        }
    }

    @Test
    void attachWithTheNbdBridgeSaysWhereTheExportIs() throws Exception {
        ArrayConfig ac = new ArrayConfig().dataDir(dir.resolve("array")).basePort(0).autoTransferThreshold(0)
            .lun(LunSpec.parse("lun0:16M:A", "A", "memory"));
        try (ArrayServer array = ArrayServer.start(ac)) {
            Path ready = dir.resolve("ready.json");
            Path control = dir.resolve("ctl.sock");
            CompletableFuture<Integer> attach = CompletableFuture.supplyAsync(() -> Jmpio.run("attach", "--portal",
                array.controller("A").portAddresses().get(0), "--name", "lun0", "--host-id", "cli-nbd", "--bridge", "nbd",
                "--nbd-listen", "127.0.0.1:0", "--ready-file", ready.toString(), "--control", control.toString()));
            long deadline = System.currentTimeMillis() + 15_000;
            while (!Files.exists(ready) && System.currentTimeMillis() < deadline && !attach.isDone()) {
                Thread.sleep(20);
            }
            assertTrue(Files.exists(ready), "ready file written; attach ended with " + (attach.isDone() ? attach.get() : "-"));
            JsonNode r = new ObjectMapper().readTree(Files.readString(ready));
            assertEquals("nbd", r.path("bridge").asText());
            String uri = r.path("device").asText();
            assertTrue(uri.matches("nbd://127\\.0\\.0\\.1:\\d+/lun0"), uri);
            Process p = new ProcessBuilder("nbdinfo", "--size", uri).redirectErrorStream(true).start();
            assertEquals(Long.toString(16L << 20), new String(p.getInputStream().readAllBytes()).trim());
            CliRun st = CliRun.run("status", "--control", control.toString());
            assertTrue(st.out().contains("bridge=nbd " + uri), st.out());
            assertEquals(0, CliRun.run("detach", "--control", control.toString()).code());
            assertEquals(0, attach.get(15, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(!Files.exists(ready), "ready file removed at detach");
        }
        CliRun unusable = CliRun.run("attach", "--portal", "127.0.0.1:1", "--lun", "x", "--bridge", "nbd", "--bridge-option",
            "colour=blue");
        assertEquals(2, unusable.code());
        assertTrue(unusable.err().contains("bridge nbd has no option 'colour' (options: listen, export, allow, tls-cert, tls-key)"), unusable.err());
        CliRun bridges = CliRun.run("bridges");
        assertTrue(bridges.out().contains("nbd    usable") && bridges.out().contains("auto: "), bridges.out());
    }

    @Test
    void badAttachArgumentsAreNamed() {
        CliRun noPortal = CliRun.run("attach", "--host-id", "h");
        assertEquals(2, noPortal.code());
        assertTrue(noPortal.err().contains("--portal"), noPortal.err());
        CliRun bridge = CliRun.run("attach", "--portal", "127.0.0.1:1", "--lun", "x", "--bridge", "tape");
        assertEquals(2, bridge.code());
        assertTrue(bridge.err().contains("unknown bridge 'tape' (installed: fuse, nbd, ublk, or auto)"), bridge.err());
        CliRun fb = CliRun.run("attach", "--portal", "127.0.0.1:1", "--lun", "x", "--failback", "sometimes", "--host-id", "h");
        assertEquals(1, fb.code());
        assertTrue(fb.err().contains("failback must be immediate, manual, followover or a number of seconds"), fb.err());
        CliRun npr = CliRun.run("attach", "--portal", "127.0.0.1:1", "--lun", "x", "--no-path-retry", "-3", "--host-id", "h");
        assertTrue(npr.err().contains("no-path-retry must be fail, queue or a number of seconds from 0.001"), npr.err());
        CliRun portal = CliRun.run("attach", "--portal", "nowhere", "--lun", "x", "--host-id", "h");
        assertTrue(portal.err().contains("expected HOST:PORT, got 'nowhere'"), portal.err());
        CliRun unreachable = CliRun.run("attach", "--portal", "127.0.0.1:1", "--lun", "x", "--host-id", "h", "--loss-timeout", "0");
        assertEquals(1, unreachable.code());
        assertTrue(unreachable.err().contains("cannot attach 'x' over nvme-tcp: 127.0.0.1:1"), unreachable.err());
        CliRun policies = CliRun.run("policies");
        assertTrue(policies.out().contains("round-robin") && policies.out().contains("queue-length")
            && policies.out().contains("failover"), policies.out());
        CliRun noPlugins = CliRun.run("policies", "--plugin-path", "/nonexistent/jmpio-plugins");
        assertEquals(2, noPlugins.code());
        assertTrue(noPlugins.err().contains("plugin path /nonexistent/jmpio-plugins: no such directory"), noPlugins.err());
        CliRun attachNoPlugins = CliRun.run("attach", "--portal", "127.0.0.1:1", "--lun", "x", "--plugin-path", "/nonexistent/p");
        assertEquals(2, attachNoPlugins.code());
        assertTrue(attachNoPlugins.err().contains("plugin path /nonexistent/p: no such directory"), attachNoPlugins.err());
    }
}
