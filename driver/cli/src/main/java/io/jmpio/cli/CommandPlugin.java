package io.jmpio.cli;

import java.util.List;

/**
 * Commands another module adds to {@code jmpio}, found by {@link java.util.ServiceLoader}: so the command line
 * of the host side needs no module it does not use (the emulator's commands come with the emulator).
 */
public interface CommandPlugin {
    /** picocli command objects (classes annotated with {@code @Command}), each a subcommand of {@code jmpio}. */
    List<Object> commands();
}
