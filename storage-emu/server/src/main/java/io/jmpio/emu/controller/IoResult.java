package io.jmpio.emu.controller;

import io.jmpio.emu.protocol.Sense;
import io.jmpio.emu.protocol.Status;

/** The outcome of one I/O on a LUN: status, sense, the owner's storage position (writes), and read data. */
public record IoResult(int status, int sense, long position, byte[] data) {
    public static IoResult good(long position, byte[] data) {
        return new IoResult(Status.GOOD, Sense.NONE, position, data);
    }

    public static IoResult error(int status, int sense) {
        return new IoResult(status, sense, 0, null);
    }
}
