package io.jmpio.emu.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCounted;

/**
 * One decoded frame: the header fields of {@link FrameHeader} and the payload. The payload is a
 * reference-counted buffer owned by whoever holds the frame; {@link #release()} gives it back.
 */
public record Frame(int opcode, int flags, long tag, int lun, int status, int sense, long offset, int length,
                    long aux, ByteBuf payload) {

    public Frame {
        if (payload == null) {
            payload = Unpooled.EMPTY_BUFFER;
        }
    }

    public static Frame request(int opcode, long tag, int lun, long offset, int length, ByteBuf payload) {
        return new Frame(opcode, 0, tag, lun, Status.GOOD, Sense.NONE, offset, length, 0, payload);
    }

    /** A reply to this frame with the given status, sense, aux and payload. */
    public Frame reply(int status, int sense, long aux, ByteBuf payload) {
        return new Frame(opcode, FrameHeader.FLAG_REPLY, tag, lun, status, sense, offset, length, aux, payload);
    }

    public Frame withFlags(int newFlags) {
        return new Frame(opcode, newFlags, tag, lun, status, sense, offset, length, aux, payload);
    }

    public int payloadLength() {
        return payload.readableBytes();
    }

    public boolean isReply() {
        return (flags & FrameHeader.FLAG_REPLY) != 0;
    }

    public boolean isNotice() {
        return (flags & FrameHeader.FLAG_NOTICE) != 0;
    }

    public boolean fua() {
        return (flags & FrameHeader.FLAG_FUA) != 0;
    }

    public boolean good() {
        return status == Status.GOOD;
    }

    public void release() {
        if (payload instanceof ReferenceCounted && payload.refCnt() > 0) {
            payload.release();
        }
    }

    /** "WRITE tag=7 lun=0 off=4096 len=4096 -> OUT_OF_RANGE (unknown LUN)". */
    public String describe() {
        StringBuilder sb = new StringBuilder(Opcode.name(opcode)).append(" tag=").append(tag).append(" lun=").append(lun)
            .append(" off=").append(offset).append(" len=").append(length);
        if (isReply()) {
            sb.append(" -> ").append(Status.name(status));
            if (sense != Sense.NONE) {
                sb.append(" (").append(Sense.name(sense)).append(')');
            }
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return describe();
    }
}
