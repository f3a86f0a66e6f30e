package io.jmpio.emu.cli;

import io.jmpio.cli.CliRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The asymmetric-path scenario, briefly: it writes a table row per policy and a readable PNG. */
class PolicyScenarioTest {
    @TempDir
    Path dir;

    @Test
    void writesTableAndPlotForTheChosenPolicies() throws Exception {
        CliRun r = CliRun.run("bench", "policies", "--seconds", "1", "--warmup", "0", "--policy", "round-robin,latency",
            "--report", dir.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        String table = Files.readString(dir.resolve("policies.md"));
        assertTrue(table.contains("| round-robin | ") && table.contains("| latency | "), table);
        assertTrue(table.contains("A1 (+2 ms)") && table.contains("A2 (5% errors)"), table);
        // Round-robin cannot avoid the slow path: it gets about a quarter of the requests.
        String rr = table.lines().filter(l -> l.startsWith("| round-robin |")).findFirst().orElseThrow();
        double slowShare = Double.parseDouble(rr.split("\\|")[8].trim().replace("%", ""));
        assertTrue(slowShare > 15 && slowShare < 35, rr);
        BufferedImage png = ImageIO.read(dir.resolve("policies.png").toFile());
        assertEquals(1000, png.getWidth());
        assertTrue(png.getHeight() > 900, "three panels");

        CliRun unknown = CliRun.run("bench", "policies", "--policy", "fastest", "--report", dir.toString());
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().contains("unknown policy 'fastest' (known: adaptive, "), unknown.err());
    }
}
