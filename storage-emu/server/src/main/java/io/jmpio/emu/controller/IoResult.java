package io.jmpio.emu.controller;


/**
 * The outcome of one I/O on a LUN: status, sense, the owner's storage position (writes: the cache slot),
 * read data, and whether the write's cache slot is mirrored on the peer (so the peer may read it there).
 */
public record IoResult(int status, int sense, long position, byte[] data, boolean mirrored) {
    public static IoResult good(long position, byte[] data) {
        return new IoResult(Status.GOOD, Sense.NONE, position, data, false);
    }

    /** A write held in cache slot {@code position} and in the peer's mirror of it. */
    public static IoResult mirrored(long position) {
        return new IoResult(Status.GOOD, Sense.NONE, position, null, true);
    }

    public static IoResult error(int status, int sense) {
        return new IoResult(status, sense, 0, null, false);
    }
}
