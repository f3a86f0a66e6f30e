package io.jmpio.cli;

import java.nio.file.Path;

/**
 * Where jmpio keeps state by default: {@code $XDG_STATE_HOME/jmpio}, else {@code ~/.local/state/jmpio} (the
 * host id here; the emulator's commands keep theirs beside it).
 */
public final class StateDir {
    private StateDir() {
    }

    public static Path root() {
        String xdg = System.getenv("XDG_STATE_HOME");
        Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "state");
        return base.resolve("jmpio");
    }
}
