package io.jmpio.emu.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Layout of the fixed 48-byte header that starts every frame on a front-end port. All fields are
 * little-endian. The payload (of {@code payload length} bytes) follows the header directly.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                      magic 'JMPA' (u32)                       |  0
 *  +---------------+---------------+-------------------------------+
 *  |  version (u8) |  opcode (u8)  |          flags (u16)          |  4
 *  +---------------+---------------+-------------------------------+
 *  |                           tag (u64)                           |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                           lun (u32)                           | 16
 *  +-------------------------------+-------------------------------+
 *  |          status (u16)         |          sense (u16)          | 20
 *  +-------------------------------+-------------------------------+
 *  |                      offset in bytes (u64)                    | 24
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  length of the I/O in bytes (u32)             | 32
 *  +---------------------------------------------------------------+
 *  |                     payload length (u32)                      | 36
 *  +---------------------------------------------------------------+
 *  |                            aux (u64)                          | 40
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                     payload (payload length bytes)          ...  48
 * </pre>
 */
public final class FrameHeader {
    /** "JMPA" read as a little-endian u32. */
    public static final int MAGIC = 0x41504D4A;
    public static final int VERSION = 1;
    public static final int LENGTH = 48;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int OPCODE_OFFSET = 5;
    public static final int FLAGS_OFFSET = 6;
    public static final int TAG_OFFSET = 8;
    public static final int LUN_OFFSET = 16;
    public static final int STATUS_OFFSET = 20;
    public static final int SENSE_OFFSET = 22;
    public static final int IO_OFFSET_OFFSET = 24;
    public static final int IO_LENGTH_OFFSET = 32;
    public static final int PAYLOAD_LENGTH_OFFSET = 36;
    public static final int AUX_OFFSET = 40;

    /** Set on every reply. */
    public static final int FLAG_REPLY = 0x1;
    /** WRITE: the data must be on stable media before the reply (force unit access). */
    public static final int FLAG_FUA = 0x2;
    /** An unsolicited message from the array; its tag is {@link #NOTICE_TAG}. */
    public static final int FLAG_NOTICE = 0x4;

    /** Tag reserved for notices; hosts must not use it. */
    public static final long NOTICE_TAG = -1L;

    /** Largest payload accepted on a port: the maximum transfer plus room for report payloads. */
    public static final int MAX_PAYLOAD = 8 << 20;
    /** Largest READ or WRITE length. */
    public static final int MAX_TRANSFER = 4 << 20;

    private FrameHeader() {
    }

    public static int magic(ByteBuf b, int base) { return b.getIntLE(base + MAGIC_OFFSET); }
    public static int version(ByteBuf b, int base) { return b.getUnsignedByte(base + VERSION_OFFSET); }
    public static int opcode(ByteBuf b, int base) { return b.getUnsignedByte(base + OPCODE_OFFSET); }
    public static int flags(ByteBuf b, int base) { return b.getUnsignedShortLE(base + FLAGS_OFFSET); }
    public static long tag(ByteBuf b, int base) { return b.getLongLE(base + TAG_OFFSET); }
    public static int lun(ByteBuf b, int base) { return b.getIntLE(base + LUN_OFFSET); }
    public static int status(ByteBuf b, int base) { return b.getUnsignedShortLE(base + STATUS_OFFSET); }
    public static int sense(ByteBuf b, int base) { return b.getUnsignedShortLE(base + SENSE_OFFSET); }
    public static long ioOffset(ByteBuf b, int base) { return b.getLongLE(base + IO_OFFSET_OFFSET); }
    public static long ioLength(ByteBuf b, int base) { return b.getUnsignedIntLE(base + IO_LENGTH_OFFSET); }
    public static long payloadLength(ByteBuf b, int base) { return b.getUnsignedIntLE(base + PAYLOAD_LENGTH_OFFSET); }
    public static long aux(ByteBuf b, int base) { return b.getLongLE(base + AUX_OFFSET); }

    /** Writes a whole header at the writer index. */
    public static void write(ByteBuf out, Frame f) {
        out.writeIntLE(MAGIC);
        out.writeByte(VERSION);
        out.writeByte(f.opcode());
        out.writeShortLE(f.flags());
        out.writeLongLE(f.tag());
        out.writeIntLE(f.lun());
        out.writeShortLE(f.status());
        out.writeShortLE(f.sense());
        out.writeLongLE(f.offset());
        out.writeIntLE(f.length());
        out.writeIntLE(f.payloadLength());
        out.writeLongLE(f.aux());
    }
}
