package io.jmpio.emu.controller;

/**
 * What a controller answers a block request with, whichever front end or link message carried it (the NVMe/TCP
 * front end maps these to NVMe status codes; the link carries them in its reply frames). Path statuses say the
 * request may succeed on another path or later; request statuses belong to the request and would fail the same
 * way anywhere.
 */
public final class Status {
    public static final int GOOD = 0;
    /** This controller is not the owner and could not ship the request (link down). */
    public static final int NOT_OWNER = 1;
    /** Ownership of the LUN is moving; retry after a short delay. */
    public static final int TRANSITIONING = 2;
    /** This port is in ALUA standby for the LUN. */
    public static final int STANDBY = 3;
    /** This port or its controller is unavailable. */
    public static final int UNAVAILABLE = 4;
    public static final int OUT_OF_RANGE = 5;
    public static final int INVALID_OPCODE = 6;
    /** A header field or payload is invalid for the request; the sense names which. */
    public static final int INVALID_FIELD = 7;
    public static final int ACCESS_DENIED = 8;
    public static final int MEDIUM_ERROR = 9;
    /** The controller cannot take the request now (write cache full); retry. */
    public static final int BUSY = 10;
    /** The port failed the request (injected fault or broken port); retry on another path. */
    public static final int TRANSPORT_ERROR = 12;

    private Status() {
    }

    public static String name(int status) {
        switch (status) {
            case GOOD: return "GOOD";
            case NOT_OWNER: return "NOT_OWNER";
            case TRANSITIONING: return "TRANSITIONING";
            case STANDBY: return "STANDBY";
            case UNAVAILABLE: return "UNAVAILABLE";
            case OUT_OF_RANGE: return "OUT_OF_RANGE";
            case INVALID_OPCODE: return "INVALID_OPCODE";
            case INVALID_FIELD: return "INVALID_FIELD";
            case ACCESS_DENIED: return "ACCESS_DENIED";
            case MEDIUM_ERROR: return "MEDIUM_ERROR";
            case BUSY: return "BUSY";
            case TRANSPORT_ERROR: return "TRANSPORT_ERROR";
            default: return "status " + status;
        }
    }

    /** True when the failure is the path's (or the array's state), not the request's. */
    public static boolean isPathError(int status) {
        switch (status) {
            case NOT_OWNER:
            case TRANSITIONING:
            case STANDBY:
            case UNAVAILABLE:
            case BUSY:
            case TRANSPORT_ERROR:
                return true;
            default:
                return false;
        }
    }
}
