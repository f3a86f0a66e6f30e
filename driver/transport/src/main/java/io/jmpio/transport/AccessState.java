package io.jmpio.transport;

/**
 * A path's asymmetric access state for the target: NVMe ANA states (and ALUA's standby, which NVMe lacks).
 * Paths are grouped by it: optimized before non-optimized before standby; inaccessible paths carry no I/O;
 * a path in change is waited for (up to the target's transition time).
 */
public enum AccessState {
    OPTIMIZED("optimized"),
    NON_OPTIMIZED("non-optimized"),
    /** Serves I/O only when nothing better is left (ALUA standby; the array answers with a path status). */
    STANDBY("standby"),
    INACCESSIBLE("inaccessible"),
    PERSISTENT_LOSS("persistent-loss"),
    CHANGE("change");

    private final String label;

    AccessState(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** A path in this state carries I/O. */
    public boolean servesIo() {
        return this == OPTIMIZED || this == NON_OPTIMIZED;
    }
}
