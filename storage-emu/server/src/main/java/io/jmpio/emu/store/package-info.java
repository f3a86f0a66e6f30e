/**
 * Backing stores of LUNs: sparse files in the data directory (the "disks" both controllers reach, as the
 * drives of a real array sit in a shared enclosure), memory, and null (for benchmarks).
 */
package io.jmpio.emu.store;
