package io.jmpio.emu.cli;

import io.jmpio.cli.CliRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A short demo run over the NBD bridge (no root needed): the summary, the CSV timeline and the plot. */
class DemoCommandTest {
    @TempDir
    Path dir;

    @Test
    void shortDemoFailsOverAndBackWithNothingLostAndWritesItsReport() throws Exception {
        CliRun r = CliRun.run("demo", "--bridge", "nbd", "--seconds", "9", "--report", dir.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        String out = r.out();
        assertTrue(out.contains("bridge: nbd (asked for with --bridge"), out);
        assertTrue(out.contains("controller A killed") && out.contains("failed over: controller B took over the LUN")
            && out.contains("controller A restored") && out.contains("failed back to controller A, all 4 paths up"), out);
        assertTrue(out.contains("errors seen by the application: 0; data mismatches: 0; blocks not holding their last write: 0"), out);
        assertTrue(out.contains("result: PASS"), out);
        assertTrue(out.contains("transport: NVMe/TCP"), out);
        assertTrue(out.contains("|-+- group 1 controller=P1+P2 status=active access=optimized"), "topology at the end: " + out);

        List<String> csv = Files.readAllLines(dir.resolve("timeline.csv"));
        assertTrue(csv.get(0).startsWith("second,phase,A0_iops,A0_access,A1_iops"), csv.get(0));
        assertTrue(csv.stream().anyMatch(l -> l.matches("\\d+\\.[1-9]0,.*")), "100 ms samples around the fault");
        assertTrue(csv.size() >= 7, "a row per second: " + csv.size());
        assertTrue(csv.stream().anyMatch(l -> l.contains(",failed over,")), "failover in the timeline");
        // While A is dead its paths carry nothing and B's carry the load; after failback A's carry it again.
        String overRow = csv.stream().filter(l -> l.contains(",failed over,")).reduce((a, b) -> b).orElseThrow();
        String[] f = overRow.split(",");
        assertEquals("0", f[2], "A0 idle after failover: " + overRow);
        assertTrue(Long.parseLong(f[6]) > 0, "B0 carries I/O after failover: " + overRow);

        BufferedImage png = ImageIO.read(dir.resolve("timeline.png").toFile());
        assertEquals(1000, png.getWidth());
        assertTrue(png.getHeight() > 600, "two panels");

        CliRun tooShort = CliRun.run("demo", "--seconds", "2");
        assertEquals(2, tooShort.code());
        assertTrue(tooShort.err().contains("--seconds must be at least 6"), tooShort.err());
        CliRun badBridge = CliRun.run("demo", "--bridge", "floppy", "--seconds", "9");
        assertEquals(2, badBridge.code());
        assertTrue(badBridge.err().contains("unknown bridge 'floppy'"), badBridge.err());
    }
}
