package io.jmpio.emu.controller;

/**
 * The block operations a controller serves, whichever front end they came in on (an NVMe/TCP command is mapped to
 * one of these), and which the link ships to the owner: the {@code op} of a SHIP_IO frame.
 */
public final class Opcode {
    public static final int READ = 0x10;
    public static final int WRITE = 0x11;
    public static final int FLUSH = 0x12;
    public static final int DISCARD = 0x13;
    public static final int WRITE_ZEROES = 0x14;

    private Opcode() {
    }

    public static String name(int opcode) {
        switch (opcode) {
            case READ: return "READ";
            case WRITE: return "WRITE";
            case FLUSH: return "FLUSH";
            case DISCARD: return "DISCARD";
            case WRITE_ZEROES: return "WRITE_ZEROES";
            default: return "0x" + Integer.toHexString(opcode);
        }
    }

    /** Requests that move or change data on a LUN (and so need ownership). */
    public static boolean isIo(int opcode) {
        return opcode >= READ && opcode <= WRITE_ZEROES;
    }
}
