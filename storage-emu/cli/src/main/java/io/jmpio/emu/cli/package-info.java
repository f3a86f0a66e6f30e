/**
 * The {@code jmpio} commands that run the array (a {@link io.jmpio.cli.CommandPlugin}): {@code emu} (start,
 * status, LUNs, faults, hosts, bench), {@code demo}, and {@code bench} (a multipath device and the policies
 * against an in-process array). The only module besides the emulator itself that depends on it.
 */
package io.jmpio.emu.cli;
