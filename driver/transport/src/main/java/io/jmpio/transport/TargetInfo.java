package io.jmpio.transport;

/**
 * The storage a multipath device reaches, as discovered: its identity (a 32-hex-digit id the same through
 * every path: the NAA WWID or the namespace's NGUID), a name to show, its size and block sizes, the largest
 * transfer one command may carry, what it supports, and how long it says a state transition may take
 * (NVMe's ANATT; 0 when it does not say).
 */
public record TargetInfo(String id, String name, long sizeBytes, int logicalBlockSize, int physicalBlockSize,
                         int maxTransferBytes, boolean volatileWriteCache, boolean discard, boolean writeZeroes,
                         boolean fua, long transitionMillis) {
}
