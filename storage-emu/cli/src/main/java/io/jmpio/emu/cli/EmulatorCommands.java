package io.jmpio.emu.cli;

import io.jmpio.cli.CommandPlugin;
import java.util.List;

/** What the emulator adds to {@code jmpio}: {@code emu}, {@code demo}, {@code soak} and {@code bench} (device and policies). */
public final class EmulatorCommands implements CommandPlugin {
    @Override
    public List<Object> commands() {
        return List.of(new DeviceBench(), new EmuCommand(), new DemoCommand(), new SoakCommand());
    }
}
