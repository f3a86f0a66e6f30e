/**
 * The {@code jmpio} command line (picocli): the host commands (attach, status, policy, path, failback, detach,
 * policies, bridges); other modules add theirs through {@link io.jmpio.cli.CommandPlugin} (the emulator's
 * {@code emu}, {@code demo} and {@code bench}).
 */
package io.jmpio.cli;
