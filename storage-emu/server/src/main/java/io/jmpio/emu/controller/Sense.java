package io.jmpio.emu.controller;

/** Additional detail carried with a {@link Status}, like SCSI's additional sense code (numbers kept stable: the link carries them). */
public final class Sense {
    public static final int NONE = 0;
    /** Offset or length is not a multiple of the logical block size. */
    public static final int MISALIGNED = 4;
    /** The payload length does not match what the opcode requires (WRITE: payload = length). */
    public static final int PAYLOAD_MISMATCH = 5;
    public static final int UNKNOWN_LUN = 6;
    /** The inter-controller link to the owner is down. */
    public static final int LINK_DOWN = 9;
    public static final int OWNERSHIP_MOVING = 10;
    public static final int CACHE_FULL = 11;
    /** The failure was injected by the fault interface. */
    public static final int INJECTED = 12;
    /** The I/O length exceeds the maximum transfer. */
    public static final int TRANSFER_TOO_LONG = 14;
    /** The backing store failed the request. */
    public static final int IO_ERROR = 15;

    private Sense() {
    }

    public static String name(int sense) {
        switch (sense) {
            case NONE: return "none";
            case MISALIGNED: return "offset or length not aligned to the block size";
            case PAYLOAD_MISMATCH: return "payload length does not match the request";
            case UNKNOWN_LUN: return "unknown LUN";
            case LINK_DOWN: return "inter-controller link down";
            case OWNERSHIP_MOVING: return "ownership moving";
            case CACHE_FULL: return "write cache full";
            case INJECTED: return "injected fault";
            case TRANSFER_TOO_LONG: return "transfer longer than the maximum";
            case IO_ERROR: return "backing store I/O error";
            default: return "sense " + sense;
        }
    }
}
