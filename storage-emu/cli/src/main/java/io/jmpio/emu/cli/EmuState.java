package io.jmpio.emu.cli;

import io.jmpio.cli.StateDir;
import java.nio.file.Path;

/**
 * The emulator's default places under jmpio's state directory: its data directory, and {@code emu.json} (the
 * ready-file document) that {@code emu start} writes there and the other {@code emu} commands read to find an
 * admin endpoint when {@code --admin} is not given.
 */
final class EmuState {
    private EmuState() {
    }

    static Path dataDir() {
        return StateDir.root().resolve("emu");
    }

    static Path stateFile() {
        return StateDir.root().resolve("emu.json");
    }
}
