package io.jmpio.emu.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCounted;

/**
 * One message on the inter-controller link. The header is 56 bytes, little-endian:
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                      magic 'JMPL' (u32)                       |  0
 *  +---------------+---------------+---------------+---------------+
 *  |  channel (u8) |   kind (u8)   |    op (u8)    |  flags (u8)   |  4
 *  +---------------+---------------+---------------+---------------+
 *  |                     correlation id (u64)                      |  8
 *  +---------------------------------------------------------------+
 *  |                           lun (u32)                           | 16
 *  +---------------------------------------------------------------+
 *  |                    ownership epoch (u32)                      | 20
 *  +-------------------------------+-------------------------------+
 *  |          status (u16)         |          sense (u16)          | 24
 *  +-------------------------------+-------------------------------+
 *  |              descriptor: length in bytes (u32)                | 28
 *  +---------------------------------------------------------------+
 *  |              descriptor: source (u64)                         | 32
 *  +---------------------------------------------------------------+
 *  |              descriptor: destination (u64)                    | 40
 *  +---------------------------------------------------------------+
 *  |                    payload length (u32)                       | 48
 *  +---------------------------------------------------------------+
 *  |                       reserved (u32)                          | 52
 *  +---------------------------------------------------------------+
 *  |                   payload (payload length bytes)            ...  56
 * </pre>
 *
 * A BATCH frame (data channels) carries several messages as one scatter-gather frame: its header's length is
 * the number of messages (1..{@link #MAX_BATCH}); its payload is their 56-byte headers, one after another (the
 * descriptor table), then their payloads in the same order. Each descriptor names the batch's channel and is
 * any kind but BATCH; its payload length says where its data lies in the payload area, which they fill exactly.
 *
 * Descriptors: SHIP_IO — source = receiving port index, destination = LUN byte offset, length = I/O length;
 * its REPLY — source = the owner's storage position (cache slot) of a write. MIRROR_WRITE — source = the
 * owner's cache slot, destination = LUN byte offset, length. MIRROR_RELEASE — source = highest destaged slot.
 * MANAGEMENT MIRROR_RESET — source = the owner's last slot before the reset; MIRROR_REVOKE — source = the slot of the
 * unmirrored write, destination = the read-lease generation from which leases are good again.
 */
