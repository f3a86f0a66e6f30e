package io.jmpio.emu.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/** Length-prefixed UTF-8 strings as the payload layouts use them. */
final class Strings {
    private Strings() {
    }

    static void writeU16(ByteBuf out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0xFFFF) {
            throw new ProtocolException("string too long: " + b.length + " bytes");
        }
        out.writeShortLE(b.length);
        out.writeBytes(b);
    }

    static void writeU8(ByteBuf out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0xFF) {
            throw new ProtocolException("string too long: " + b.length + " bytes");
        }
        out.writeByte(b.length);
        out.writeBytes(b);
    }

    static String read(ByteBuf in, int length, String what) {
        if (in.readableBytes() < length) {
            throw new ProtocolException(what + ": truncated (" + length + " bytes announced, " + in.readableBytes() + " left)");
        }
        String s = in.toString(in.readerIndex(), length, StandardCharsets.UTF_8);
        in.skipBytes(length);
        return s;
    }

    static void need(ByteBuf in, int n, String what) {
        if (in.readableBytes() < n) {
            throw new ProtocolException(what + ": truncated (need " + n + " bytes, " + in.readableBytes() + " left)");
        }
    }
}
