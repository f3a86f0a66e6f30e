package io.jmpio.emu.controller;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * The outcome of one I/O on a LUN: status, sense, the owner's storage position (writes: the cache slot),
 * read data, whether the write's cache slot is mirrored on the peer (so the peer may read it there), and whether
 * the peer that shipped the write is to hold that mirror copy itself (see {@code LinkFrame.FLAG_MIRROR_HERE}).
 * Read data is a buffer that whoever takes the result sends on or releases: a shipped read's data is the slice
 * of the link frame it arrived in, handed to the host's connection without a copy.
 */
public record IoResult(int status, int sense, long position, ByteBuf data, boolean mirrored, boolean mirrorAtPeer) {
    public IoResult(int status, int sense, long position, ByteBuf data, boolean mirrored) {
        this(status, sense, position, data, mirrored, false);
    }

    public static IoResult good(long position, byte[] data) {
        return new IoResult(Status.GOOD, Sense.NONE, position, data == null ? null : Unpooled.wrappedBuffer(data), false);
    }

    public static IoResult good(ByteBuf data) {
        return new IoResult(Status.GOOD, Sense.NONE, 0, data, false);
    }

    /** A write held in cache slot {@code position} and in the peer's mirror of it. */
    public static IoResult mirrored(long position) {
        return new IoResult(Status.GOOD, Sense.NONE, position, null, true);
    }

    /** A write held in cache slot {@code position} whose mirror copy the peer that shipped it puts in place. */
    public static IoResult mirrorAtPeer(long position) {
        return new IoResult(Status.GOOD, Sense.NONE, position, null, true, true);
    }

    public static IoResult error(int status, int sense) {
        return new IoResult(status, sense, 0, null, false);
    }

    /** Drops the read data of a result nobody will send (its connection closed, or it failed). */
    public void releaseData() {
        if (data != null && data.refCnt() > 0) {
            data.release();
        }
    }
}
