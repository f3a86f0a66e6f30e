/** The {@code jmpio} command line (picocli): {@code emu} commands today, the host commands as they land. */
package io.jmpio.cli;
