package io.jmpio.emu.controller;

import io.jmpio.emu.array.LunRecord;

/**
 * The one check every block request passes before it reaches the cache, the journal or a disk, whoever
 * sent it: a host on a front-end port, or the peer controller shipping or mirroring over the link.
 * Answers 0 when the request fits the LUN, else {@code status << 16 | sense}.
 */
final class IoCheck {
    /** The longest read or write a controller takes in one request (the NVMe front end's MDTS is below it). */
    static final int MAX_TRANSFER = 4 << 20;

    private IoCheck() {
    }

    /**
     * @param op            READ, WRITE, FLUSH, DISCARD or WRITE_ZEROES
     * @param offset        byte offset into the LUN
     * @param length        bytes the request covers (unsigned)
     * @param payloadLength bytes that came with it
     */
    static int check(int op, long offset, long length, long payloadLength, LunRecord r) {
        int bs = r.blockSize();
        switch (op) {
            case Opcode.FLUSH:
                return payloadLength == 0 ? 0 : fail(Status.INVALID_FIELD, Sense.PAYLOAD_MISMATCH);
            case Opcode.READ:
            case Opcode.WRITE:
            case Opcode.DISCARD:
            case Opcode.WRITE_ZEROES:
                break;
            default:
                return fail(Status.INVALID_OPCODE, Sense.NONE);
        }
        if (length <= 0 || offset < 0 || offset % bs != 0 || length % bs != 0) {
            return fail(Status.INVALID_FIELD, Sense.MISALIGNED);
        }
        if ((op == Opcode.READ || op == Opcode.WRITE) && length > MAX_TRANSFER) {
            return fail(Status.INVALID_FIELD, Sense.TRANSFER_TOO_LONG);
        }
        if (op == Opcode.WRITE ? payloadLength != length : payloadLength != 0) {
            return fail(Status.INVALID_FIELD, Sense.PAYLOAD_MISMATCH);
        }
        if (offset + length > r.bytes() || offset + length < 0) {
            return fail(Status.OUT_OF_RANGE, Sense.NONE);
        }
        return 0;
    }

    /** A mirrored extent: data (payload = the bytes) or zeroes (payload = the length as a u64). */
    static int checkMirror(boolean zeroes, long offset, long length, long payloadLength, LunRecord r) {
        long covered = zeroes ? length : payloadLength;
        if (zeroes ? payloadLength != Long.BYTES : payloadLength != length) {
            return fail(Status.INVALID_FIELD, Sense.PAYLOAD_MISMATCH);
        }
        if (covered <= 0 || offset < 0 || offset % r.blockSize() != 0 || covered % r.blockSize() != 0) {
            return fail(Status.INVALID_FIELD, Sense.MISALIGNED);
        }
        if (offset + covered > r.bytes() || offset + covered < 0) {
            return fail(Status.OUT_OF_RANGE, Sense.NONE);
        }
        return 0;
    }

    static int status(int problem) {
        return problem >>> 16;
    }

    static int sense(int problem) {
        return problem & 0xFFFF;
    }

    private static int fail(int status, int sense) {
        return status << 16 | sense;
    }
}
