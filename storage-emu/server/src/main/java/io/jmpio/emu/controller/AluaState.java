package io.jmpio.emu.controller;

/** ALUA asymmetric access states, numbered as SCSI SPC does (REPORT TARGET PORT GROUPS). */
public enum AluaState {
    ACTIVE_OPTIMIZED(0x0, "active/optimized"),
    ACTIVE_NON_OPTIMIZED(0x1, "active/non-optimized"),
    STANDBY(0x2, "standby"),
    UNAVAILABLE(0x3, "unavailable"),
    TRANSITIONING(0xF, "transitioning");

    private final int code;
    private final String label;

    AluaState(int code, String label) {
        this.code = code;
        this.label = label;
    }

    public int code() {
        return code;
    }

    public String label() {
        return label;
    }

    /** True when a port in this state serves I/O. */
    public boolean servesIo() {
        return this == ACTIVE_OPTIMIZED || this == ACTIVE_NON_OPTIMIZED;
    }

    /** The status a port in this state answers I/O with (GOOD when it serves I/O). */
    public int ioStatus() {
        switch (this) {
            case STANDBY: return Status.STANDBY;
            case UNAVAILABLE: return Status.UNAVAILABLE;
            case TRANSITIONING: return Status.TRANSITIONING;
            default: return Status.GOOD;
        }
    }

    public static AluaState ofCode(int code) {
        for (AluaState s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown ALUA state code " + code);
    }

    public static AluaState ofLabel(String label) {
        for (AluaState s : values()) {
            if (s.label.equals(label)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown ALUA state " + label);
    }
}
