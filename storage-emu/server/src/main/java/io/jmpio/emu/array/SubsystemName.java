package io.jmpio.emu.array;

import io.jmpio.emu.security.SecretFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;

/**
 * The array's NVMe subsystem NQN, {@code nqn.2014-08.org.nvmexpress:uuid:UUID}: made once, at first start, and
 * kept in {@code subsystem.nqn} in the data directory, so both controllers and every restart present the same
 * subsystem (hosts merge paths by it).
 */
final class SubsystemName {
    private SubsystemName() {
    }

    static String loadOrCreate(Path dataDir) throws IOException {
        Path f = dataDir.resolve("subsystem.nqn");
        SecretFile.createOnce(f, ("nqn.2014-08.org.nvmexpress:uuid:" + UUID.randomUUID() + "\n")
            .getBytes(StandardCharsets.US_ASCII), false);
        String nqn = SecretFile.readSmall(f, "subsystem NQN file");
        if (!nqn.matches("nqn\\.[0-9]{4}-[0-9]{2}\\.[A-Za-z0-9.:-]{1,200}")) {
            throw new IOException(f + " does not hold an NVMe qualified name ('" + (nqn.length() > 80
                ? nqn.substring(0, 80) + "..." : nqn) + "')");
        }
        return nqn;
    }
}
