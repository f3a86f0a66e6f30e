package io.jmpio.emu.protocol;

/** Additional detail carried with a status (header bytes 22-23), like SCSI's additional sense code. */
public final class Sense {
    public static final int NONE = 0;
    public static final int BAD_MAGIC = 1;
    public static final int BAD_VERSION = 2;
    public static final int FRAME_TOO_LARGE = 3;
    /** Offset or length is not a multiple of the logical block size. */
    public static final int MISALIGNED = 4;
    /** The payload length does not match what the opcode requires (WRITE: payload = length). */
    public static final int PAYLOAD_MISMATCH = 5;
    public static final int UNKNOWN_LUN = 6;
    public static final int NOT_REGISTERED = 7;
    public static final int HOST_NOT_ALLOWED = 8;
    /** The inter-controller link to the owner is down. */
    public static final int LINK_DOWN = 9;
    public static final int OWNERSHIP_MOVING = 10;
    public static final int CACHE_FULL = 11;
    /** The failure was injected by the fault interface. */
    public static final int INJECTED = 12;
    public static final int BAD_HOST_ID = 13;
    /** The I/O length exceeds the maximum transfer. */
    public static final int TRANSFER_TOO_LONG = 14;
    /** The backing store failed the request. */
    public static final int IO_ERROR = 15;
    /** A flag this opcode does not accept was set. */
    public static final int BAD_FLAGS = 16;

    private Sense() {
    }

    public static String name(int sense) {
        switch (sense) {
            case NONE: return "none";
            case BAD_MAGIC: return "bad magic";
            case BAD_VERSION: return "unsupported version";
            case FRAME_TOO_LARGE: return "frame too large";
            case MISALIGNED: return "offset or length not aligned to the block size";
            case PAYLOAD_MISMATCH: return "payload length does not match the request";
            case UNKNOWN_LUN: return "unknown LUN";
            case NOT_REGISTERED: return "host not registered on this connection";
            case HOST_NOT_ALLOWED: return "host not allowed to access the LUN";
            case LINK_DOWN: return "inter-controller link down";
            case OWNERSHIP_MOVING: return "ownership moving";
            case CACHE_FULL: return "write cache full";
            case INJECTED: return "injected fault";
            case BAD_HOST_ID: return "bad host id";
            case TRANSFER_TOO_LONG: return "transfer longer than the maximum";
            case IO_ERROR: return "backing store I/O error";
            case BAD_FLAGS: return "flags not valid for the opcode";
            default: return "sense " + sense;
        }
    }
}
