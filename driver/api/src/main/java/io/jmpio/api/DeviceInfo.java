package io.jmpio.api;

/**
 * What a block device is: its identity and the attributes a kernel bridge advertises (block sizes,
 * cache and command support). {@code wwid} is the array's 32-hex-digit NAA identifier of the LUN.
 */
public record DeviceInfo(String name, String wwid, long sizeBytes, int logicalBlockSize, int physicalBlockSize,
                         int maxTransferBytes, boolean volatileWriteCache, boolean discard, boolean writeZeroes,
                         boolean fua) {
}
