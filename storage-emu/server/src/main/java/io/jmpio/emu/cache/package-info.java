/**
 * The controllers' caches: dirty write extents (the owner's write cache and the peer's mirror of it use the
 * same {@link io.jmpio.emu.cache.ExtentMap}), the NVRAM journal that keeps cached writes across a process
 * crash, and the bounded read cache of clean blocks.
 */
package io.jmpio.emu.cache;
