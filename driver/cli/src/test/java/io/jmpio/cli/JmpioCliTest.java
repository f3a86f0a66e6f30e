package io.jmpio.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.controller.Controller;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
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
    }

    @Test
    void statusLunAndFaultCommandsAgainstARunningArray() throws Exception {
        try (ArrayServer a = ArrayServer.start(new ArrayConfig().dataDir(dir).basePort(0).heartbeatIntervalMillis(50)
                .heartbeatTimeoutMillis(300).lun(LunSpec.parse("lun0:16M:A", "A", "file")))) {
            String adminB = a.controller("B").adminAddress();
            Thread.sleep(500);
            CliRun json = CliRun.run("emu", "status", "--admin", adminB, "--json");
            assertEquals(0, json.code(), json.err());
            assertTrue(json.out().contains("\"answeredBy\" : \"B\"") && json.out().contains("active/optimized"), json.out());
            CliRun text = CliRun.run("emu", "status", "--admin", adminB);
            assertTrue(text.out().contains("LUN lun0") && text.out().contains("controller A"), text.out());
            assertEquals(0, CliRun.run("emu", "lun", "--admin", adminB, "create", "scratch", "4M", "B", "memory").code());
            CliRun dup = CliRun.run("emu", "lun", "--admin", adminB, "create", "scratch", "4M");
            assertEquals(1, dup.code());
            assertTrue(dup.err().contains("already exists"), dup.err());
            assertEquals(0, CliRun.run("emu", "fault", "--admin", adminB, "latency", a.controller("A").portAddresses().get(0), "5").code());
            CliRun noPort = CliRun.run("emu", "fault", "--admin", adminB, "port-down", "127.0.0.1:1");
            assertEquals(1, noPort.code());
            assertTrue(noPort.err().contains("no front-end port 127.0.0.1:1"), noPort.err());
            assertEquals(0, CliRun.run("emu", "fault", "--admin", adminB, "kill", "A").code());
            assertEquals(Controller.State.KILLED, a.controller("A").state());
        }
    }
}
