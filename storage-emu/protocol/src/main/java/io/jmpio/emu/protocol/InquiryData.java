package io.jmpio.emu.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Reply payload of INQUIRY.
 *
 * <pre>
 *  +---------------------------------------------------------------+
 *  |                       size in bytes (u64)                     |  0
 *  +---------------------------------------------------------------+
 *  |                 logical block size (u32)                      |  8
 *  +---------------------------------------------------------------+
 *  |                 physical block size (u32)                     | 12
 *  +---------------------------------------------------------------+
 *  |                 maximum transfer in bytes (u32)               | 16
 *  +---------------------------------------------------------------+
 *  |   flags (u32): bit 0 volatile write cache, bit 1 discard,     | 20
 *  |                bit 2 write zeroes, bit 3 FUA                  |
 *  +---------------------------------------------------------------+
 *  |                 WWID (16 bytes, NAA-6 style)                  | 24
 *  +-------------------------------+-------------------------------+
 *  |      name length (u16)        |  name (UTF-8) ...             | 40
 *  +-------------------------------+-------------------------------+
 * </pre>
 */
public record InquiryData(long sizeBytes, int logicalBlockSize, int physicalBlockSize, int maxTransfer, int flags,
                          byte[] wwid, String name) {
    public static final int SIZE_OFFSET = 0;
    public static final int LOGICAL_BLOCK_OFFSET = 8;
    public static final int PHYSICAL_BLOCK_OFFSET = 12;
    public static final int MAX_TRANSFER_OFFSET = 16;
    public static final int FLAGS_OFFSET = 20;
    public static final int WWID_OFFSET = 24;
    public static final int WWID_LENGTH = 16;
    public static final int NAME_LENGTH_OFFSET = 40;
    public static final int FIXED_LENGTH = 42;

    public static final int FLAG_WRITE_CACHE = 0x1;
    public static final int FLAG_DISCARD = 0x2;
    public static final int FLAG_WRITE_ZEROES = 0x4;
    public static final int FLAG_FUA = 0x8;

    public InquiryData {
        if (wwid.length != WWID_LENGTH) {
            throw new IllegalArgumentException("WWID must be 16 bytes");
        }
    }

    public void write(ByteBuf out) {
        out.writeLongLE(sizeBytes);
        out.writeIntLE(logicalBlockSize);
        out.writeIntLE(physicalBlockSize);
        out.writeIntLE(maxTransfer);
        out.writeIntLE(flags);
        out.writeBytes(wwid);
        Strings.writeU16(out, name);
    }

    public static InquiryData read(ByteBuf in) {
        Strings.need(in, FIXED_LENGTH, "INQUIRY data");
        long size = in.readLongLE();
        int lbs = in.readIntLE();
        int pbs = in.readIntLE();
        int max = in.readIntLE();
        int flags = in.readIntLE();
        byte[] wwid = new byte[WWID_LENGTH];
        in.readBytes(wwid);
        String name = Strings.read(in, in.readUnsignedShortLE(), "INQUIRY name");
        return new InquiryData(size, lbs, pbs, max, flags, wwid, name);
    }

    /** The WWID as 32 hex digits, the form udev and multipath tools print. */
    public String wwidHex() {
        StringBuilder sb = new StringBuilder(32);
        for (byte b : wwid) {
            sb.append(String.format("%02x", b & 0xFF));
        }
        return sb.toString();
    }
}