public record LinkFrame(int channel, int kind, int op, int flags, long correlation, int lun, long epoch, int status,
                        int sense, int length, long source, long destination, ByteBuf payload) {
    /** "JMPL" read as a little-endian u32. */
    public static final int MAGIC = 0x4C504D4A;

    public static final int HEADER_LENGTH = 56;
    public static final int MAX_PAYLOAD = 16 << 20;

    public static final int MAGIC_OFFSET = 0;
    public static final int CHANNEL_OFFSET = 4;
    public static final int KIND_OFFSET = 5;
    public static final int OP_OFFSET = 6;
    public static final int FLAGS_OFFSET = 7;
    public static final int CORRELATION_OFFSET = 8;
    public static final int LUN_OFFSET = 16;
    public static final int EPOCH_OFFSET = 20;
    public static final int STATUS_OFFSET = 24;
    public static final int SENSE_OFFSET = 26;
    public static final int LENGTH_OFFSET = 28;
    public static final int SOURCE_OFFSET = 32;
    public static final int DESTINATION_OFFSET = 40;
    public static final int PAYLOAD_LENGTH_OFFSET = 48;

    /** Channel kinds. */
    public static final int CHANNEL_MANAGEMENT = 0;
    public static final int CHANNEL_SHIP = 1;
    public static final int CHANNEL_MIRROR = 2;

    /** Message kinds. */
    public static final int HELLO = 1;
    public static final int HEARTBEAT = 2;
    public static final int REPLY = 3;
    public static final int SHIP_IO = 4;
    public static final int MIRROR_WRITE = 5;
    public static final int MIRROR_RELEASE = 6;
    public static final int MANAGEMENT = 7;
    /**
     * A write the non-owner streams to the owner as its host sends the data (NVMe R2T on the owner's behalf):
     * op RESERVE (room in the owner's cache; reply's source is the stream token), DATA (a chunk at
     * destination within the write, source = token), COMMIT (execute it; reply as SHIP_IO's), ABORT.
     */
    public static final int SHIP_STREAM = 8;
    public static final int STREAM_RESERVE = 1;
    public static final int STREAM_DATA = 2;
    public static final int STREAM_COMMIT = 3;
    public static final int STREAM_ABORT = 4;
    /** Several messages of one data channel in one frame (see the class comment). */
    public static final int BATCH = 9;
    /** Most messages one BATCH frame carries. */
    public static final int MAX_BATCH = 64;

    /** MANAGEMENT ops. */
    public static final int OP_PEER_INFO = 1;
    public static final int OP_METADATA_CHANGED = 2;
    public static final int OP_TRANSITION_BEGIN = 3;
    public static final int OP_TRANSITION_ABORT = 4;
    public static final int OP_MIRROR_RESET = 5;
    /**
     * The owner is about to acknowledge a write it could not mirror (slot in {@code source}): the peer stops
     * answering reads from shipped positions at or below that slot, and ignores late ones.
     */
    public static final int OP_MIRROR_REVOKE = 6;
    /**
     * The non-owner answered {@code source} reads of the LUN itself under a read lease since its last report: the
     * owner counts them as I/O arriving at the peer (the implicit transfer's share). No reply.
     */
    public static final int OP_LOCAL_READS = 7;

    /** MIRROR_WRITE ops. */
    public static final int MIRROR_DATA = 0;
    public static final int MIRROR_ZEROES = 1;

    /** SHIP_IO flag: force unit access. */
    public static final int FLAG_FUA = 0x1;
    /** SHIP_IO reply flag: the write sits in the owner's cache slot {@code source} and in the peer's mirror of it. */
    public static final int FLAG_MIRRORED = 0x2;
    /**
     * SHIP_IO reply flag (reads): a read lease of generation {@code destination}. Every write of the LUN is mirrored
     * to the peer, so until the lease runs out (counted from when the peer sent the read) or is revoked, the peer
     * may answer reads itself: the shared media overlaid with its mirror of the owner's dirty cache.
     */
    public static final int FLAG_READ_LEASE = 0x4;
    /**
     * SHIP_IO flag (writes without FUA). Request: the peer keeps a copy of the payload and offers to hold the
     * write's mirror copy itself. Reply: the owner took the offer — the write sits in its cache slot {@code source}
     * and was not mirrored; the peer puts its copy into its mirror under that slot before the host hears of the
     * write, or fails the write. The data then crosses the link once and the write costs one round trip, as a
     * write at the owner does (its mirror write), instead of two.
     */
    public static final int FLAG_MIRROR_HERE = 0x8;

    public LinkFrame {
        if (payload == null) {
            payload = Unpooled.EMPTY_BUFFER;
        }
        if (epoch < 0 || epoch > 0xFFFF_FFFFL) {
            // the header carries a u32: a larger epoch would arrive as another one
            throw new IllegalArgumentException("ownership epoch " + epoch + " does not fit the link's u32");
        }
    }

    public static LinkFrame message(int channel, int kind, int op, int lun, long epoch, int length, long source,
                                    long destination, ByteBuf payload) {
        return new LinkFrame(channel, kind, op, 0, 0, lun, epoch, 0, 0, length, source, destination, payload);
    }

    public LinkFrame withCorrelation(long id) {
        return new LinkFrame(channel, kind, op, flags, id, lun, epoch, status, sense, length, source, destination, payload);
    }

    public LinkFrame withFlags(int f) {
        return new LinkFrame(channel, kind, op, f, correlation, lun, epoch, status, sense, length, source, destination, payload);
    }

    /** This reply with a read lease of {@code generation} (see {@link #FLAG_READ_LEASE}). */
    public LinkFrame withReadLease(long generation) {
        return new LinkFrame(channel, kind, op, flags | FLAG_READ_LEASE, correlation, lun, epoch, status, sense, length,
            source, generation, payload);
    }

    public LinkFrame reply(int replyStatus, int replySense, long position, ByteBuf data) {
        return new LinkFrame(channel, REPLY, op, 0, correlation, lun, epoch, replyStatus, replySense, length, position,
            destination, data);
    }

    public void release() {
        if (payload instanceof ReferenceCounted && payload.refCnt() > 0) {
            payload.release();
        }
    }

    static void writeHeader(ByteBuf out, LinkFrame f) {
        writeHeader(out, f, f.payload.readableBytes());
    }

    private static void writeHeader(ByteBuf out, LinkFrame f, long payloadLength) {
        out.writeIntLE(MAGIC);
        out.writeByte(f.channel);
        out.writeByte(f.kind);
        out.writeByte(f.op);
        out.writeByte(f.flags);
        out.writeLongLE(f.correlation);
        out.writeIntLE(f.lun);
        out.writeIntLE((int) f.epoch);
        out.writeShortLE(f.status);
        out.writeShortLE(f.sense);
        out.writeIntLE(f.length);
        out.writeLongLE(f.source);
        out.writeLongLE(f.destination);
        out.writeIntLE((int) payloadLength);
        out.writeIntLE(0);
    }

    /** The header of a BATCH frame of {@code count} messages whose table and payloads take {@code payloadLength}. */
    static void writeBatchHeader(ByteBuf out, int channel, int count, long payloadLength) {
        if (payloadLength > MAX_PAYLOAD) {
            throw new IllegalArgumentException("a batch of " + payloadLength + " bytes exceeds the link's limit");
        }
        writeHeader(out, message(channel, BATCH, 0, 0, 0, count, 0, 0, null), payloadLength);
    }

    static LinkFrame readHeader(ByteBuf in, int base, ByteBuf payload) {
        return new LinkFrame(in.getUnsignedByte(base + CHANNEL_OFFSET), in.getUnsignedByte(base + KIND_OFFSET),
            in.getUnsignedByte(base + OP_OFFSET), in.getUnsignedByte(base + FLAGS_OFFSET),
            in.getLongLE(base + CORRELATION_OFFSET), in.getIntLE(base + LUN_OFFSET),
            in.getUnsignedIntLE(base + EPOCH_OFFSET), in.getUnsignedShortLE(base + STATUS_OFFSET),
            in.getUnsignedShortLE(base + SENSE_OFFSET), in.getIntLE(base + LENGTH_OFFSET),
            in.getLongLE(base + SOURCE_OFFSET), in.getLongLE(base + DESTINATION_OFFSET), payload);
    }
}
