/**
 * The array as a whole: its configuration, the metadata both controllers share (LUNs, owners, ACLs, kept in
 * the data directory and written atomically), and {@link io.jmpio.emu.array.ArrayServer}, which runs one or
 * both controllers of a pair in this process.
 */
package io.jmpio.emu.array;
