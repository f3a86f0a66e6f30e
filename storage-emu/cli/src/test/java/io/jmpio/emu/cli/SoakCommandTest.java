package io.jmpio.emu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.cli.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A two-minute soak in every build: faults were injected, I/O moved through them, nothing was lost; the report is written. */
class SoakCommandTest {
    @TempDir
    Path dir;

    @Test
    @org.junit.jupiter.api.Timeout(value = 6, unit = java.util.concurrent.TimeUnit.MINUTES)
    void aTwoMinuteSoakInjectsFaultsMovesIoAndLosesNothing() throws Exception {
        Path report = dir.resolve("report");
        CliRun r = CliRun.run("soak", "--minutes", "2", "--seed", "7", "--report", report.toString(), "--workers", "4");
        assertEquals(0, r.code(), r.out() + r.err());
        Matcher m = Pattern.compile("faults injected: (\\d+) \\(").matcher(r.out());
        assertTrue(m.find() && Integer.parseInt(m.group(1)) >= 30, r.out());
        assertTrue(r.out().contains("seed: 7 (replay: jmpio soak --minutes 2 --seed 7)"), r.out());
        assertTrue(r.out().contains("errors seen by the application: 0"), r.out());
        assertTrue(r.out().contains("stale or corrupt reads: 0"), r.out());
        assertTrue(r.out().contains("acknowledged writes lost: 0"), r.out());
        Matcher reads = Pattern.compile("reads verified: (\\d+)").matcher(r.out());
        assertTrue(reads.find() && Long.parseLong(reads.group(1)) > 1000, "reads were checked: " + r.out());
        List<String> timeline = Files.readAllLines(report.resolve("timeline.csv"));
        long busy = timeline.stream().skip(1).filter(l -> Long.parseLong(l.split(",")[1]) > 0).count();
        assertTrue(busy >= 90, "I/O moved in most seconds: " + timeline);
        assertTrue(Files.readAllLines(report.resolve("faults.csv")).size() > 4);
        assertTrue(Files.size(report.resolve("timeline.png")) > 1000);
        assertEquals(2, CliRun.run("soak", "--minutes", "-1").code());
        CliRun bad = CliRun.run("soak", "--faults", "pause,meteor");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("no fault kind 'meteor'") && bad.err().contains("kill, pause, restart"), bad.err());
        CliRun none = CliRun.run("soak", "--faults", ",");
        assertEquals(2, none.code());
        assertTrue(none.err().contains("--faults names no fault kind"), none.err());
    }
}
