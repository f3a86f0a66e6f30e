package io.jmpio.cli;

import java.nio.file.Path;

/**
 * Where jmpio keeps state by default: {@code $XDG_STATE_HOME/jmpio}, else {@code ~/.local/state/jmpio}.
 * {@code emu start} writes {@code emu.json} there (the ready-file document), which the other {@code emu}
 * commands read to find an admin endpoint when {@code --admin} is not given.
 */
final class StateDir {
    private StateDir() {
    }

    static Path root() {
        String xdg = System.getenv("XDG_STATE_HOME");
        Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "state");
        return base.resolve("jmpio");
    }

    static Path emuDataDir() {
        return root().resolve("emu");
    }

    static Path emuStateFile() {
        return root().resolve("emu.json");
    }
}
