package io.jmpio.emu.cli;

import io.jmpio.cli.CliRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.controller.Controller;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JmpioCliTest {
    @TempDir
    Path dir;

    @Test
    void unknownCommandsAndFlagsPrintUsageAndExit2() {
        CliRun r = CliRun.run("frobnicate");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Usage: jmpio"), r.err());
        assertEquals(2, CliRun.run("emu", "bogus").code());
        CliRun flag = CliRun.run("emu", "start", "--no-such-flag");
        assertEquals(2, flag.code());
        assertTrue(flag.err().contains("--no-such-flag") && flag.err().contains("Usage: jmpio emu start"), flag.err());
        assertEquals(2, CliRun.run("emu", "start", "--base-port", "seven").code());
        assertEquals(2, CliRun.run("emu", "fault", "explode").code());
        assertEquals(2, CliRun.run("emu", "start", "--controller", "A").code(), "--controller needs --peer");
        assertEquals(2, CliRun.run().code());
    }

    @Test
    void badValuesAreNamed() {
        CliRun r = CliRun.run("emu", "start", "--data-dir", dir.toString(), "--lun", "x:lots");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("bad size 'lots'"), r.err());
        CliRun b = CliRun.run("emu", "start", "--data-dir", dir.toString(), "--backend", "tape");
        assertTrue(b.err().contains("unknown LUN backend 'tape'"), b.err());
        for (String admin : new String[] {"a b:1", "127.0.0.1:1/../x", "127.0.0.1", "host:0", "host:70000"}) {
            CliRun a = CliRun.run("emu", "status", "--admin", admin, "--token-file", "/nonexistent");
            assertEquals(1, a.code());
            assertTrue(a.err().contains("admin endpoint '" + admin + "' is not HOST:PORT"), a.err());
        }
    }

    @Test
    void benchOptionsOutOfRangeAreRefusedBeforeAnythingStarts() {
        String[][] refused = {
            {"emu", "bench", "--qd", "0"}, {"emu", "bench", "--qd", "129"}, {"emu", "bench", "--seconds", "-5"},
            {"emu", "bench", "--bs", "1000"}, {"emu", "bench", "--rw", "randwrite,nope"}, {"emu", "bench", "--rounds", "0"},
            {"bench", "--qd", "0"}, {"bench", "--seconds", "0"}, {"bench", "--read-percent", "101"},
            {"bench", "--queues", "0"}, {"bench", "--heartbeat-timeout", "10"}};
        for (String[] args : refused) {
            CliRun r = CliRun.run(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            String option = args[args.length - 2];
            assertTrue(r.err().contains(option) && r.err().contains(args[args.length - 1].replace("randwrite,", "")),
                String.join(" ", args) + ": " + r.err());
            // refused before an array was started: its log lines (slf4j-simple writes to the captured System.err)
            assertTrue(!r.err().contains("controller A started"), r.err());
        }
    }

    @Test
    void answersThatAreNotTheArraysAreErrorsNamingTheEndpoint() throws Exception {
        java.nio.file.Files.writeString(dir.resolve("token"), "t0ken");
        byte[] huge = new byte[AdminClient.MAX_ANSWER_BYTES + 1];
        java.util.Arrays.fill(huge, (byte) ' ');
        Object[][] cases = {
            {200, "<html>hello</html>".getBytes(), "with something that is not JSON"},
            {200, "42".getBytes(), "not a JSON object or list"},
            {503, "{\"error\":\"down\",\"redirect\":\"evil host:1\"}".getBytes(), "'evil host:1' is not HOST:PORT"},
            {200, huge, "answered more than " + AdminClient.MAX_ANSWER_BYTES + " bytes"}};
        for (Object[] c : cases) {
            com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", x -> {
                byte[] body = (byte[]) c[1];
                x.sendResponseHeaders((Integer) c[0], body.length);
                try (var out = x.getResponseBody()) {
                    out.write(body);
                } catch (java.io.IOException e) {
                    // the client stopped reading: expected for the oversized answer
                }
            });
            server.start();
            try {
                String admin = "127.0.0.1:" + server.getAddress().getPort();
                CliRun r = CliRun.run("emu", "status", "--admin", admin, "--token-file", dir.resolve("token").toString());
                assertEquals(1, r.code(), r.err());
                assertTrue(r.err().contains((String) c[2]), r.err());
            } finally {
                server.stop(0);
            }
        }
    }

    @Test
    void statusLunAndFaultCommandsAgainstARunningArray() throws Exception {
        try (ArrayServer a = ArrayServer.start(new ArrayConfig().dataDir(dir).basePort(0).heartbeatIntervalMillis(50)
                .heartbeatTimeoutMillis(300).lun(LunSpec.parse("lun0:16M:A", "A", "file")))) {
            String adminB = a.controller("B").adminAddress();
            String adminA = a.controller("A").adminAddress();
            String token = dir.resolve("admin.token").toString();
            Thread.sleep(500);
            CliRun json = CliRun.run("emu", "status", "--admin", adminB, "--token-file", token, "--json");
            assertEquals(0, json.code(), json.err());
            assertTrue(json.out().contains("\"answeredBy\" : \"B\"") && json.out().contains("active/optimized"), json.out());
            CliRun text = CliRun.run("emu", "status", "--admin", adminB, "--token-file", token);
            assertTrue(text.out().contains("LUN lun0") && text.out().contains("controller A"), text.out());
            assertEquals(0, CliRun.run("emu", "lun", "--admin", adminB, "--token-file", token, "create", "scratch", "4M", "B", "memory").code());
            CliRun dup = CliRun.run("emu", "lun", "--admin", adminB, "--token-file", token, "create", "scratch", "4M");
            assertEquals(1, dup.code());
            assertTrue(dup.err().contains("already exists"), dup.err());
            assertEquals(0, CliRun.run("emu", "fault", "--admin", adminB, "--token-file", token, "latency", a.controller("A").portAddresses().get(0), "5").code());
            CliRun noPort = CliRun.run("emu", "fault", "--admin", adminB, "--token-file", token, "port-down", "127.0.0.1:1");
            assertEquals(1, noPort.code());
            assertTrue(noPort.err().contains("no front-end port 127.0.0.1:1"), noPort.err());
            assertEquals(0, CliRun.run("emu", "fault", "--admin", adminB, "--token-file", token, "kill", "A").code());
            assertEquals(Controller.State.KILLED, a.controller("A").state());

            // management survives the kill: every verb through B, and A's endpoint sends the client on to B
            for (String admin : List.of(adminB, adminA)) {
                CliRun list = CliRun.run("emu", "lun", "--admin", admin, "--token-file", token, "list");
                assertEquals(0, list.code(), list.err());
                assertTrue(list.out().contains("lun0") && list.out().contains("scratch"), admin + ": " + list.out());
                CliRun st = CliRun.run("emu", "status", "--admin", admin, "--token-file", token, "--json");
                assertEquals(0, st.code(), st.err());
                assertTrue(st.out().contains("\"answeredBy\" : \"B\""), admin + ": " + st.out());
                CliRun hosts = CliRun.run("emu", "hosts", "--admin", admin, "--token-file", token);
                assertEquals(0, hosts.code(), hosts.err());
            }
            String[][] verbs = {
                {"lun", "create", "after", "4M", "B", "memory"},
                {"lun", "resize", "after", "8M"},
                {"lun", "resize", "after", "2M", "--force"},
                {"lun", "hosts", "after", "host1"},
                {"lun", "move", "scratch", "B"},
                {"lun", "delete", "after"},
                {"fault", "latency", a.controller("B").portAddresses().get(0), "0"},
                {"fault", "restart", "A"},
            };
            for (String[] v : verbs) {
                List<String> cmd = new java.util.ArrayList<>(List.of("emu", v[0], "--admin", adminA, "--token-file", token));
                cmd.addAll(List.of(v).subList(1, v.length));
                CliRun r = CliRun.run(cmd.toArray(new String[0]));
                assertEquals(0, r.code(), String.join(" ", v) + ": " + r.err());
            }
            assertEquals(Controller.State.RUNNING, a.controller("A").state());
            CliRun noToken = CliRun.run("emu", "status", "--admin", adminB, "--token-file", dir.resolve("array.json").toString());
            assertEquals(1, noToken.code());
            assertTrue(noToken.err().contains("does not hold a token") || noToken.err().contains("wrong admin token"),
                noToken.err());
            // token files that are no credential are named with what is wrong, and never block or read whole
            Path fifo = dir.resolve("token.fifo");
            assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
            java.nio.file.Files.write(dir.resolve("token.big"), new byte[1 << 20]);
            String[][] bad = {
                {dir.toString(), "is a directory"},
                {fifo.toString(), "is not a regular file"},
                {dir.resolve("token.big").toString(), "is 1048576 bytes; at most 4096"},
            };
            for (String[] b : bad) {
                CliRun r = CliRun.run("emu", "status", "--admin", adminB, "--token-file", b[0]);
                assertEquals(1, r.code(), b[0]);
                assertTrue(r.err().contains("admin token file " + b[0] + " " + b[1]), r.err());
            }
        }
    }
}
